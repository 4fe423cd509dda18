import { once } from 'node:events';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ObjectLiteral, QueryRunner } from 'typeorm';
import type { EntityShape } from './entity-shape';
import type { CopyPlan } from './insert-path';
import { hydrate } from './row-codec';
import { execute } from './statement-runner';
import { copyStatement, reserveStatement } from './statements';

/** Characters of COPY text per CopyData message: large enough that 10k rows are a few writes. */
const WRITE_CHARS = 256 * 1024;

/**
 * Runs a COPY plan on `runner`, which must be in a transaction: reserves the keys and reads the transaction time
 * (one round trip), streams the rows, then builds the entities from the plan, in the plan's order. Nothing is read
 * back: `chooseInsertPath` took this path only because every returned column is known.
 */
export async function copyInsert<T extends ObjectLiteral>(runner: QueryRunner, shape: EntityShape, plan: CopyPlan): Promise<T[]> {
  const count = plan.lines.length;
  let keys: string[] | undefined;
  let now: Date | undefined;
  if (plan.keySequence !== undefined || plan.transactionTime.length > 0) {
    const { rows } = await execute(runner, reserveStatement(plan.keySequence, count));
    now = rows[0]!.now as Date;
    if (plan.keySequence !== undefined) keys = (rows[0]!.keys as string).split(',');
  }
  const columns = keys ? [shape.primary, ...plan.columns] : plan.columns;
  const copied = await copyRows(runner, copyStatement(shape, columns), plan, keys);
  if (copied !== count) throw new Error(`COPY wrote ${copied} rows for ${count}`);

  const primary = shape.primary.databaseName;
  // node-postgres returns int4 as a number and int8 as a string; so must the keys.
  const numericKey = shape.primary.kind === 'integer';
  const results = new Array<T>(count);
  for (let i = 0; i < count; i++) {
    const row = plan.stored[i]!;
    if (keys) row[primary] = numericKey ? Number(keys[i]) : keys[i];
    for (const column of plan.transactionTime) row[column.databaseName] = new Date(now!.getTime());
    results[i] = hydrate<T>(shape, row);
  }
  return results;
}

/**
 * Streams the rows into `COPY … FROM STDIN` on the runner's own connection, and tells TypeORM's subscribers about
 * it as `runner.query` would (the query log and the transaction's query guard see it like any statement). Resolves
 * with the number of rows the server wrote; rejects with the server's error (a unique violation, …) as it came.
 */
async function copyRows(runner: QueryRunner, sql: string, plan: CopyPlan, keys: readonly string[] | undefined): Promise<number> {
  const client = (await runner.connect()) as PoolClient;
  runner.connection.logger.logQuery(sql, undefined, runner);
  await runner.broadcaster.broadcast('BeforeQuery', sql, undefined);
  const started = Date.now();
  let written: number;
  try {
    written = await stream(client, sql, plan, keys);
  } catch (error) {
    runner.connection.logger.logQueryError(error as Error, sql, undefined, runner);
    await runner.broadcaster.broadcast('AfterQuery', sql, undefined, false, undefined, undefined, error);
    throw error;
  }
  const raw = { command: 'COPY', rowCount: written };
  await runner.broadcaster.broadcast('AfterQuery', sql, undefined, true, Date.now() - started, raw, undefined);
  return written;
}

/** Writes the plan's rows as COPY text in large chunks, minding back-pressure; stops at the server's first error. */
async function stream(client: PoolClient, sql: string, plan: CopyPlan, keys: readonly string[] | undefined): Promise<number> {
  const copy = client.query(copyFrom(sql));
  let failure: unknown;
  const done = new Promise<void>((resolve, reject) => {
    copy.on('finish', resolve);
    copy.on('error', (error) => reject((failure = error)));
  });
  done.catch(() => undefined); // Awaited below; until then a failure only stops the writing.
  let chunk = '';
  const separator = plan.columns.length > 0 ? '\t' : '';
  for (let i = 0; i < plan.lines.length && failure === undefined; i++) {
    chunk += keys ? `${keys[i]}${separator}${plan.lines[i]}\n` : `${plan.lines[i]}\n`;
    if (chunk.length >= WRITE_CHARS) {
      // pg-copy-streams must not be written to once the server has failed the COPY: it has let go of the socket.
      if (!copy.write(chunk)) await Promise.race([once(copy, 'drain'), done]).catch(() => undefined);
      chunk = '';
    }
  }
  if (failure === undefined) copy.end(chunk);
  await done;
  return copy.rowCount;
}
