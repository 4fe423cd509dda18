import type { ColumnShape } from './entity-shape';

/** Constraint name → message, as in a ValidationIssue; empty when the value fits the column. */
export type Violations = Record<string, string>;

const INT_RANGE: Record<string, readonly [number, number]> = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
const MAX_JSON_DEPTH = 64;

/**
 * Checks a non-null value against what its column can store (`write`) or be compared with (`compare`), so that a
 * wrong type, an out-of-range number, a decimal PostgreSQL would silently round, or a string longer than the column
 * is rejected before any SQL.
 */
export function columnViolations(column: ColumnShape, value: unknown, use: 'write' | 'compare' = 'write'): Violations {
  if (column.isArray) {
    if (!Array.isArray(value)) return { isArray: `${column.property} must be an array` };
    for (const element of value) {
      if (element === null) continue;
      const inner = scalarViolations(column, element, use);
      if (Object.keys(inner).length > 0) return inner;
    }
    return {};
  }
  return scalarViolations(column, value, use);
}

function scalarViolations(column: ColumnShape, value: unknown, use: 'write' | 'compare'): Violations {
  const name = column.property;
  switch (column.kind) {
    case 'integer': {
      const [min, max] = INT_RANGE[column.type] ?? INT_RANGE.integer!;
      const n = typeof value === 'string' && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max
        ? {}
        : { isInt: `${name} must be an integer from ${min} to ${max}` };
    }
    case 'bigint':
      return isInt8(value) ? {} : { isInt: `${name} must be a 64-bit integer (a bigint, a safe integer, or a string of digits)` };
    case 'decimal':
      return decimalViolations(column, value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? {} : { isNumber: `${name} must be a finite number` };
    case 'boolean':
      return typeof value === 'boolean' ? {} : { isBoolean: `${name} must be true or false` };
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? {} : { isUuid: `${name} must be a UUID` };
    case 'string':
      return stringViolations(column, value, use);
    case 'timestamp':
      return isValidDate(value) || (typeof value === 'string' && ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value)))
        ? {}
        : { isDate: `${name} must be a valid Date or an ISO 8601 timestamp string` };
    case 'date':
      return isValidDate(value) || (typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value)))
        ? {}
        : { isDate: `${name} must be a valid Date or a YYYY-MM-DD string` };
    case 'json':
      return isJsonValue(value, 0) ? {} : { isJson: `${name} must be JSON data (objects, arrays, strings, finite numbers, booleans, null)` };
    case 'enum':
      return column.enumValues?.includes(value as string | number)
        ? {}
        : { isEnum: `${name} must be one of ${(column.enumValues ?? []).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'other':
      return (typeof value === 'string' && !value.includes('\u0000')) ||
        (typeof value === 'number' && Number.isFinite(value)) ||
        typeof value === 'boolean' ||
        isValidDate(value)
        ? {}
        : { isScalar: `${name} must be a string, a finite number, a boolean or a Date` };
    default: {
      const never: never = column.kind;
      throw new Error(`unhandled value kind ${String(never)}`);
    }
  }
}

/** A string longer than the column cannot be stored, but comparing with one is fine (it matches nothing). */
function stringViolations(column: ColumnShape, value: unknown, use: 'write' | 'compare'): Violations {
  const name = column.property;
  if (typeof value !== 'string') return { isString: `${name} must be a string` };
  if (value.includes('\u0000')) return { noNullCharacter: `${name} must not contain NUL (\\u0000) characters` };
  if (use === 'write' && column.maxLength !== undefined && [...value].length > column.maxLength) {
    return { maxLength: `${name} must be at most ${column.maxLength} characters` };
  }
  return {};
}

/** numeric(p, s): a decimal string (or a number that prints as one) that fits without rounding. */
function decimalViolations(column: ColumnShape, value: unknown): Violations {
  const text = typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
  const match = text === undefined ? null : DECIMAL.exec(text);
  const { precision, scale } = column;
  const fits = precision === undefined ? 'any number of digits' : `at most ${precision - (scale ?? 0)} digits before the point and ${scale ?? 0} after it`;
  const message = `${column.property} must be a decimal string such as "1234.50" with ${fits} (money is never a float)`;
  if (!match) return { isDecimal: message };
  const integerDigits = match[1]!.replace(/^0+(?=\d)/, '').length;
  const fractionDigits = match[2]?.length ?? 0;
  if (precision !== undefined && (fractionDigits > (scale ?? 0) || integerDigits > precision - (scale ?? 0))) {
    return { isDecimal: message };
  }
  return {};
}

function isInt8(value: unknown): boolean {
  if (typeof value === 'bigint') return value >= INT8_MIN && value <= INT8_MAX;
  if (typeof value === 'number') return Number.isSafeInteger(value);
  if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) {
    const n = BigInt(value);
    return n >= INT8_MIN && n <= INT8_MAX;
  }
  return false;
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** Plain JSON data only: no functions, symbols, bigints, NaN, class instances, NUL characters or deep cycles. */
function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'string') return !value.includes('\u0000');
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.entries(value).every(([key, v]) => !key.includes('\u0000') && isJsonValue(v, depth + 1));
  }
  return false;
}
