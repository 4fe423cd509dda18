import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager, QueryRunner } from 'typeorm';

/** Isolation levels PostgreSQL distinguishes (READ UNCOMMITTED behaves as READ COMMITTED there). */
export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/**
 * The transaction work runs in, as seen by everything that reads the ambient context: repositories,
 * `db.query`, and the query log. transaction/ creates these; connection/ and repository/ only read them.
 */
export interface AmbientTransaction {
  /** Process-unique id, shown in every query log line. */
  readonly id: number;
  /** Named database the transaction belongs to (`default` for the unnamed one). */
  readonly connectionName: string;
  /** The manager bound to the transaction's connection. Call `assertActive()` before handing it out. */
  readonly manager: EntityManager;
  readonly queryRunner: QueryRunner;
  /** 1 for the outermost transaction, +1 for each NESTED savepoint inside it. */
  readonly depth: number;
  readonly isolation: IsolationLevel;
  readonly readOnly: boolean;
  /** Throws `UnawaitedWorkError` once the transaction has ended: late work must not run on its connection. */
  assertActive(): void;
}

/** The immutable store of one async flow: a new context is made for each transaction scope, never mutated. */
export interface AmbientContext {
  /** Name of the logical worker (the seed's `worker`), shown in query log lines. */
  readonly worker?: string;
  /** The active transaction per named database; a missing key means "no transaction". */
  readonly transactions: Readonly<Record<string, AmbientTransaction | undefined>>;
}

const storage = new AsyncLocalStorage<AmbientContext>();
const runnerTransactions = new WeakMap<QueryRunner, number>();
const EMPTY: AmbientContext = Object.freeze({ transactions: Object.freeze({}) });

/** The context of the current async flow (an empty one outside any scope). */
export function currentContext(): AmbientContext {
  return storage.getStore() ?? EMPTY;
}

/**
 * The one place that answers "which transaction does this work join?" for a named database. Throws
 * `UnawaitedWorkError` when the flow's transaction has already ended (work that its owner did not await).
 */
export function ambientTransaction(connectionName: string): AmbientTransaction | undefined {
  const transaction = storage.getStore()?.transactions[connectionName];
  transaction?.assertActive();
  return transaction;
}

/** Runs `fn` with `context` as the ambient context of everything it starts, awaited or not. */
export function runInContext<R>(context: AmbientContext, fn: () => R): R {
  return storage.run(context, fn);
}

/** A copy of the current context with `transaction` (or none) as the active one of its database. */
export function contextWithTransaction(
  connectionName: string,
  transaction: AmbientTransaction | undefined,
): AmbientContext {
  const current = currentContext();
  return Object.freeze({
    ...current,
    transactions: Object.freeze({ ...current.transactions, [connectionName]: transaction }),
  });
}

/** Runs `fn` with `worker` as the worker name of its query log lines. */
export function runAsWorker<R>(worker: string, fn: () => R): R {
  const current = currentContext();
  if (current.worker === worker) return fn();
  return storage.run(Object.freeze({ ...current, worker }), fn);
}

/** Records which transaction a connection (QueryRunner) is serving, so its log lines name it. */
export function bindRunner(runner: QueryRunner, transactionId: number | undefined): void {
  if (transactionId === undefined) runnerTransactions.delete(runner);
  else runnerTransactions.set(runner, transactionId);
}

/** The id of the transaction a QueryRunner is serving, if any: what the query log prints as `tx`. */
export function transactionIdOf(runner: QueryRunner | undefined): number | undefined {
  return runner ? runnerTransactions.get(runner) : undefined;
}
