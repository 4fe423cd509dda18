import { BastionErrorOptions, QueryError } from './bastion-error';

/** Where a constraint violation happened, as far as PostgreSQL tells (never the offending values). */
export interface ConstraintInfo {
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly columns: readonly string[];
}

/** Base of the integrity-constraint violations (SQLSTATE class 23). */
export class ConstraintViolationError extends QueryError {
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly columns: readonly string[];

  constructor(message: string, code: string, info: ConstraintInfo, options?: BastionErrorOptions) {
    super(message, code, options);
    this.constraint = info.constraint;
    this.table = info.table;
    this.columns = info.columns;
  }
}

/** 23505: a row with the same unique key already exists. */
export class UniqueViolationError extends ConstraintViolationError {}

/** 23503: the referenced parent row does not exist (or a parent with children was deleted). */
export class ForeignKeyViolationError extends ConstraintViolationError {}

/** 23502: a NOT NULL column was given no value. */
export class NotNullViolationError extends ConstraintViolationError {}

/** 23514: a CHECK constraint rejected the row. */
export class CheckViolationError extends ConstraintViolationError {}

/** 57014: the statement was cancelled, by `statement_timeout`, a transaction timeout or a cancel request. */
export class QueryTimeoutError extends QueryError {}

/** 40001: the transaction could not be serialized with concurrent ones; re-running it may succeed. */
export class SerializationFailureError extends QueryError {
  override get retryable(): boolean {
    return true;
  }
}

/** 40P01: PostgreSQL broke a deadlock by aborting this transaction; re-running it may succeed. */
export class DeadlockError extends QueryError {
  override get retryable(): boolean {
    return true;
  }
}

/** 25006: a write was attempted inside a read-only transaction. */
export class ReadOnlyTransactionError extends QueryError {}
