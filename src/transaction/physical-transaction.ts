import { performance } from 'node:perf_hooks';
import type { EntityManager } from 'typeorm';
import { cancelBackendQuery } from '../connection/cancel';
import { acquireRunner, Database, mapDatabaseError } from '../connection/database';
import { releaseRunner } from '../connection/release';
import { bindRunner, contextWithTransaction, runInContext } from '../context/transaction-context';
import { CommitUnknownError, ConnectionError } from '../errors/connection-errors';
import { QueryTimeoutError } from '../errors/query-errors';
import { RollbackOnlyError, UnawaitedWorkError } from '../errors/transaction-errors';
import { runHooks } from './hooks';
import type { ResolvedTransactionOptions } from './options';
import { guard } from './connection-guard';
import { retrying } from './retry';
import { countRetry, countTransaction } from './stats';
import { begin, commit, rollback } from './statements';
import { PhysicalTransaction, TransactionScope } from './transaction-scope';

/** The work of a transaction: gets the transaction's EntityManager. */
export type TransactionWork<R> = (manager: EntityManager) => Promise<R>;

/** How a function ended, without throwing: the decision to commit is made on this. */
export type Outcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

/** Runs `work` and maps what it throws to bastion's errors. */
export async function settle<R>(db: Database, work: () => Promise<R>): Promise<Outcome<R>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: mapDatabaseError(db, error) };
  }
}

/**
 * Runs `work` in a new physical transaction on its own connection (REQUIRED or NESTED with no outer one,
 * REQUIRES_NEW), re-running it on serialization failure or deadlock up to `options.retries` times.
 */
export function runInNewTransaction<R>(db: Database, options: ResolvedTransactionOptions, work: TransactionWork<R>): Promise<R> {
  if (options.retries === 0) return runOnce(db, options, work, 1);
  return retrying(db.log, options.retries, (attempt) => runOnce(db, options, work, attempt), () => countRetry(db));
}

async function runOnce<R>(db: Database, options: ResolvedTransactionOptions, work: TransactionWork<R>, attempt: number): Promise<R> {
  const started = performance.now();
  const runner = await acquireRunner(db);
  const tx = new PhysicalTransaction(runner, db.name, options.isolation, options.readOnly);
  const scope = new TransactionScope(tx, 1, undefined);
  const unguard = guard(db.dataSource, tx);
  bindRunner(runner, tx.id);
  const { outcome, committed, broken } = await runLifecycle(db, tx, scope, options, work);
  tx.phase = 'ended';
  scope.end();
  unguard();
  bindRunner(runner, undefined);
  // After a timeout the cancel request may still be on its way: never let it hit the next borrower's statement.
  await releaseRunner(runner, broken !== undefined || tx.timedOut);
  countTransaction(db, committed);
  if (db.log.enabled('debug')) {
    db.log.debug(committed ? 'transaction committed' : 'transaction rolled back', {
      tx: tx.id,
      ms: Math.round((performance.now() - started) * 100) / 100,
      isolation: tx.isolation,
      ...(tx.readOnly ? { readOnly: true } : {}),
      ...(attempt > 1 ? { attempt } : {}),
    });
  }
  const hooks = committed ? scope.commitHooks : scope.rollbackHooks;
  if (hooks.length > 0) {
    await runInContext(contextWithTransaction(db.name, undefined), () =>
      runHooks(hooks, committed ? 'commit' : 'rollback', tx.id, db.log),
    );
  }
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

/** What became of a transaction, and whether its connection must be discarded instead of pooled. */
interface Finished<R> {
  readonly outcome: Outcome<R>;
  readonly committed: boolean;
  /** Why the connection cannot go back to the pool (it broke, or ROLLBACK failed), if so. */
  readonly broken: unknown;
}

/** BEGIN, the work, then COMMIT or ROLLBACK; never throws, so the caller always releases the connection. */
async function runLifecycle<R>(
  db: Database,
  tx: PhysicalTransaction,
  scope: TransactionScope,
  options: ResolvedTransactionOptions,
  work: TransactionWork<R>,
): Promise<Finished<R>> {
  const began = await settle(db, () => begin(tx));
  if (!began.ok) return { outcome: began, committed: false, broken: began.error };
  const stopTimer = options.timeoutMs === undefined ? undefined : armTimeout(db, tx, options.timeoutMs);
  // Only the work runs in the transaction's context: BEGIN and COMMIT need none (their log lines find the
  // transaction through the connection), and every promise made inside a context costs AsyncLocalStorage time.
  let outcome = await settle(db, () => runInContext(contextWithTransaction(db.name, scope), () => work(scope.manager)));
  stopTimer?.();
  tx.phase = 'finishing';
  outcome = vetoCommit(outcome, tx, scope, options);

  if (tx.runner.isReleased) {
    // TypeORM released the runner because its connection broke: the server has rolled the transaction back.
    const error = outcome.ok
      ? new ConnectionError(`The connection of transaction ${tx.id} broke before COMMIT was sent: nothing was committed.`, undefined)
      : outcome.error;
    return { outcome: { ok: false, error }, committed: false, broken: undefined };
  }
  if (!outcome.ok) return { outcome, committed: false, broken: await rollbackQuietly(db, tx) };

  const result = await settle(db, () => commit(tx));
  if (result.ok && result.value === 'committed') return { outcome, committed: true, broken: undefined };
  if (result.ok) {
    const error = new RollbackOnlyError(
      `Transaction ${tx.id} could not commit: a statement inside it failed and aborted it, so PostgreSQL rolled it ` +
        "back at COMMIT. Let the failing statement's error propagate, or run it inside propagation NESTED.",
    );
    return { outcome: { ok: false, error }, committed: false, broken: undefined };
  }
  if (result.error instanceof ConnectionError) {
    return { outcome: { ok: false, error: new CommitUnknownError({ cause: result.error }) }, committed: false, broken: result.error };
  }
  // A deferred constraint or serialization failure at COMMIT: PostgreSQL has already rolled back.
  return { outcome: result, committed: false, broken: await rollbackQuietly(db, tx) };
}

/** The reasons a function that resolved must still not commit. */
function vetoCommit<R>(outcome: Outcome<R>, tx: PhysicalTransaction, scope: TransactionScope, options: ResolvedTransactionOptions): Outcome<R> {
  if (tx.timedOut) {
    return {
      ok: false,
      error: new QueryTimeoutError(
        `Transaction ${tx.id} ran longer than its timeout of ${options.timeoutMs} ms: its statement was cancelled and ` +
          'everything was rolled back.',
        '57014',
        outcome.ok ? undefined : { cause: outcome.error },
      ),
    };
  }
  if (!outcome.ok) return outcome;
  if (tx.inFlight > 0) {
    return {
      ok: false,
      error: new UnawaitedWorkError(
        `Transaction ${tx.id} was rolled back: its function returned while ${tx.inFlight} quer${tx.inFlight === 1 ? 'y was' : 'ies were'} ` +
          'still running on its connection (started but not awaited). Await every query inside the transactional function.',
      ),
    };
  }
  if (scope.isRollbackOnly) {
    const cause = scope.rollbackOnlyCause;
    return {
      ok: false,
      error: new RollbackOnlyError(
        `Transaction ${tx.id} was rolled back: a call that joined it failed (${cause instanceof Error ? cause.message : String(cause)}) ` +
          'and the error was caught, which marks the whole transaction rollback-only. Let the error propagate, or give ' +
          'the inner call propagation NESTED to recover from its failure.',
        { cause },
      ),
    };
  }
  return outcome;
}

/** ROLLBACK that never hides the original error: a failure is logged and returned, so the connection is discarded. */
async function rollbackQuietly(db: Database, tx: PhysicalTransaction): Promise<unknown> {
  const result = await settle(db, () => rollback(tx));
  if (result.ok) return undefined;
  db.log.error('rollback failed; the connection is discarded', {
    tx: tx.id,
    error: result.error instanceof Error ? result.error.message : String(result.error),
  });
  return result.error;
}

/** After `timeoutMs`, marks the transaction timed out and cancels its running statement; returns the disarm function. */
function armTimeout(db: Database, tx: PhysicalTransaction, timeoutMs: number): () => void {
  const timer = setTimeout(() => {
    tx.timedOut = true;
    db.log.warn('transaction timed out; cancelling its statement', { tx: tx.id, timeoutMs });
    tx.runner.connect().then(
      (client: unknown) => cancelBackendQuery(db.dataSource, client),
      () => undefined,
    );
  }, timeoutMs);
  timer.unref();
  return () => clearTimeout(timer);
}
