import type { QueryRunner } from 'typeorm';
import type { PhysicalTransaction } from './transaction-scope';

/**
 * TypeORM decides from these two fields of a QueryRunner whether its own work (save, manager.transaction, query
 * builders) must open a transaction or a SAVEPOINT. We send BEGIN/COMMIT ourselves (one round trip, with the
 * isolation level and READ ONLY in the same statement), so we keep them in step; no TypeORM method is replaced.
 */
function syncRunnerState(runner: QueryRunner, depth: number): void {
  (runner as { isTransactionActive: boolean }).isTransactionActive = depth > 0;
  Reflect.set(runner, 'transactionDepth', depth);
}

/** Sends one of our own statements; the query guard lets exactly this text through while the transaction finishes. */
async function internal(tx: PhysicalTransaction, sql: string): Promise<void> {
  tx.internalStatement = sql;
  try {
    await tx.runner.query(sql);
  } finally {
    tx.internalStatement = undefined;
  }
}

/** `START TRANSACTION ISOLATION LEVEL … [READ ONLY]` in one round trip. */
export async function begin(tx: PhysicalTransaction): Promise<void> {
  await internal(tx, `START TRANSACTION ISOLATION LEVEL ${tx.isolation}${tx.readOnly ? ' READ ONLY' : ' READ WRITE'}`);
  syncRunnerState(tx.runner, 1);
}

/**
 * COMMIT. PostgreSQL answers COMMIT of an aborted transaction with a ROLLBACK tag and no error: that outcome is
 * returned as `rolled back`, never mistaken for a commit.
 */
export async function commit(tx: PhysicalTransaction): Promise<'committed' | 'rolled back'> {
  tx.lastCommand = undefined;
  try {
    await internal(tx, 'COMMIT');
  } finally {
    syncRunnerState(tx.runner, 0);
  }
  return tx.lastCommand === 'ROLLBACK' ? 'rolled back' : 'committed';
}

export async function rollback(tx: PhysicalTransaction): Promise<void> {
  try {
    await internal(tx, 'ROLLBACK');
  } finally {
    syncRunnerState(tx.runner, 0);
  }
}

export async function savepoint(tx: PhysicalTransaction, name: string, depth: number): Promise<void> {
  await internal(tx, `SAVEPOINT ${name}`);
  syncRunnerState(tx.runner, depth);
}

export async function releaseSavepoint(tx: PhysicalTransaction, name: string, parentDepth: number): Promise<void> {
  await internal(tx, `RELEASE SAVEPOINT ${name}`);
  syncRunnerState(tx.runner, parentDepth);
}

export async function rollbackToSavepoint(tx: PhysicalTransaction, name: string, parentDepth: number): Promise<void> {
  try {
    // ROLLBACK TO keeps the savepoint; RELEASE it too, so names never pile up in a long transaction.
    await internal(tx, `ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
  } finally {
    syncRunnerState(tx.runner, parentDepth);
  }
}
