import type { ColumnShape, EntityShape } from './entity-shape';

/** SQL text and its bind parameters. The text holds only identifiers from entity metadata, quoted. */
export interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** What an upsert does on a conflict: the conflict target, and the columns taken from the new row. */
export interface OnConflict {
  readonly target: readonly ColumnShape[];
  readonly update: readonly ColumnShape[];
}

const TARGET = '"target"';
const PATCH = '"patch"';

/**
 * INSERT of rows that all set the same `columns`, read from ONE json parameter by
 * `json_populate_recordset(NULL::table, $1)`: the table's own row type parses every value, so no type is
 * spelled out here, and a chunk of any size is one statement with one parameter (PostgreSQL's 65,535-parameter
 * limit never applies). With `onConflict` it is an upsert; the version column then moves on, as in an update.
 */
export function insertStatement(shape: EntityShape, columns: readonly ColumnShape[], json: string, onConflict?: OnConflict): Statement {
  const list = columns.map((c) => c.sqlName).join(', ');
  // With no column given, every column takes its default: PostgreSQL inserts a zero-column SELECT that way.
  let sql =
    `INSERT INTO ${shape.table} AS ${TARGET}${list ? ` (${list})` : ''} ` +
    `SELECT ${list} FROM json_populate_recordset(NULL::${shape.table}, $1::json)`;
  if (onConflict) {
    const assignments = onConflict.update.map((c) => `${c.sqlName} = EXCLUDED.${c.sqlName}`);
    if (assignments.length === 0) {
      // Nothing to change: a no-op assignment still makes RETURNING give the existing row (DO NOTHING would not).
      const first = onConflict.target[0]!.sqlName;
      assignments.push(`${first} = EXCLUDED.${first}`);
    } else {
      assignments.push(...maintained(shape));
    }
    sql += ` ON CONFLICT (${onConflict.target.map((c) => c.sqlName).join(', ')}) DO UPDATE SET ${assignments.join(', ')}`;
  }
  return { sql: `${sql} RETURNING *`, parameters: [json] };
}

/**
 * UPDATE of one live row by primary key, from one json parameter; with `expectedVersion`, only if the row still
 * has that version (compare-and-set in the same statement, never read-then-write).
 */
export function updateStatement(
  shape: EntityShape,
  columns: readonly ColumnShape[],
  json: string,
  id: unknown,
  expectedVersion: number | undefined,
): Statement {
  const assignments = [...columns.map((c) => `${c.sqlName} = ${PATCH}.${c.sqlName}`), ...maintained(shape)];
  const conditions = [`${TARGET}.${shape.primary.sqlName} = $2`];
  const parameters: unknown[] = [json, id];
  if (expectedVersion !== undefined && shape.version) {
    parameters.push(expectedVersion);
    conditions.push(`${TARGET}.${shape.version.sqlName} = $3`);
  }
  if (shape.deleteDate) conditions.push(`${TARGET}.${shape.deleteDate.sqlName} IS NULL`);
  return {
    sql:
      `UPDATE ${shape.table} AS ${TARGET} SET ${assignments.join(', ')} ` +
      `FROM json_populate_record(NULL::${shape.table}, $1::json) AS ${PATCH} ` +
      `WHERE ${conditions.join(' AND ')} RETURNING ${TARGET}.*`,
    parameters,
  };
}

/** Whether a live row with this primary key exists (to tell "not found" from "stale version" after an update). */
export function liveRowStatement(shape: EntityShape, id: unknown): Statement {
  const live = shape.deleteDate ? ` AND ${shape.deleteDate.sqlName} IS NULL` : '';
  return { sql: `SELECT 1 FROM ${shape.table} WHERE ${shape.primary.sqlName} = $1${live}`, parameters: [id] };
}

/** DELETE of one row by primary key, soft-deleted or not. */
export function deleteStatement(shape: EntityShape, id: unknown): Statement {
  return { sql: `DELETE FROM ${shape.table} WHERE ${shape.primary.sqlName} = $1`, parameters: [id] };
}

/** Sets (`deleted`) or clears the delete-date column of one row that is not already in that state. */
export function softDeleteStatement(shape: EntityShape, deleteDate: ColumnShape, id: unknown, deleted: boolean): Statement {
  const column = deleteDate.sqlName;
  const assignments = [`${column} = ${deleted ? 'CURRENT_TIMESTAMP' : 'NULL'}`, ...maintained(shape)];
  return {
    sql:
      `UPDATE ${shape.table} AS ${TARGET} SET ${assignments.join(', ')} ` +
      `WHERE ${TARGET}.${shape.primary.sqlName} = $1 AND ${TARGET}.${column} IS ${deleted ? 'NULL' : 'NOT NULL'}`,
    parameters: [id],
  };
}

/** The columns every change maintains: the version moves on, the update date is now. */
function maintained(shape: EntityShape): string[] {
  const assignments: string[] = [];
  if (shape.version) assignments.push(`${shape.version.sqlName} = ${TARGET}.${shape.version.sqlName} + 1`);
  if (shape.updateDate) assignments.push(`${shape.updateDate.sqlName} = CURRENT_TIMESTAMP`);
  return assignments;
}

/**
 * The transaction's start time (what `now()` defaults write) and, with a sequence, `rows` keys reserved from it, as
 * one comma-separated text: one round trip and one value to parse, whatever the number of rows.
 */
export function reserveStatement(sequence: string | undefined, rows: number): Statement {
  if (sequence === undefined) return { sql: 'SELECT now() AS now', parameters: [] };
  return {
    sql: "SELECT now() AS now, string_agg(nextval($1::regclass)::text, ',') AS keys FROM generate_series(1, $2)",
    parameters: [sequence, rows],
  };
}

/** COPY … FROM STDIN in text format (tab-separated, `\N` for NULL) into the given columns. */
export function copyStatement(shape: EntityShape, columns: readonly ColumnShape[]): string {
  return `COPY ${shape.table} (${columns.map((c) => c.sqlName).join(', ')}) FROM STDIN`;
}
