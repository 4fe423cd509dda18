import type { IsolationLevel } from '../context/transaction-context';
import { ValidationError, ValidationIssue } from '../errors/domain-errors';

/** How a transactional call relates to a transaction already active in its async flow (Spring's semantics). */
export type Propagation =
  | 'REQUIRED'
  | 'REQUIRES_NEW'
  | 'NESTED'
  | 'MANDATORY'
  | 'NEVER'
  | 'SUPPORTS'
  | 'NOT_SUPPORTED';

export const PROPAGATIONS: readonly Propagation[] = [
  'REQUIRED',
  'REQUIRES_NEW',
  'NESTED',
  'MANDATORY',
  'NEVER',
  'SUPPORTS',
  'NOT_SUPPORTED',
];

export const ISOLATION_LEVELS: readonly IsolationLevel[] = ['READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE'];

/** Options of `@Transactional()` and `withTransaction()`; the defaults are the same for both. */
export interface TransactionOptions {
  /** Default REQUIRED: join the active transaction, or start one. */
  readonly propagation?: Propagation;
  /** Default READ COMMITTED. A joining call may not ask for a stricter level than the transaction has. */
  readonly isolation?: IsolationLevel;
  /** `START TRANSACTION … READ ONLY`: a write inside fails with ReadOnlyTransactionError. Default false. */
  readonly readOnly?: boolean;
  /** Cancel and roll back the transaction when it runs longer; the caller gets QueryTimeoutError. */
  readonly timeoutMs?: number;
  /** Re-run the whole function on serialization failure or deadlock, outermost transaction only. Default 0. */
  readonly retries?: number;
  /** A named database; default the unnamed one. */
  readonly connection?: string;
}

/** Options with their defaults applied. */
export interface ResolvedTransactionOptions {
  readonly propagation: Propagation;
  readonly isolation: IsolationLevel;
  /** Whether the caller named an isolation level (a joining call only checks levels it asked for). */
  readonly isolationRequested: boolean;
  readonly readOnly: boolean;
  readonly timeoutMs: number | undefined;
  readonly retries: number;
  readonly connection: string;
}

const KNOWN_KEYS = ['propagation', 'isolation', 'readOnly', 'timeoutMs', 'retries', 'connection'];

const DEFAULTS: ResolvedTransactionOptions = Object.freeze({
  propagation: 'REQUIRED',
  isolation: 'READ COMMITTED',
  isolationRequested: false,
  readOnly: false,
  timeoutMs: undefined,
  retries: 0,
  connection: 'default',
});

/** Applies defaults and rejects unknown keys and bad values by name, before anything is opened. */
export function resolveTransactionOptions(options?: TransactionOptions): ResolvedTransactionOptions {
  if (options === undefined) return DEFAULTS;
  const issues: ValidationIssue[] = [];
  const bad = (property: string, message: string): void => {
    issues.push({ property, constraints: { invalid: message } });
  };
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.includes(key)) bad(key, `${key} is not a transaction option; expected one of ${KNOWN_KEYS.join(', ')}`);
  }
  const { propagation = 'REQUIRED', isolation, readOnly = false, timeoutMs, retries = 0, connection = 'default' } = options;
  if (!PROPAGATIONS.includes(propagation)) bad('propagation', `propagation must be one of ${PROPAGATIONS.join(', ')}, got ${JSON.stringify(propagation)}`);
  if (isolation !== undefined && !ISOLATION_LEVELS.includes(isolation)) {
    bad('isolation', `isolation must be one of ${ISOLATION_LEVELS.join(', ')}, got ${JSON.stringify(isolation)}`);
  }
  if (typeof readOnly !== 'boolean') bad('readOnly', 'readOnly must be true or false');
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    bad('timeoutMs', `timeoutMs must be a positive integer of milliseconds, got ${JSON.stringify(timeoutMs)}`);
  }
  if (!(Number.isInteger(retries) && retries >= 0 && retries <= 100)) {
    bad('retries', `retries must be an integer from 0 to 100, got ${JSON.stringify(retries)}`);
  }
  if (typeof connection !== 'string' || connection === '') bad('connection', 'connection must be the name of a database');
  if (issues.length > 0) throw new ValidationError('transaction options', issues);
  return {
    propagation,
    isolation: isolation ?? 'READ COMMITTED',
    isolationRequested: isolation !== undefined,
    readOnly,
    timeoutMs,
    retries,
    connection,
  };
}

/** Strictness order of the isolation levels. */
export function isolationRank(level: IsolationLevel): number {
  return ISOLATION_LEVELS.indexOf(level);
}
