import type { QueryRunner } from 'typeorm';
import { ambientTransaction, AmbientTransaction, IsolationLevel } from '../context/transaction-context';
import { UnawaitedWorkError } from '../errors/transaction-errors';

/** A function run after the outermost commit (`runOnCommit`) or after a rollback (`runOnRollback`). */
export type TransactionHook = () => unknown;

/** Where a physical transaction is in its life; the guard refuses new work once it is not `active`. */
export type TransactionPhase = 'active' | 'finishing' | 'ended';

let lastId = 0;

/**
 * One physical transaction on one connection, from START TRANSACTION to COMMIT or ROLLBACK, shared by every
 * scope that joins it. Its counters are read by the connection guard (transaction/connection-guard.ts).
 */
export class PhysicalTransaction {
  readonly id = ++lastId;
  phase: TransactionPhase = 'active';
  /** Queries started and not yet finished: at the end of the outermost function these were never awaited. */
  inFlight = 0;
  /** Set by the timeout: the running query was cancelled and no further work is accepted. */
  timedOut = false;
  /** Our own statement (BEGIN, COMMIT, SAVEPOINT …) being sent; the only query the guard lets through while finishing. */
  internalStatement: string | undefined;
  /** Command tag PostgreSQL answered to the last internal statement (`ROLLBACK` for a COMMIT of an aborted transaction). */
  lastCommand: string | undefined;
  private savepoints = 0;

  constructor(
    readonly runner: QueryRunner,
    readonly connectionName: string,
    readonly isolation: IsolationLevel,
    readonly readOnly: boolean,
  ) {}

  nextSavepoint(): string {
    return `bastion_sp_${++this.savepoints}`;
  }
}

/**
 * What an async flow sees as its transaction: a physical transaction at a depth (1 = outermost, +1 for each NESTED
 * savepoint). Joining calls (REQUIRED, MANDATORY, SUPPORTS) share the scope they join; the scope, not the
 * connection, carries the rollback-only mark and the hooks, so rolling back to a savepoint forgets both.
 */
export class TransactionScope implements AmbientTransaction {
  readonly commitHooks: TransactionHook[] = [];
  readonly rollbackHooks: TransactionHook[] = [];
  /** The failure of a joined call that makes this scope's commit impossible. */
  rollbackOnlyCause: unknown;
  private ended = false;
  private lastChild: Promise<unknown> = Promise.resolve();

  constructor(
    readonly physical: PhysicalTransaction,
    readonly depth: number,
    readonly parent: TransactionScope | undefined,
  ) {}

  get id(): number {
    return this.physical.id;
  }

  get connectionName(): string {
    return this.physical.connectionName;
  }

  get queryRunner(): QueryRunner {
    return this.physical.runner;
  }

  get manager() {
    return this.physical.runner.manager;
  }

  get isolation(): IsolationLevel {
    return this.physical.isolation;
  }

  get readOnly(): boolean {
    return this.physical.readOnly;
  }

  get isRollbackOnly(): boolean {
    return this.rollbackOnlyCause !== undefined;
  }

  markRollbackOnly(cause: unknown): void {
    this.rollbackOnlyCause ??= cause;
  }

  get active(): boolean {
    return !this.ended && this.physical.phase === 'active';
  }

  end(): void {
    this.ended = true;
  }

  /**
   * Runs a NESTED child after the previous one has finished. Savepoints on one connection form a stack: rolling
   * back to an earlier sibling's savepoint would also undo a later sibling that already succeeded, so concurrent
   * NESTED calls under one scope take turns.
   */
  inTurn<R>(child: () => Promise<R>): Promise<R> {
    const turn = this.lastChild.then(child, child);
    this.lastChild = turn.catch(() => undefined);
    return turn;
  }

  assertActive(): void {
    if (this.active) return;
    throw new UnawaitedWorkError(
      `Transaction ${this.id}${this.depth > 1 ? ` (savepoint depth ${this.depth})` : ''} has already ended: this work was ` +
        'started inside it but not awaited before its function returned. Await every query inside the transactional ' +
        'function (or start the work outside it).',
    );
  }
}

/**
 * The flow's active scope on a database, if any: the ambient transaction, narrowed to what this engine made.
 * Work from a scope that has already ended gets UnawaitedWorkError here (from `ambientTransaction`), never a
 * silently fresh transaction.
 */
export function currentScope(connection: string): TransactionScope | undefined {
  const found = ambientTransaction(connection);
  return found instanceof TransactionScope ? found : undefined;
}
