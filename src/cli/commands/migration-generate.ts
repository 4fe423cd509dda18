import { relative } from 'node:path';
import type { BastionDataSource } from '../../connection/data-source';
import type { Output } from '../output';
import { UsageError } from '../usage-error';
import { writeMigrationFile } from './migration-files';

/**
 * Writes a migration with the SQL that brings the live schema in line with the entities (TypeORM's schema diff).
 * Refuses to write an empty one.
 */
export async function migrationGenerate(dataSource: BastionDataSource, out: Output, name: string, dir: string): Promise<string> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  if (sql.upQueries.length === 0) {
    throw new UsageError(
      'No changes: the entities and the database schema already match, so there is nothing to generate. ' +
        'Change an entity (or point DATABASE_URL at the database you mean), then run migration:generate again.',
    );
  }
  const path = writeMigrationFile(dir, name, sql.upQueries, [...sql.downQueries].reverse());
  out.ok(`Generated ${relative(process.cwd(), path)} (${sql.upQueries.length} statements). Review it, then run migration:run.`);
  return path;
}
