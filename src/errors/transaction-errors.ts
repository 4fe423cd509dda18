import { BastionError } from './bastion-error';

/** Propagation MANDATORY was asked for, but no transaction is active. */
export class TransactionRequiredError extends BastionError {}

/** Propagation NEVER was asked for, but a transaction is active. */
export class TransactionNotAllowedError extends BastionError {}

/**
 * The transaction can only roll back: a joined (inner) call failed, or an earlier statement aborted it.
 * The commit was refused and everything was rolled back; `cause` is the failure that doomed it.
 */
export class RollbackOnlyError extends BastionError {}

/** A call asked to join a transaction with settings it cannot have (a stricter isolation level, writes in a read-only one). */
export class IncompatibleTransactionError extends BastionError {}

/**
 * Work that belonged to a transaction was not awaited by the function that owned it: a query was still running
 * when the function returned (the transaction was rolled back), or was issued after the transaction ended
 * (it was refused, never run on a released connection).
 */
export class UnawaitedWorkError extends BastionError {}

/** `@Transactional()` was put on something that is not an async method, or its method did not return a Promise. */
export class TransactionalUsageError extends BastionError {}
