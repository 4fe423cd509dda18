import { FindOperator, FindOptionsWhere, InstanceChecker, IsNull, ObjectLiteral } from 'typeorm';
import { ValidationError, ValidationIssue } from '../errors/domain-errors';
import { columnViolations } from './column-values';
import type { ColumnShape, EntityShape } from './entity-shape';

/** Sort direction of one order key. */
export type SortDirection = 'ASC' | 'DESC' | 'asc' | 'desc';

/** `{ createdAt: 'DESC' }`: keys are entity properties, in priority order. */
export type Order<T> = { readonly [K in keyof T]?: SortDirection };

/**
 * `{ ownerId: 7, currency: In(['EUR', 'USD']) }`: every key is a column property, every value a parameter.
 * `null` matches NULL; `undefined` is rejected (it would otherwise silently match everything).
 * Operators allowed: Equal, Not, LessThan(OrEqual), MoreThan(OrEqual), Between, In, Like, ILike, IsNull.
 */
export type Filter<T> = { readonly [K in keyof T]?: T[K] | FindOperator<T[K]> | null };

/** One validated ORDER BY key. */
export interface OrderKey {
  readonly column: ColumnShape;
  readonly direction: 'ASC' | 'DESC';
}

/** Largest `In([...])` list: each element is one bind parameter, and PostgreSQL allows 65,535 per statement. */
export const MAX_IN_VALUES = 10_000;

const COMPARISONS = new Set(['equal', 'not', 'lessThan', 'lessThanOrEqual', 'moreThan', 'moreThanOrEqual']);
const PATTERNS = new Set(['like', 'ilike']);

/**
 * What a filter must be: `optional` (undefined means no filter), `object` (an object, `{}` meaning every row), or
 * `condition` (an object naming at least one column).
 */
export type WhereRequirement = 'optional' | 'object' | 'condition';

/** A checked part of a query, and what was wrong with it (empty when nothing). */
export interface Checked<V> {
  readonly value: V;
  readonly issues: readonly ValidationIssue[];
}

/**
 * Checks a filter against the entity's columns and returns a fresh TypeORM `where` holding only what was checked:
 * known column properties, values that fit their column, allowed operators. Anything else is a ValidationError
 * naming the key; nothing of the input reaches SQL except as a bind parameter.
 */
export function guardWhere<T extends ObjectLiteral>(
  shape: EntityShape,
  where: unknown,
  subject: string,
  require: WhereRequirement = 'optional',
): FindOptionsWhere<T> {
  const checked = checkWhere<T>(shape, where, require);
  if (checked.issues.length > 0) throw new ValidationError(subject, checked.issues);
  return checked.value;
}

/** `guardWhere` without the throw. */
export function checkWhere<T extends ObjectLiteral>(
  shape: EntityShape,
  where: unknown,
  require: WhereRequirement = 'optional',
): Checked<FindOptionsWhere<T>> {
  if (where === undefined && require === 'optional') return { value: {}, issues: [] };
  if (!isPlainObject(where)) {
    return { value: {}, issues: [{ property: 'where', constraints: { isObject: 'where must be a plain object of column: value' } }] };
  }
  const issues: ValidationIssue[] = [];
  const guarded: Record<string, unknown> = {};
  for (const [property, value] of Object.entries(where)) {
    const column = shape.columns.get(property);
    const problem = column ? filterViolations(column, value) : { isColumn: `${property} is not a column of ${shape.name}` };
    if (Object.keys(problem).length > 0) issues.push({ property: `where.${property}`, constraints: problem });
    else guarded[property] = value === null ? IsNull() : value;
  }
  if (issues.length === 0 && require === 'condition' && Object.keys(guarded).length === 0) {
    issues.push({ property: 'where', constraints: { isNotEmpty: 'where must name at least one column' } });
  }
  return { value: guarded as FindOptionsWhere<T>, issues };
}

/** Checks an order against the entity's columns; the primary key is appended so that the order is total. */
export function checkOrder(shape: EntityShape, order: unknown): Checked<OrderKey[]> {
  const keys: OrderKey[] = [];
  const issues: ValidationIssue[] = [];
  if (order !== undefined && !isPlainObject(order)) {
    issues.push({ property: 'order', constraints: { isObject: "order must be a plain object of column: 'ASC' | 'DESC'" } });
  } else if (order !== undefined) {
    for (const [property, direction] of Object.entries(order)) {
      const column = shape.columns.get(property);
      const normalized = typeof direction === 'string' ? direction.toUpperCase() : undefined;
      if (!column) issues.push({ property: `order.${property}`, constraints: { isColumn: `${property} is not a column of ${shape.name}` } });
      else if (!column.comparable) {
        const why = column.reference === undefined ? '' : ' (it is a relation; sort on its foreign key column property)';
        issues.push({ property: `order.${property}`, constraints: { isSortable: `${property} cannot be sorted${why}` } });
      }
      else if (normalized !== 'ASC' && normalized !== 'DESC') {
        issues.push({ property: `order.${property}`, constraints: { isIn: `order.${property} must be 'ASC' or 'DESC'` } });
      } else keys.push({ column, direction: normalized });
    }
  }
  if (!keys.some((k) => k.column === shape.primary)) keys.push({ column: shape.primary, direction: 'ASC' });
  return { value: keys, issues };
}

/** Checks a primary-key value against the primary column's type. */
export function guardId(shape: EntityShape, id: unknown): unknown {
  const problem =
    id === undefined || id === null
      ? { isDefined: `${shape.primary.property} must be given` }
      : columnViolations(shape.primary, id, 'compare');
  if (Object.keys(problem).length > 0) {
    throw new ValidationError(`${shape.name} id`, [{ property: shape.primary.property, constraints: problem }]);
  }
  return id;
}

function filterViolations(column: ColumnShape, value: unknown): Record<string, string> {
  const name = column.property;
  if (value === undefined) {
    return { isDefined: `where.${name} is undefined; leave the key out, or pass null to match NULL` };
  }
  if (value === null) return {};
  if (column.reference !== undefined) {
    return { isFilterable: `${name} is a relation; declare its foreign key as a column property to filter on it` };
  }
  if (!column.comparable) return { isFilterable: `${name} (${column.type}${column.isArray ? '[]' : ''}) cannot be compared in a filter; write a custom query` };
  if (InstanceChecker.isFindOperator(value)) return operatorViolations(column, value);
  return columnViolations(column, value, 'compare');
}

function operatorViolations(column: ColumnShape, operator: FindOperator<unknown>): Record<string, string> {
  const name = column.property;
  const type = operator.type;
  if (operator.getSql !== undefined || operator.objectLiteralParameters !== undefined) {
    return { isOperator: `${name} uses an operator that carries SQL; write a custom query` };
  }
  if (type === 'isNull') return {};
  if (type === 'not' && operator.child !== undefined) return operatorViolations(column, operator.child);
  if (COMPARISONS.has(type)) return valueViolations(column, operator.value);
  if (PATTERNS.has(type)) {
    if (column.kind !== 'string') return { isOperator: `${type} applies to text columns only` };
    const pattern = operator.value as unknown;
    return typeof pattern === 'string' && !pattern.includes('\u0000')
      ? {}
      : { isString: `${name} pattern must be a string without NUL characters` };
  }
  if (type === 'between') {
    const bounds = operator.value as unknown;
    if (!Array.isArray(bounds) || bounds.length !== 2) return { isOperator: 'Between needs two values' };
    return bounds.reduce<Record<string, string>>((found, bound) => ({ ...found, ...valueViolations(column, bound) }), {});
  }
  if (type === 'in') {
    const values = operator.value as unknown;
    if (!Array.isArray(values)) return { isOperator: 'In needs an array of values' };
    if (values.length > MAX_IN_VALUES) return { isOperator: `In takes at most ${MAX_IN_VALUES} values` };
    for (const value of values) {
      const violations = valueViolations(column, value);
      if (Object.keys(violations).length > 0) return violations;
    }
    return {};
  }
  return { isOperator: `the ${type} operator is not allowed in a filter; write a custom query` };
}

function valueViolations(column: ColumnShape, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return { isDefined: `${column.property} operator needs a value; use IsNull() for NULL` };
  if (InstanceChecker.isFindOperator(value)) return { isOperator: `${column.property} nests an operator where a value belongs` };
  return columnViolations(column, value, 'compare');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
