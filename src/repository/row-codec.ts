import type { ObjectLiteral } from 'typeorm';
import type { ColumnShape, EntityShape } from './entity-shape';
import type { RowValues } from './validation';

/** A row as a JSON object keyed by column name, the way `json_populate_record(set)` reads it. */
export type JsonRecord = Record<string, unknown>;

/**
 * Turns validated values into a JSON record for `json_populate_record(set)(NULL::table, $1)`: each value goes
 * through TypeORM's own `preparePersistentValue` (transformers, dates, JSON columns) and is then written as
 * PostgreSQL would read it from a bind parameter, so the table's own column types do the parsing. Numerics stay
 * strings; nothing is ever spliced into SQL.
 */
export function encodeRow(shape: EntityShape, values: RowValues): JsonRecord {
  const driver = shape.metadata.connection.driver;
  const record: JsonRecord = {};
  for (const [property, value] of values) {
    const column = shape.columns.get(property)!;
    record[column.databaseName] = jsonValue(column, value === null ? null : driver.preparePersistentValue(value, column.metadata));
  }
  return record;
}

/** An entity instance from a row PostgreSQL returned (`RETURNING *`), hydrated as TypeORM's find would. */
export function hydrate<T extends ObjectLiteral>(shape: EntityShape, row: Record<string, unknown>): T {
  const driver = shape.metadata.connection.driver;
  const entity = shape.metadata.create(undefined, { fromDeserializer: true }) as T;
  for (const column of shape.columns.values()) {
    // As with TypeORM's find: relations stay unloaded, and `select: false` columns stay out.
    if (column.reference !== undefined || !column.metadata.isSelect || !(column.databaseName in row)) continue;
    column.metadata.setEntityValue(entity, driver.prepareHydratedValue(row[column.databaseName], column.metadata));
  }
  return entity;
}

function jsonValue(column: ColumnShape, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  // TypeORM serializes json/jsonb values to text for a bind parameter; inside a JSON record they stay JSON.
  if ((column.type === 'json' || column.type === 'jsonb') && typeof value === 'string') return JSON.parse(value) as unknown;
  // TypeORM sends booleans as 1/0; JSON says true/false.
  if (column.kind === 'boolean' && typeof value === 'number') return value !== 0;
  return scalar(value);
}

/** A value as a bind parameter: bigints as their digits (node-postgres does not serialize them). */
export function toParameter(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function scalar(value: unknown): unknown {
  if (value instanceof Date) return dateToPgString(value);
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map((v: unknown) => (v === null || v === undefined ? null : scalar(v)));
  return value;
}

/**
 * A Date as node-postgres sends it (local time with its UTC offset), so a `timestamp` column stores the same
 * wall-clock time as through TypeORM and a `timestamptz` column the same instant.
 */
export function dateToPgString(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  let offset = -date.getTimezoneOffset();
  let year = date.getFullYear();
  const bc = year < 1;
  if (bc) year = Math.abs(year) + 1;
  let text =
    `${pad(year, 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  text += offset < 0 ? '-' : '+';
  offset = Math.abs(offset);
  text += `${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`;
  return bc ? `${text} BC` : text;
}
