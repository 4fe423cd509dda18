import { Database, mapDatabaseError } from '../connection/database';
import { contextWithTransaction, runInContext } from '../context/transaction-context';
import {
  IncompatibleTransactionError,
  RollbackOnlyError,
  TransactionNotAllowedError,
  TransactionRequiredError,
} from '../errors/transaction-errors';
import { runHooks } from './hooks';
import { isolationRank, ResolvedTransactionOptions } from './options';
import { runInNewTransaction, settle, TransactionWork } from './physical-transaction';
import { releaseSavepoint, rollbackToSavepoint, savepoint } from './statements';
import { currentScope, TransactionScope } from './transaction-scope';

/**
 * The one place where propagation decides what happens: join the active transaction, start a new one, open a
 * savepoint, or run without one. `current` is the flow's active scope for this database, if any.
 */
export function executeWithPropagation<R>(db: Database, options: ResolvedTransactionOptions, work: TransactionWork<R>): Promise<R> {
  const current = currentScope(db.name);
  switch (options.propagation) {
    case 'REQUIRED':
      return current ? join(db, current, options, work) : runInNewTransaction(db, options, work);
    case 'REQUIRES_NEW':
      // The outer transaction is suspended simply by running `work` in a context where the new one is current;
      // it resumes when `work` settles, because the caller's own context never changed.
      return runInNewTransaction(db, options, work);
    case 'NESTED':
      return current ? current.inTurn(() => nested(db, current, options, work)) : runInNewTransaction(db, options, work);
    case 'MANDATORY':
      if (!current) {
        return Promise.reject(
          new TransactionRequiredError(
            'Propagation MANDATORY needs an active transaction, and none is active: call this from inside @Transactional() ' +
              'or withTransaction().',
          ),
        );
      }
      return join(db, current, options, work);
    case 'NEVER':
      if (current) {
        return Promise.reject(
          new TransactionNotAllowedError(
            `Propagation NEVER must not run inside a transaction, but transaction ${current.id} is active: call it ` +
              'outside the transaction, or use NOT_SUPPORTED to suspend it.',
          ),
        );
      }
      return withoutTransaction(db, work);
    case 'SUPPORTS':
      return current ? join(db, current, options, work) : withoutTransaction(db, work);
    case 'NOT_SUPPORTED':
      return withoutTransaction(db, work);
    default: {
      const unknown: never = options.propagation;
      return Promise.reject(new Error(`bastion: unhandled propagation ${String(unknown)}`));
    }
  }
}

/** Checks that a joining call asks for nothing the active transaction cannot give. */
function assertCompatible(current: TransactionScope, options: ResolvedTransactionOptions): void {
  if (options.isolationRequested && isolationRank(options.isolation) > isolationRank(current.isolation)) {
    throw new IncompatibleTransactionError(
      `This call asks for isolation ${options.isolation}, but it joins transaction ${current.id}, which runs at ` +
        `${current.isolation}: start the outer transaction with ${options.isolation}, or use propagation REQUIRES_NEW.`,
    );
  }
  if (!options.readOnly && current.readOnly && options.propagation !== 'SUPPORTS') {
    throw new IncompatibleTransactionError(
      `This read-write call joins transaction ${current.id}, which is read-only: mark it readOnly too, ` +
        'or use propagation REQUIRES_NEW for the write.',
    );
  }
}

/** Runs `work` in the active scope; a failure that leaves it marks the scope rollback-only (Spring's semantics). */
async function join<R>(db: Database, current: TransactionScope, options: ResolvedTransactionOptions, work: TransactionWork<R>): Promise<R> {
  assertCompatible(current, options);
  const outcome = await settle(db, () => work(current.manager));
  if (outcome.ok) return outcome.value;
  current.markRollbackOnly(outcome.error);
  throw outcome.error;
}

/**
 * Runs `work` inside a SAVEPOINT of the active transaction: on failure only the savepoint rolls back and the
 * outer transaction goes on; on success its hooks pass to the enclosing scope.
 */
async function nested<R>(db: Database, parent: TransactionScope, options: ResolvedTransactionOptions, work: TransactionWork<R>): Promise<R> {
  assertCompatible(parent, options);
  const tx = parent.physical;
  const name = tx.nextSavepoint();
  const scope = new TransactionScope(tx, parent.depth + 1, parent);
  const context = contextWithTransaction(db.name, scope);
  const opened = await settle(db, () => savepoint(tx, name, scope.depth));
  if (!opened.ok) {
    parent.markRollbackOnly(opened.error);
    throw opened.error;
  }
  let outcome = await settle(db, () => runInContext(context, () => work(scope.manager)));
  if (outcome.ok && scope.isRollbackOnly) {
    outcome = {
      ok: false,
      error: new RollbackOnlyError(
        `Savepoint ${name} of transaction ${tx.id} was rolled back: a call that joined it failed and the error was ` +
          'caught. The outer transaction goes on.',
        { cause: scope.rollbackOnlyCause },
      ),
    };
  }
  if (outcome.ok) {
    const released = await settle(db, () => releaseSavepoint(tx, name, parent.depth));
    scope.end();
    if (!released.ok) {
      parent.markRollbackOnly(released.error);
      throw released.error;
    }
    parent.commitHooks.push(...scope.commitHooks);
    parent.rollbackHooks.push(...scope.rollbackHooks);
    return outcome.value;
  }
  const rolledBack = await settle(db, () => rollbackToSavepoint(tx, name, parent.depth));
  scope.end();
  if (!rolledBack.ok) {
    // The savepoint could not be restored: the outer transaction is in an unknown state and must not commit.
    db.log.error('rollback to savepoint failed', { tx: tx.id, savepoint: name, error: String((rolledBack.error as Error).message) });
    parent.markRollbackOnly(rolledBack.error);
  }
  db.log.debug('savepoint rolled back', { tx: tx.id, savepoint: name });
  await runInContext(contextWithTransaction(db.name, undefined), () => runHooks(scope.rollbackHooks, 'rollback', tx.id, db.log));
  throw outcome.error;
}

/** Runs `work` with no transaction on this database (suspending one if active), on the pool's manager. */
async function withoutTransaction<R>(db: Database, work: TransactionWork<R>): Promise<R> {
  try {
    return await runInContext(contextWithTransaction(db.name, undefined), () => work(db.dataSource.manager));
  } catch (error) {
    throw mapDatabaseError(db, error);
  }
}
