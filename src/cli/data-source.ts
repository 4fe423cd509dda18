import { MigrationExecutor } from 'typeorm';
import type winston from 'winston';
import { BastionDataSource, createDataSource } from '../connection/data-source';

/** The data source the CLI works with: the application's configuration (.env, DATABASE_URL/DB_*, SSH_*). */
export async function openDataSource(logger: winston.Logger): Promise<BastionDataSource> {
  const dataSource = createDataSource({ logger });
  await dataSource.initialize();
  return dataSource;
}

/** Name of the table that records applied migrations. */
export function migrationsTable(dataSource: BastionDataSource): string {
  return dataSource.options.migrationsTableName ?? 'migrations';
}

/** Runs `fn` with one dedicated connection and a migration executor bound to it; the connection is always released. */
export async function withExecutor<R>(
  dataSource: BastionDataSource,
  fn: (executor: MigrationExecutor, runner: ReturnType<BastionDataSource['createQueryRunner']>) => Promise<R>,
): Promise<R> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    return await fn(new MigrationExecutor(dataSource, runner), runner);
  } finally {
    await runner.release();
  }
}
