import type { EntityManager, QueryRunner } from 'typeorm';
import { isConnectionFailure, usingRunner } from '../connection/release';
import { CommitUnknownError } from '../errors/connection-errors';
import { toBastionError } from '../errors/sqlstate';
import type { Log } from '../logging/logger';
import type { Statement } from './statements';

/** Rows a statement returned (`RETURNING`) and the number of rows it touched. */
export interface StatementResult {
  readonly rows: Record<string, unknown>[];
  readonly affected: number;
}

/** Runs one statement on the manager's connection (the ambient transaction's, else a pooled one). */
export function runStatement(manager: EntityManager, statement: Statement): Promise<StatementResult> {
  return withRunner(manager, (runner) => execute(runner, statement));
}

/** Runs one statement on a given connection. */
export async function execute(runner: QueryRunner, statement: Statement): Promise<StatementResult> {
  const result = await runner.query(statement.sql, [...statement.parameters], true);
  return { rows: (result.records ?? []) as Record<string, unknown>[], affected: result.affected ?? 0 };
}

/**
 * Runs `work` in a transaction: the one the manager is already in (joined: no BEGIN, no COMMIT, a failure
 * leaves the rollback to its owner), else a new one on a pooled connection, committed when `work` resolves and
 * rolled back when it throws. A failed rollback is logged and never hides the original error.
 */
export function inTransaction<R>(manager: EntityManager, log: Log, work: (runner: QueryRunner) => Promise<R>): Promise<R> {
  const joined = manager.queryRunner;
  if (joined?.isTransactionActive) return work(joined);
  return withRunner(manager, async (runner) => {
    await runner.startTransaction();
    let result: R;
    try {
      result = await work(runner);
    } catch (error) {
      if (runner.isTransactionActive) {
        await runner.rollbackTransaction().catch((rollbackError: unknown) => {
          log.warn('rollback failed', { error: String(rollbackError), cause: String(error) });
        });
      }
      throw error;
    }
    try {
      await runner.commitTransaction();
    } catch (error) {
      // The answer to COMMIT never came: it may or may not have taken effect.
      if (isConnectionFailure(error)) throw new CommitUnknownError({ cause: toBastionError(error) });
      throw error;
    }
    return result;
  });
}

/** `work` with the manager's own connection, or with a pooled one that is always released (discarded if broken). */
function withRunner<R>(manager: EntityManager, work: (runner: QueryRunner) => Promise<R>): Promise<R> {
  if (manager.queryRunner) return work(manager.queryRunner);
  return usingRunner(manager.connection.createQueryRunner(), work);
}
