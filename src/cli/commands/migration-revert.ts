import { performance } from 'node:perf_hooks';
import type { BastionDataSource } from '../../connection/data-source';
import { MigrationError } from '../../errors/migration-error';
import { toBastionError } from '../../errors/sqlstate';
import { migrationsTable, withExecutor } from '../data-source';
import { migrationLock, withLockHeld } from '../migration-lock';
import { formatDuration, Output } from '../output';
import { statementOf } from './migration-run';

/** Reverts the last `steps` applied migrations (newest first), each in its own transaction, under the migration lock. */
export async function migrationRevert(dataSource: BastionDataSource, out: Output, steps: number | 'all'): Promise<void> {
  await withExecutor(dataSource, async (executor, runner) => {
    const lock = migrationLock(runner, migrationsTable(dataSource));
    await lock.acquire((pid) =>
      out.warn(`Another migration runner (backend pid ${pid ?? 'unknown'}) holds the migration lock; waiting for it to finish…`),
    );
    await withLockHeld(lock, out, async () => {
      const executed = await executor.getExecutedMigrations();
      if (executed.length === 0) {
        out.ok('No applied migrations: nothing to revert.');
        return;
      }
      const count = steps === 'all' ? executed.length : Math.min(steps, executed.length);
      if (steps !== 'all' && steps > executed.length) out.warn(`Only ${executed.length} migrations are applied; reverting all of them.`);
      executor.transaction = 'each';
      const started = performance.now();
      for (const migration of executed.slice(0, count)) {
        const done = out.progress(`reverting ${migration.name}`);
        const t0 = performance.now();
        try {
          await executor.undoLastMigration();
        } catch (error) {
          done(`✖ ${migration.name} failed to revert`);
          throw new MigrationError(migration.name, statementOf(error), 'its revert was rolled back', { cause: toBastionError(error) });
        }
        done(`↩ ${migration.name} ${out.dim(formatDuration(performance.now() - t0))}`);
      }
      out.ok(`Reverted ${count} migration${count === 1 ? '' : 's'} in ${formatDuration(performance.now() - started)}.`);
    });
  });
}
