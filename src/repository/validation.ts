import type { ValidationError as ClassValidatorError } from 'class-validator';
import { ValidationError, ValidationIssue } from '../errors/domain-errors';
import { columnViolations } from './column-values';
import { decoratorErrors } from './decorator-check';
import type { ColumnShape, EntityShape } from './entity-shape';

/** Validated values of one row, by entity property, in the caller's key order. */
export type RowValues = ReadonlyMap<string, unknown>;

/** A validated update: the columns to set, and the version the caller read (optimistic locking), if given. */
export interface ValidatedPatch {
  readonly values: RowValues;
  readonly expectedVersion: number | undefined;
}

type Mode = 'insert' | 'update';

interface Checked {
  readonly values: Map<string, unknown>;
  readonly issues: Map<string, Record<string, string>>;
  expectedVersion: number | undefined;
}

/**
 * Validates one row to insert: only writable columns (never the id, version, timestamps or anything that is not a
 * column), values that fit their columns, every required column present, then the entity's class-validator
 * decorators. Throws one `ValidationError` listing every field and constraint; sends no SQL.
 */
export async function validateInsert(shape: EntityShape, data: unknown): Promise<RowValues> {
  const checked = await checkRow(shape, data, 'insert');
  throwIfInvalid(shape.name, [...issueList(checked, '')]);
  return checked.values;
}

/** `validateInsert` for many rows at once; issues are prefixed with the row index (`[3].email`). */
export async function validateInserts(shape: EntityShape, rows: unknown): Promise<RowValues[]> {
  if (!Array.isArray(rows)) {
    throw new ValidationError(`${shape.name} rows`, [{ property: 'rows', constraints: { isArray: 'rows must be an array of objects' } }]);
  }
  // Synchronous decorators (the usual case) give plain results: no promise per row.
  const results = Array.from(rows as unknown[], (row) => checkRow(shape, row, 'insert'));
  const checked = results.some((r) => r instanceof Promise) ? await Promise.all(results) : (results as Checked[]);
  throwIfInvalid(`${shape.name} rows`, checked.flatMap((c, i) => [...issueList(c, `[${i}].`)]));
  return checked.map((c) => c.values);
}

/**
 * Validates a patch: only updatable columns, values that fit, the decorators of the properties it sets, and at
 * least one column. On an entity with a version column, `version` in the patch is not written: it is the
 * version the caller read, the precondition of the update.
 */
export async function validatePatch(shape: EntityShape, patch: unknown): Promise<ValidatedPatch> {
  const checked = await checkRow(shape, patch, 'update');
  const issues = [...issueList(checked, '')];
  if (issues.length === 0 && checked.values.size === 0) {
    issues.push({ property: 'patch', constraints: { isNotEmpty: 'the patch sets no column' } });
  }
  throwIfInvalid(`${shape.name} patch`, issues);
  return { values: checked.values, expectedVersion: checked.expectedVersion };
}

/**
 * Checks the conflict target of an upsert: the columns of one unique constraint, all set by the row. Returns them with the columns the
 * conflict branch updates (every other column the row sets, except the primary key).
 */
export function validateConflictTarget(
  shape: EntityShape,
  conflictColumns: unknown,
  values: RowValues,
): { target: ColumnShape[]; update: ColumnShape[] } {
  const issues: ValidationIssue[] = [];
  const target: ColumnShape[] = [];
  if (!Array.isArray(conflictColumns) || conflictColumns.length === 0) {
    issues.push({ property: 'conflictColumns', constraints: { isArray: 'conflictColumns must be a non-empty array of column properties' } });
  } else {
    for (const property of conflictColumns) {
      const column = typeof property === 'string' ? shape.columns.get(property) : undefined;
      const name = String(property);
      if (!column) issues.push({ property: `conflictColumns.${name}`, constraints: { isColumn: `${name} is not a column of ${shape.name}` } });
      else if (!values.has(column.property) || values.get(column.property) === null) {
        issues.push({ property: `conflictColumns.${name}`, constraints: { isDefined: `the row must set ${name} to upsert on it` } });
      } else if (!target.includes(column)) target.push(column);
    }
  }
  if (issues.length === 0 && !shape.uniqueKeys.some((key) => key.length === target.length && key.every((c) => target.includes(c)))) {
    const keys = shape.uniqueKeys.map((key) => `(${key.map((c) => c.property).join(', ')})`).join(' or ');
    issues.push({
      property: 'conflictColumns',
      constraints: { isUniqueKey: `conflictColumns must be the columns of one unique constraint of ${shape.name}: ${keys}` },
    });
  }
  throwIfInvalid(`${shape.name} upsert`, issues);
  const update = [...values.keys()]
    .map((property) => shape.columns.get(property)!)
    .filter((column) => !target.includes(column) && column !== shape.primary);
  return { target, update };
}

function checkRow(shape: EntityShape, input: unknown, mode: Mode): Checked | Promise<Checked> {
  const checked: Checked = { values: new Map(), issues: new Map(), expectedVersion: undefined };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    addIssue(checked, mode === 'insert' ? 'data' : 'patch', { isObject: `${mode === 'insert' ? 'data' : 'patch'} must be an object` });
    return checked;
  }
  for (const property in input) {
    if (!Object.hasOwn(input, property)) continue;
    const value = (input as Record<string, unknown>)[property];
    if (value === undefined) continue;
    checkProperty(shape, checked, property, value, mode);
  }
  if (mode === 'insert') {
    for (const column of shape.columns.values()) {
      if (column.required && !checked.values.has(column.property) && !checked.issues.has(column.property)) {
        addIssue(checked, column.property, { isDefined: `${column.property} is required` });
      }
    }
  }
  return addDecoratorIssues(shape, checked, mode);
}

function checkProperty(shape: EntityShape, checked: Checked, property: string, value: unknown, mode: Mode): void {
  const column = shape.columns.get(property);
  if (!column) {
    const instead = shape.relations.has(property) ? shape.relations.get(property) : undefined;
    const message = shape.relations.has(property)
      ? `${property} is a relation, not a column${instead ? `; set ${instead} instead` : ''}`
      : `${property} is not a column of ${shape.name}`;
    addIssue(checked, property, { isColumn: message });
    return;
  }
  if (mode === 'update' && column === shape.version) {
    const violations = value === null ? { isInt: `${property} must be the version you read` } : columnViolations(column, value);
    if (Object.keys(violations).length > 0) addIssue(checked, property, violations);
    else checked.expectedVersion = Number(value);
    return;
  }
  const notWritable = mode === 'insert' ? column.notInsertable : column.notUpdatable;
  if (notWritable !== undefined) {
    addIssue(checked, property, { isWritable: `${property} ${notWritable} and cannot be set` });
    return;
  }
  if (value === null) {
    if (!column.nullable) addIssue(checked, property, { isNotNull: `${property} must not be null` });
    else checked.values.set(property, null);
    return;
  }
  if (column.reference !== undefined) {
    // A relation without a column property: the related entity, or an object with its referenced key.
    const key = typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[column.reference] : undefined;
    if (key === undefined || key === null) {
      addIssue(checked, property, { isRelation: `${property} must be the related entity or { ${column.reference}: … }` });
      return;
    }
    value = key;
  }
  const violations = columnViolations(column, value);
  if (Object.keys(violations).length > 0) addIssue(checked, property, violations);
  else checked.values.set(property, value);
}

/** class-validator on an instance of the entity class holding only the validated values. */
function addDecoratorIssues(shape: EntityShape, checked: Checked, mode: Mode): Checked | Promise<Checked> {
  const target = shape.metadata.target;
  if (typeof target !== 'function') return checked;
  const instance = Object.create(target.prototype as object) as Record<string, unknown>;
  // Relations given as objects were reduced to their key; their decorators (if any) are not about the key.
  for (const [property, value] of checked.values) if (shape.columns.get(property)?.reference === undefined) instance[property] = value;
  const errors = decoratorErrors(target, instance, mode);
  if (errors instanceof Promise) return errors.then((e) => addErrors(shape, checked, e));
  return errors.length === 0 ? checked : addErrors(shape, checked, errors);
}

function addErrors(shape: EntityShape, checked: Checked, errors: readonly ClassValidatorError[]): Checked {
  const alreadyReported = new Set(checked.issues.keys());
  for (const [path, constraints] of flatten(errors, '')) {
    const top = path.split('.')[0]!;
    if (alreadyReported.has(top)) continue;
    const column = shape.columns.get(top);
    if (column?.reference !== undefined) continue;
    // Properties the caller cannot set (id, version, timestamps) are the database's business, not the caller's.
    const callerOwned = checked.values.has(top) || (column !== undefined && column.notInsertable === undefined);
    if (callerOwned) addIssue(checked, path, constraints);
  }
  return checked;
}

function* flatten(errors: readonly ClassValidatorError[], prefix: string): Generator<[string, Record<string, string>]> {
  for (const error of errors) {
    const path = `${prefix}${error.property}`;
    if (error.constraints) yield [path, error.constraints];
    if (error.children?.length) yield* flatten(error.children, `${path}.`);
  }
}

function addIssue(checked: Checked, property: string, constraints: Record<string, string>): void {
  checked.issues.set(property, { ...checked.issues.get(property), ...constraints });
}

function* issueList(checked: Checked, prefix: string): Generator<ValidationIssue> {
  for (const [property, constraints] of checked.issues) yield { property: `${prefix}${property}`, constraints };
}

function throwIfInvalid(subject: string, issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) throw new ValidationError(subject, issues);
}
