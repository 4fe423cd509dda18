import { Database } from '../connection/database';
import type { IsolationLevel } from '../context/transaction-context';
import { currentContext } from '../context/transaction-context';
import { ResolvedTransactionOptions, resolveTransactionOptions, TransactionOptions } from './options';
import type { TransactionWork } from './physical-transaction';
import { executeWithPropagation } from './propagation';
import { TransactionScope } from './transaction-scope';

/**
 * Runs `fn` in a transaction (the "managed session"): commit when it resolves, roll back when it throws, the
 * connection always released. Propagation decides whether it joins an active transaction; the default, REQUIRED,
 * is the same as `@Transactional()`'s.
 */
export async function withTransaction<R>(fn: TransactionWork<R>, options?: TransactionOptions): Promise<R> {
  return runTransactional(resolveTransactionOptions(options), fn);
}

/** `withTransaction` with options already resolved (the decorator resolves them once, when the class is defined). */
export async function runTransactional<R>(options: ResolvedTransactionOptions, fn: TransactionWork<R>): Promise<R> {
  // async, so that a database that is not connected rejects instead of throwing at the call site.
  return executeWithPropagation(Database.current(options.connection), options, fn);
}

/** What `currentTransaction()` tells about the flow's active transaction. */
export interface TransactionInfo {
  /** Process-unique id, as in the query log's `tx` field. */
  readonly id: number;
  /** 1 for the outermost transaction, +1 per NESTED savepoint. */
  readonly depth: number;
  readonly isolation: IsolationLevel;
  readonly readOnly: boolean;
  readonly connection: string;
  /** A joined call failed: the transaction can only roll back. */
  readonly rollbackOnly: boolean;
}

/** The active transaction of the calling async flow on `connection`, or undefined. */
export function currentTransaction(connection = 'default'): TransactionInfo | undefined {
  const scope = currentContext().transactions[connection];
  if (!(scope instanceof TransactionScope) || !scope.active) return undefined;
  return {
    id: scope.id,
    depth: scope.depth,
    isolation: scope.isolation,
    readOnly: scope.readOnly,
    connection,
    rollbackOnly: scope.isRollbackOnly,
  };
}
