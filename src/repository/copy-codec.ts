import type { ColumnShape } from './entity-shape';
import { dateToPgString } from './row-codec';

/**
 * How values of one column travel in a COPY (text format) and what the database will hold for them afterwards.
 * `stored` returns the value exactly as node-postgres would hand it back from `RETURNING` (before TypeORM's
 * hydration), or UNPREDICTABLE when it cannot know that for this value; the COPY path then is not taken.
 */
export interface CopyCodec {
  /** The column as COPY text, escaped; never called with null (that is `\N`). */
  field(value: unknown): string;
  stored(value: unknown): unknown;
}

/** `CopyCodec.stored` for a value whose stored form is not known in advance (a timestamp given as a string, …). */
export const UNPREDICTABLE: unique symbol = Symbol('unpredictable');

/** COPY's NULL in text format. */
export const COPY_NULL = '\\N';

const SPECIAL = /[\\\n\r\t]/;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const ARRAY_ELEMENT_TYPES = new Set(['text', 'character varying', 'integer', 'smallint']);
/** Years node-postgres and `dateToPgString` both write and read without special cases. */
const MIN_YEAR = 1000;
const MAX_YEAR = 9999;

/**
 * The codec of a column, or undefined when the COPY path cannot write it with a known result: a transformer,
 * JSON (jsonb reorders keys), float4 (rounds), `timestamp`/`date` (local-time conversions), `other` types and
 * arrays of anything but text and integers. Every kind with a codec is one where TypeORM's
 * `preparePersistentValue` is the identity (booleans aside, which it sends as 1/0), so values go as validated.
 */
export function copyCodec(column: ColumnShape): CopyCodec | undefined {
  if (column.metadata.transformer) return undefined;
  if (column.isArray) return ARRAY_ELEMENT_TYPES.has(column.type) ? arrayCodec(column) : undefined;
  switch (column.kind) {
    case 'integer':
      return { field: plain, stored: (v) => Number(v) || 0 };
    case 'bigint':
      return { field: plain, stored: (v) => BigInt(v as string | number | bigint).toString() };
    case 'decimal': {
      const scale = column.precision !== undefined ? (column.scale ?? 0) : column.scale;
      return { field: plain, stored: (v) => storedDecimal(String(v), scale) };
    }
    case 'float':
      // String(-0) is "0", so -0 is stored as 0 (as through JSON).
      return column.type === 'double precision' ? { field: plain, stored: (v) => (v as number) || 0 } : undefined;
    case 'boolean':
      return { field: (v) => (v ? 't' : 'f'), stored: (v) => v };
    case 'uuid':
      return { field: plain, stored: (v) => (v as string).toLowerCase() };
    case 'string':
      if (column.type === 'character') return column.maxLength === undefined ? undefined : charCodec(column.maxLength);
      return { field: text, stored: (v) => v };
    case 'enum':
      return column.enumValues?.every((v) => typeof v === 'string') ? { field: text, stored: (v) => v } : undefined;
    case 'timestamp':
      return column.type === 'timestamp with time zone' ? timestamptzCodec : undefined;
    case 'date':
    case 'json':
    case 'other':
      return undefined;
    default: {
      const never: never = column.kind;
      throw new Error(`unhandled value kind ${String(never)}`);
    }
  }
}

/** Escapes text for COPY's text format: backslash, newline, carriage return and tab (the rest goes as is). */
export function copyText(value: string): string {
  return SPECIAL.test(value) ? value.replace(/[\\\n\r\t]/g, escapeSpecial) : value;
}

function escapeSpecial(c: string): string {
  return c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t';
}

/** Numbers, bigints and digit strings: nothing to escape (validation let only digits, sign and point through). */
function plain(value: unknown): string {
  return String(value);
}

function text(value: unknown): string {
  return copyText(value as string);
}

/** char(n) stores the string padded with spaces to n characters, and gives it back that way. */
function charCodec(length: number): CopyCodec {
  return { field: text, stored: (v) => (v as string).padEnd(length + (v as string).length - [...(v as string)].length, ' ') };
}

const timestamptzCodec: CopyCodec = {
  // A string goes as is, parsed by PostgreSQL as from an INSERT (only for columns that are not read back).
  field: (v) => (v instanceof Date ? dateToPgString(v) : copyText(String(v))),
  // Strings are parsed by PostgreSQL's own rules (session TimeZone, DateStyle): not predicted.
  stored: (v) => {
    if (!(v instanceof Date)) return UNPREDICTABLE;
    const year = v.getFullYear();
    const utcYear = v.getUTCFullYear();
    return year < MIN_YEAR || year > MAX_YEAR || utcYear < MIN_YEAR || utcYear > MAX_YEAR ? UNPREDICTABLE : new Date(v.getTime());
  },
};

/**
 * numeric as PostgreSQL prints it: no leading zeros, the column's scale (padded with zeros; validation already
 * refused more digits than it has), or the given digits when the column has no scale, and no negative zero.
 */
function storedDecimal(value: string, scale: number | undefined): string {
  const [, sign, integer, fraction = ''] = DECIMAL.exec(value)!;
  const digits = integer!.replace(/^0+(?=\d)/, '');
  const decimals = scale === undefined ? fraction : fraction.padEnd(scale, '0');
  const zero = /^0*$/.test(digits) && /^0*$/.test(decimals);
  return `${sign && !zero ? '-' : ''}${digits}${decimals ? `.${decimals}` : ''}`;
}

/** text[], varchar[], integer[]: an array literal (`{"a","b\"c",NULL}`), escaped again for COPY. */
function arrayCodec(column: ColumnShape): CopyCodec {
  const numeric = column.type === 'integer' || column.type === 'smallint';
  const element = numeric
    ? (v: unknown) => (v === null ? 'NULL' : String(v))
    : (v: unknown) => (v === null ? 'NULL' : `"${(v as string).replace(/["\\]/g, '\\$&')}"`);
  return {
    field: (v) => copyText(`{${(v as unknown[]).map(element).join(',')}}`),
    stored: (v) => (v as unknown[]).map((e) => (e === null ? null : numeric ? Number(e) || 0 : e)),
  };
}
