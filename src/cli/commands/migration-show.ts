import type { BastionDataSource } from '../../connection/data-source';
import { withExecutor } from '../data-source';
import type { Output } from '../output';

/** What the migration table and the source agree on. */
export interface MigrationStatus {
  readonly applied: number;
  readonly pending: number;
}

/** Lists every migration with its timestamp, applied or pending, and applied ones missing from the source. */
export async function migrationShow(dataSource: BastionDataSource, out: Output): Promise<MigrationStatus> {
  return withExecutor(dataSource, async (executor) => {
    const executed = await executor.getExecutedMigrations();
    const pending = await executor.getPendingMigrations();
    const appliedNames = new Set(executed.map((m) => m.name));
    const known = [...executed, ...pending].sort((a, b) => a.timestamp - b.timestamp);
    const inSource = new Set(pending.map((m) => m.name));
    for (const m of dataSource.migrations) inSource.add(m.name ?? m.constructor.name);
    if (known.length === 0) out.line('No migrations found (DB_MIGRATIONS, or migrations/ by default).');
    for (const migration of known) {
      const when = new Date(migration.timestamp).toISOString();
      const state = appliedNames.has(migration.name) ? '[X] applied' : '[ ] pending';
      const missing = appliedNames.has(migration.name) && !inSource.has(migration.name) ? out.dim('  (not in the source code)') : '';
      out.line(`${state}  ${migration.name}  ${out.dim(when)}${missing}`);
    }
    out.line(`${executed.length} applied, ${pending.length} pending.`);
    return { applied: executed.length, pending: pending.length };
  });
}
