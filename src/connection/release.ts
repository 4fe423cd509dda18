import type { QueryRunner } from 'typeorm';
import { ConnectionError } from '../errors/connection-errors';
import { toBastionError } from '../errors/sqlstate';

/** The part of a node-postgres client that release decisions read. */
interface PgClientLike {
  end(): Promise<void>;
  query(sql: string): Promise<unknown>;
  /** Status of the last ReadyForQuery: I (idle), T (in a transaction block) or E (in a failed one). */
  readonly _txStatus?: string | null;
}

/** The pg client a runner holds, if it connected (TypeORM keeps it in a protected field; connect() would acquire one). */
function clientOf(runner: QueryRunner): PgClientLike | undefined {
  return (runner as unknown as { databaseConnection?: PgClientLike }).databaseConnection;
}

/** Whether an error says the connection itself broke: such a connection is never reused. */
export function isConnectionFailure(error: unknown): boolean {
  return error !== undefined && toBastionError(error) instanceof ConnectionError;
}

/**
 * Returns a runner's connection to the pool, or discards it. TypeORM's `release()` takes no error, so pg-pool would
 * hand a broken (or still-in-a-transaction) socket to the next caller; ending the client first makes pg-pool remove
 * it instead.
 */
export async function releaseRunner(runner: QueryRunner, discard: boolean): Promise<void> {
  const client = clientOf(runner);
  if (discard && client && !runner.isReleased) client.end().catch(() => undefined);
  await runner.release();
}

/**
 * Runs `fn` with a pooled `runner`, then gives the connection back clean: discarded when `fn` failed because it
 * broke, rolled back first when `fn` left a transaction open (a raw BEGIN, a startTransaction() never committed),
 * discarded when that rollback fails too.
 */
export async function usingRunner<R>(runner: QueryRunner, fn: (runner: QueryRunner) => Promise<R>): Promise<R> {
  let failure: unknown;
  try {
    return await fn(runner);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await releaseRunner(runner, isConnectionFailure(failure) || !(await leftClean(runner)));
  }
}

/** Ends a transaction block the work left open; false when the connection cannot be made clean. */
async function leftClean(runner: QueryRunner): Promise<boolean> {
  const client = clientOf(runner);
  if (!client || runner.isReleased) return true;
  const status = client._txStatus;
  const open = typeof status === 'string' ? status !== 'I' : runner.isTransactionActive;
  if (!open) return true;
  try {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    else await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
