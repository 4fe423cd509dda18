import { performance } from 'node:perf_hooks';
import type { EntityManager, ObjectLiteral } from 'typeorm';
import type { Log } from '../logging/logger';
import type { ColumnShape, EntityShape } from './entity-shape';
import { copyInsert } from './copy-insert';
import { chooseInsertPath } from './insert-path';
import { encodeRow, hydrate } from './row-codec';
import { execute, inTransaction, runStatement, StatementResult } from './statement-runner';
import { insertStatement, OnConflict } from './statements';
import type { RowValues } from './validation';

/** How `insertRows` splits and what it does on a conflict. */
export interface InsertOptions {
  /** Rows per INSERT statement. */
  readonly chunkRows: number;
  /** Turns the insert into an upsert. */
  readonly onConflict?: OnConflict;
}

/** One INSERT statement: rows that set the same columns, as one JSON array, and where they came from. */
interface Chunk {
  readonly columns: readonly ColumnShape[];
  readonly json: string;
  /** Index in the caller's array of each row of `json`. */
  readonly indexes: readonly number[];
}

/** Keeps one statement's JSON parameter far below PostgreSQL's 1 GB limit for a value. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * Inserts validated rows and returns them as entities, in the caller's order, with every column the database
 * filled in (ids, defaults, version, timestamps). More than one statement runs in one transaction: the ambient one
 * when there is one, else its own, so a failing row rolls back the whole call.
 *
 * Two ways, chosen by `chooseInsertPath` (insert-path.ts), measured in bench/create-many.bench.ts:
 * - COPY (copy-insert.ts) when what the database stores is known in advance (keys reserved from the sequence,
 *   transaction-time defaults, values whose stored form is predictable): no RETURNING, nothing read back.
 * - Otherwise each chunk is ONE `INSERT … SELECT … FROM json_populate_recordset(NULL::table, $1) RETURNING *` with
 *   the rows as one JSON parameter. It was the fastest INSERT … RETURNING (ahead of `unnest` arrays, of multi-row
 *   VALUES chunked under 65,535 parameters, and of COPY into a temp table then INSERT … SELECT … RETURNING); the
 *   table's own row type parses every value, so no SQL type is spelled per column, and one parameter per statement
 *   means PostgreSQL's 65,535-parameter limit never applies. Rows that leave different columns to their defaults go
 *   to different statements (a missing key would be NULL, not DEFAULT).
 */
export async function insertRows<T extends ObjectLiteral>(
  manager: EntityManager,
  shape: EntityShape,
  rows: readonly RowValues[],
  options: InsertOptions,
  log: Log,
): Promise<T[]> {
  if (rows.length === 0) return [];
  const started = performance.now();
  const path = await chooseInsertPath(manager, shape, rows, options.onConflict);
  let statements: number;
  let results: T[];
  if (path.kind === 'copy') {
    statements = 1;
    results = await inTransaction(manager, log, (runner) => copyInsert<T>(runner, shape, path.plan));
  } else {
    const chunks = planChunks(shape, rows, options.chunkRows);
    statements = chunks.length;
    results = await insertJson<T>(manager, shape, chunks, options.onConflict, log, rows.length);
  }
  if (rows.length > 1) {
    const how = path.kind === 'copy' ? { via: 'copy' } : { via: 'json', reason: path.reason };
    log.debug('bulk insert', { entity: shape.name, rows: rows.length, statements, ...how, ms: Math.round(performance.now() - started) });
  }
  return results;
}

async function insertJson<T extends ObjectLiteral>(
  manager: EntityManager,
  shape: EntityShape,
  chunks: readonly Chunk[],
  onConflict: OnConflict | undefined,
  log: Log,
  count: number,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  const store = (chunk: Chunk, result: StatementResult) => {
    if (result.rows.length !== chunk.indexes.length) {
      throw new Error(`INSERT returned ${result.rows.length} rows for ${chunk.indexes.length}; is a trigger filtering rows?`);
    }
    for (let i = 0; i < result.rows.length; i++) results[chunk.indexes[i]!] = hydrate<T>(shape, result.rows[i]!);
  };
  const statement = (chunk: Chunk) => insertStatement(shape, chunk.columns, chunk.json, onConflict);
  if (chunks.length === 1) {
    store(chunks[0]!, await runStatement(manager, statement(chunks[0]!)));
  } else {
    await inTransaction(manager, log, async (runner) => {
      for (const chunk of chunks) store(chunk, await execute(runner, statement(chunk)));
    });
  }
  return results;
}

/** Groups rows by the columns they set, then cuts each group into chunks of at most `chunkRows` rows and MAX_CHUNK_BYTES. */
function planChunks(shape: EntityShape, rows: readonly RowValues[], chunkRows: number): Chunk[] {
  const all = [...shape.columns.values()];
  const groups = new Map<string, { columns: ColumnShape[]; indexes: number[]; parts: string[] }>();
  rows.forEach((values, index) => {
    let key = '';
    for (const column of all) if (values.has(column.property) || column === shape.version) key += `${column.databaseName}\u0000`;
    let group = groups.get(key);
    if (!group) {
      const columns = all.filter((c) => values.has(c.property) || c === shape.version);
      groups.set(key, (group = { columns, indexes: [], parts: [] }));
    }
    const record = encodeRow(shape, values);
    // The version column starts at 1, as TypeORM's own inserts do (TypeORM's schemas give it no default).
    if (shape.version) record[shape.version.databaseName] = 1;
    group.indexes.push(index);
    group.parts.push(JSON.stringify(record));
  });
  const chunks: Chunk[] = [];
  for (const { columns, indexes, parts } of groups.values()) {
    let start = 0;
    while (start < parts.length) {
      let end = start;
      let bytes = 2;
      while (end < parts.length && end - start < chunkRows && (end === start || bytes + parts[end]!.length + 1 <= MAX_CHUNK_BYTES)) {
        bytes += parts[end]!.length + 1;
        end++;
      }
      chunks.push({ columns, json: `[${parts.slice(start, end).join(',')}]`, indexes: indexes.slice(start, end) });
      start = end;
    }
  }
  return chunks;
}
