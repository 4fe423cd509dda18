import { BastionError } from './bastion-error';

/** The row asked for does not exist (`getById`, `update` of a missing id, …). */
export class NotFoundError extends BastionError {
  readonly entity: string;
  readonly id: unknown;

  constructor(entity: string, id: unknown) {
    super(`${entity} with id ${formatId(id)} was not found.`);
    this.entity = entity;
    this.id = id;
  }
}

/** One invalid field and the constraints it failed, keyed by constraint name. */
export interface ValidationIssue {
  readonly property: string;
  readonly constraints: Readonly<Record<string, string>>;
}

/** Input was rejected before any SQL was sent; `issues` lists every field and constraint. */
export class ValidationError extends BastionError {
  readonly issues: readonly ValidationIssue[];

  constructor(subject: string, issues: readonly ValidationIssue[]) {
    const lines = issues.map((i) => `  - ${i.property}: ${Object.values(i.constraints).join('; ')}`);
    super(`Invalid ${subject} (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):\n${lines.join('\n')}`);
    this.issues = issues;
  }
}

/** The row was changed by someone else since it was read (its version column moved on); nothing was written. */
export class OptimisticLockError extends BastionError {
  readonly entity: string;
  readonly id: unknown;
  readonly expectedVersion: number;

  constructor(entity: string, id: unknown, expectedVersion: number) {
    super(
      `${entity} with id ${formatId(id)} was modified concurrently: expected version ${expectedVersion}, ` +
        'but the row has moved on. Reload it and apply the change again.',
    );
    this.entity = entity;
    this.id = id;
    this.expectedVersion = expectedVersion;
  }
}

function formatId(id: unknown): string {
  if (typeof id === 'string') return JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
  if (typeof id === 'number' || typeof id === 'bigint') return String(id);
  try {
    const json = JSON.stringify(id);
    return json === undefined ? String(id) : json.length > 100 ? `${json.slice(0, 100)}…` : json;
  } catch {
    return String(id);
  }
}
