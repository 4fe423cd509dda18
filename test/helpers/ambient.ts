import type { QueryRunner } from 'typeorm';
import { Database, withTransaction } from '../../src';

/** Thrown to make withTransaction roll back while still handing the function's result back to the test. */
class RollbackWith<R> {
  constructor(readonly value: R) {}
}

/**
 * Runs `fn` inside a real bastion transaction (withTransaction) on `database`: repositories called inside must join
 * it. Rolls back unless `commit` is set, and hands `fn` the transaction's QueryRunner.
 */
export async function inAmbientTransaction<R>(
  database: Database,
  fn: (runner: QueryRunner) => Promise<R>,
  options: { commit?: boolean } = {},
): Promise<R> {
  try {
    return await withTransaction(
      async (manager) => {
        const result = await fn(manager.queryRunner!);
        if (!options.commit) throw new RollbackWith(result);
        return result;
      },
      { connection: database.name },
    );
  } catch (error) {
    if (error instanceof RollbackWith) return error.value as R;
    throw error;
  }
}

/** The backend pid of a runner's connection. */
export async function backendPid(runner: QueryRunner): Promise<number> {
  const rows = (await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
  return rows[0]!.pid;
}
