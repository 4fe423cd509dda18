import { performance } from 'node:perf_hooks';
import { BeforeQueryEvent, EntitySubscriberInterface, Migration, MigrationExecutor, QueryRunner } from 'typeorm';
import type { BastionDataSource } from '../../connection/data-source';
import { MigrationError } from '../../errors/migration-error';
import { toBastionError } from '../../errors/sqlstate';
import { migrationsTable, withExecutor } from '../data-source';
import { migrationLock, withLockHeld } from '../migration-lock';
import { formatDuration, Output } from '../output';

/** How migrations are wrapped in transactions: each in its own (default), all in one, or none. */
export type MigrationTransactionMode = 'each' | 'all' | 'none';

export interface MigrationRunOptions {
  readonly dryRun: boolean;
  readonly transaction: MigrationTransactionMode;
}

/**
 * Applies pending migrations in order under the migration lock, printing each name and duration. `dryRun` runs
 * them in one transaction that is rolled back and prints the SQL they sent: nothing changes.
 */
export async function migrationRun(dataSource: BastionDataSource, out: Output, options: MigrationRunOptions): Promise<void> {
  await withExecutor(dataSource, async (executor, runner) => {
    const lock = migrationLock(runner, migrationsTable(dataSource));
    await lock.acquire((pid) =>
      out.warn(`Another migration runner (backend pid ${pid ?? 'unknown'}) holds the migration lock; waiting for it to finish…`),
    );
    await withLockHeld(lock, out, () =>
      options.dryRun ? dryRun(dataSource, executor, runner, out) : apply(executor, runner, out, options.transaction),
    );
  });
}

async function apply(executor: MigrationExecutor, runner: QueryRunner, out: Output, mode: MigrationTransactionMode): Promise<void> {
  const pending = await executor.getPendingMigrations();
  if (pending.length === 0) {
    out.ok('No pending migrations: the schema is up to date.');
    return;
  }
  out.line(`${pending.length} pending migration${pending.length === 1 ? '' : 's'} (transaction mode: ${mode})`);
  if (mode === 'all') {
    const overriding = pending.filter((m) => m.instance?.transaction !== undefined).map((m) => m.name);
    if (overriding.length > 0) {
      throw new MigrationError(overriding[0]!, undefined, 'nothing was applied', {
        cause: new Error(`${overriding.join(', ')} set their own transaction mode, which --transaction all cannot honour; use --transaction each`),
      });
    }
    await runner.startTransaction();
  }
  const started = performance.now();
  const applied: string[] = [];
  for (const migration of pending) {
    const ownTransaction = mode === 'each' && migration.instance?.transaction !== false;
    const done = out.progress(`applying ${migration.name}`);
    const t0 = performance.now();
    try {
      if (ownTransaction) await runner.startTransaction();
      await executor.executeMigration(migration);
      if (ownTransaction) await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) {
        await runner.rollbackTransaction().catch((rollbackError: unknown) => {
          out.warn(`ROLLBACK failed too (${String(rollbackError)}); the connection is closed with this run, which ends the transaction.`);
        });
      }
      done(`✖ ${migration.name} failed after ${formatDuration(performance.now() - t0)}`);
      const rolledBack =
        mode === 'all'
          ? 'all migrations of this run were rolled back'
          : `it was rolled back${applied.length ? ` (the ${applied.length} before it stay applied)` : ''}`;
      throw new MigrationError(migration.name, statementOf(error), rolledBack, { cause: toBastionError(error) });
    }
    applied.push(migration.name);
    done(`✔ ${migration.name} ${out.dim(formatDuration(performance.now() - t0))}`);
  }
  if (mode === 'all') await runner.commitTransaction();
  out.ok(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'} in ${formatDuration(performance.now() - started)}.`);
}

/** Runs every pending migration in one transaction, records the statements their `up` sends, and rolls back. */
async function dryRun(dataSource: BastionDataSource, executor: MigrationExecutor, runner: QueryRunner, out: Output): Promise<void> {
  const statements: { migration: string; sql: string; parameters: unknown[] }[] = [];
  let current: string | undefined;
  const recorder: EntitySubscriberInterface = {
    beforeQuery(event: BeforeQueryEvent) {
      if (current && event.queryRunner === runner) {
        statements.push({ migration: current, sql: event.query, parameters: Array.isArray(event.parameters) ? event.parameters : [] });
      }
    },
  };
  dataSource.subscribers.push(recorder);
  await runner.startTransaction();
  try {
    const pending = await executor.getPendingMigrations();
    if (pending.length === 0) {
      out.ok('No pending migrations: the schema is up to date. (dry run)');
      return;
    }
    for (const migration of pending) {
      const instance = migration.instance!;
      const recording = new Migration(migration.id, migration.timestamp, migration.name, {
        name: migration.name,
        transaction: instance.transaction,
        up: async (queryRunner: QueryRunner) => {
          current = migration.name;
          try {
            await instance.up(queryRunner);
          } finally {
            current = undefined;
          }
        },
        down: (queryRunner: QueryRunner) => instance.down(queryRunner),
      });
      try {
        await executor.executeMigration(recording);
      } catch (error) {
        throw new MigrationError(migration.name, statementOf(error), 'the dry run was rolled back', { cause: toBastionError(error) });
      }
    }
    for (const migration of pending) {
      out.line(out.bold(`-- ${migration.name}`));
      for (const s of statements.filter((st) => st.migration === migration.name)) {
        out.line(`${s.sql.trim().replace(/;?$/, ';')}${s.parameters.length ? out.dim(` -- parameters: ${JSON.stringify(s.parameters)}`) : ''}`);
      }
      out.line();
    }
    out.ok(
      `Dry run: ${pending.length} migration${pending.length === 1 ? '' : 's'} would be applied (${statements.length} statements). ` +
        'Nothing was changed: they ran in a transaction that was rolled back.',
    );
  } finally {
    dataSource.subscribers.splice(dataSource.subscribers.indexOf(recorder), 1);
    if (runner.isTransactionActive) await runner.rollbackTransaction();
  }
}

/** The SQL a TypeORM QueryFailedError carries (never its parameters). */
export function statementOf(error: unknown): string | undefined {
  const query = (error as { query?: unknown } | undefined)?.query;
  return typeof query === 'string' ? query : undefined;
}
