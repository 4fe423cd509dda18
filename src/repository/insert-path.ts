import type { EntityManager } from 'typeorm';
import { COPY_NULL, copyCodec, CopyCodec, UNPREDICTABLE } from './copy-codec';
import type { ColumnShape, EntityShape } from './entity-shape';
import type { OnConflict } from './statements';
import { tableFacts, TableFacts } from './table-facts';
import type { RowValues } from './validation';

/**
 * Rows from which COPY is taken. Measured on loopback (10k-row accounts, fsync on), COPY is level with one INSERT at
 * 30–60 rows and ahead from about 100 (3.1 vs 3.3 ms; 13.7 vs 20.4 ms at 1,000); below, the extra round trips it
 * needs (a transaction of its own, the key reservation) would cost more than it saves through an SSH tunnel.
 */
export const COPY_MIN_ROWS = 100;

/** Defaults that write the transaction's start time, which `SELECT now()` in the same transaction returns. */
const TRANSACTION_TIME = new Set(['now()', 'CURRENT_TIMESTAMP', 'transaction_timestamp()']);

/** A COPY, ready to run: everything is known except the reserved keys and the transaction time. */
export interface CopyPlan {
  /** Columns the COPY writes after the key when `keySequence` is set, else all of them (the key among them). */
  readonly columns: readonly ColumnShape[];
  /** The sequence to reserve one key per row from; the key is then the COPY's first column. */
  readonly keySequence: string | undefined;
  /** Columns left to a transaction-time default, read back as `now()` instead of row by row. */
  readonly transactionTime: readonly ColumnShape[];
  /** Per row, the columns as COPY text, tab-separated, without the reserved key and without the newline. */
  readonly lines: readonly string[];
  /** Per row, what the database will hold, by column name, as node-postgres would return it (no key, no time). */
  readonly stored: readonly Record<string, unknown>[];
}

/** How `insertRows` writes a call's rows, and why not COPY when it does not. */
export type InsertPath = { readonly kind: 'copy'; readonly plan: CopyPlan } | { readonly kind: 'json'; readonly reason: string };

/**
 * THE choice between the two ways of inserting rows. COPY (streamed, no RETURNING) is faster, but the caller must
 * get back what the database stored without reading it back (reading back costs what COPY saves; measured in
 * bench/create-many.bench.ts), so it is taken only when every column of every returned entity is known in advance:
 *
 * 1. A plain insert (no upsert) of at least COPY_MIN_ROWS rows.
 * 2. COPY writes the table as an INSERT would: a plain or partitioned table without rules (COPY ignores them), user
 *    triggers (they could change rows) or row-level security (COPY refuses it).
 * 3. The key is known: every row gives it, or no row does and it comes from a sequence (serial, or identity BY
 *    DEFAULT), from which the keys are reserved in one round trip.
 * 4. Every column that some row gives has a COPY codec (copy-codec.ts: not JSON, float4, local-time types, …)
 *    whose stored form of each given value is known (a timestamptz as a Date, not a string), and no row leaves it
 *    out when it has a default (COPY writes NULL, not DEFAULT).
 * 5. Every column returned to the caller that no row gives is the key, the version (always 1), nullable without a
 *    default (NULL), or a timestamptz whose default is the transaction time (`now()`, read once).
 *
 * Otherwise the rows go as JSON (`json_populate_recordset … RETURNING *`), which is always correct.
 */
export async function chooseInsertPath(
  manager: EntityManager,
  shape: EntityShape,
  rows: readonly RowValues[],
  onConflict: OnConflict | undefined,
): Promise<InsertPath> {
  if (onConflict) return json('an upsert needs ON CONFLICT');
  if (rows.length < COPY_MIN_ROWS) return json(`fewer than ${COPY_MIN_ROWS} rows`);
  const facts = await tableFacts(manager, shape);
  if (!facts.copyLikeInsert) return json('the table has rules, user triggers or row-level security, or is not a table');
  return planCopy(shape, facts, rows);
}

function planCopy(shape: EntityShape, facts: TableFacts, rows: readonly RowValues[]): InsertPath {
  const given = new Map<ColumnShape, number>();
  for (const values of rows) {
    for (const property of values.keys()) {
      const column = shape.columns.get(property)!;
      given.set(column, (given.get(column) ?? 0) + 1);
    }
  }
  const primary = shape.primary;
  const keyGiven = given.get(primary) ?? 0;
  let keySequence: string | undefined;
  if (keyGiven === 0) {
    const reservable = facts.primarySequence !== undefined && !factsOf(facts, primary).generatedAlways;
    if (!reservable || (primary.kind !== 'integer' && primary.kind !== 'bigint')) {
      return json(`${primary.property} is filled by the database, not from a sequence`);
    }
    keySequence = facts.primarySequence;
  } else if (keyGiven < rows.length) {
    return json(`some rows give ${primary.property} and some do not`);
  }

  const columns: ColumnShape[] = [];
  const codecs: CopyCodec[] = [];
  const transactionTime: ColumnShape[] = [];
  const nulls: ColumnShape[] = [];
  for (const column of shape.columns.values()) {
    const count = given.get(column) ?? 0;
    const columnFacts = factsOf(facts, column);
    if (count > 0 || column === shape.version) {
      const codec = copyCodec(column);
      if (!codec) return json(`${column.property} (${column.type}) has no COPY codec`);
      if (columnFacts.generatedAlways) return json(`${column.property} is generated by the database`);
      if (count < rows.length && column !== shape.version && columnFacts.defaultExpression !== undefined) {
        return json(`some rows leave ${column.property} to its default`);
      }
      columns.push(column);
      codecs.push(codec);
    } else if (column === primary || !returned(column)) {
      continue;
    } else if (columnFacts.defaultExpression === undefined && !columnFacts.generatedAlways && column.nullable) {
      nulls.push(column);
    } else if (column.type === 'timestamp with time zone' && TRANSACTION_TIME.has(columnFacts.defaultExpression ?? '')) {
      transactionTime.push(column);
    } else {
      return json(`${column.property} is filled by the database (${columnFacts.defaultExpression ?? 'generated'})`);
    }
  }

  const lines: string[] = new Array<string>(rows.length);
  const stored: Record<string, unknown>[] = new Array<Record<string, unknown>>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const values = rows[r]!;
    const record: Record<string, unknown> = {};
    let line = '';
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      let value = column === shape.version ? 1 : values.get(column.property);
      if (value === undefined) value = null;
      if (value !== null && returned(column)) {
        const form = codecs[c]!.stored(value);
        if (form === UNPREDICTABLE) return json(`a ${column.property} value's stored form is not known in advance`);
        record[column.databaseName] = form;
      } else {
        record[column.databaseName] = null;
      }
      line += (c === 0 ? '' : '\t') + (value === null ? COPY_NULL : codecs[c]!.field(value));
    }
    for (const column of nulls) record[column.databaseName] = null;
    lines[r] = line;
    stored[r] = record;
  }
  return { kind: 'copy', plan: { columns, keySequence, transactionTime, lines, stored } };
}

/** A column that `hydrate` puts on the returned entity (as TypeORM's find would). */
function returned(column: ColumnShape): boolean {
  return column.reference === undefined && column.metadata.isSelect;
}

function factsOf(facts: TableFacts, column: ColumnShape) {
  return facts.columns.get(column.databaseName) ?? { defaultExpression: undefined, generatedAlways: false };
}

function json(reason: string): InsertPath {
  return { kind: 'json', reason };
}
