import type { QueryRunner } from 'typeorm';
import { AmbientTransaction, contextWithTransaction, runInContext } from '../../src/context/transaction-context';
import type { Database } from '../../src';

let nextId = 1000;

/**
 * Runs `fn` inside a transaction that this helper starts by hand on its own connection and publishes as the
 * ambient transaction of `database` (what @Transactional will do): repositories called inside must join it.
 * Rolls back unless `commit` is set.
 */
export async function inAmbientTransaction<R>(
  database: Database,
  fn: (runner: QueryRunner) => Promise<R>,
  options: { commit?: boolean } = {},
): Promise<R> {
  const runner = database.dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  const transaction: AmbientTransaction = {
    id: nextId++,
    connectionName: database.name,
    manager: runner.manager,
    queryRunner: runner,
    depth: 1,
    isolation: 'READ COMMITTED',
    readOnly: false,
  };
  try {
    const result = await runInContext(contextWithTransaction(database.name, transaction), () => fn(runner));
    if (options.commit) await runner.commitTransaction();
    else await runner.rollbackTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
  }
}

/** The backend pid of a runner's connection. */
export async function backendPid(runner: QueryRunner): Promise<number> {
  const rows = (await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
  return rows[0]!.pid;
}
