import { LEDGER_ENTITIES, LEDGER_MIGRATIONS } from '../../app/ledger';
import { Database } from '../../src';
import { ConnectOptions, Connected, connectTo } from './connect';
import type { TestDatabase } from './database';

/** Connects to the file's test database with the sample ledger's entities and runs its migrations. */
export async function connectLedger(db: TestDatabase, options: ConnectOptions = {}): Promise<Connected> {
  const connected = await connectTo(db, { entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS, ...options });
  await connected.database.dataSource.runMigrations();
  return connected;
}

/** Row count and a digest of every row of a table: equal before and after means the table was not touched. */
export async function tableState(database: Database, table: string): Promise<{ rows: number; digest: string | null }> {
  const [state] = await database.query<{ rows: number; digest: string | null }>(
    `SELECT count(*)::int AS rows, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${table} t`,
  );
  return state!;
}
