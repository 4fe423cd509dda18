import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Database } from '../../src';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase, withAdmin } from '../helpers/database';
import { LEDGER_ENTITIES, LEDGER_MIGRATIONS } from '../../app/ledger';
import { DB_PASSWORD } from '../helpers/secrets';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** Every object of the public schema a migration could have left behind: tables, sequences, indexes, types, views. */
async function schemaObjects(name: string): Promise<string[]> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ object: string }>(`
      SELECT c.relkind::text || ' ' || c.relname AS object FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public'
      UNION ALL
      SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
      ORDER BY 1`);
    return rows.map((r) => r.object);
  }, name);
}

/** What is left when only TypeORM's own bookkeeping table exists. */
const ONLY_MIGRATIONS_TABLE = ['S migrations_id_seq', 'i PK_8c82d7f526340ab734260ea46be', 'r migrations'];

describe('the ledger migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Database.closeAll();
    await db.drop();
  });

  it('create exactly the schema the entities describe, and revert to an empty schema', async () => {
    const { database } = await connectTo(db, { entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });
    const applied = await database.dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(['CreateCustomersAndAccounts1795890000000', 'CreateTransfersAndAuditEvents1795890100000']);
    expect(await schemaObjects(db.name)).toEqual(
      expect.arrayContaining(['r customers', 'r accounts', 'r transfers', 'r audit_events', 'i accounts_owner_id_idx', 'i customers_email_key']),
    );
    // What `migration:generate` would write: nothing, the migrations and the entities agree.
    const pending = await database.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);

    const appliedCount = async () => (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM migrations'))[0]!.n;
    while ((await appliedCount()) > 0) await database.dataSource.undoLastMigration();
    expect(await database.dataSource.showMigrations()).toBe(true);
    expect(await database.query('SELECT count(*)::int AS n FROM migrations')).toEqual([{ n: 0 }]);
    expect(await schemaObjects(db.name)).toEqual(ONLY_MIGRATIONS_TABLE);

    // Reversible: they apply again cleanly.
    expect(await database.dataSource.runMigrations()).toHaveLength(2);
    await database.close();
  });

  it('run and revert with the stock TypeORM CLI through ormconfig.ts and the default globs', async () => {
    const other = await createTestDatabase();
    try {
      const cli = (...args: string[]) =>
        run(process.execPath, [join(root, 'node_modules', 'typeorm', 'cli-ts-node-commonjs.js'), ...args, '-d', 'ormconfig.ts'], {
          cwd: root,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: other.url, LOG_LEVEL: 'warn', TS_NODE_PROJECT: join(root, 'tsconfig.json') },
        });
      const up = await cli('migration:run');
      expect(up.stdout + up.stderr).not.toContain(DB_PASSWORD);
      const applied = await withAdmin((c) => c.query<{ name: string }>('SELECT name FROM migrations ORDER BY id'), other.name);
      expect(applied.rows.map((r) => r.name)).toEqual(['CreateCustomersAndAccounts1795890000000', 'CreateTransfersAndAuditEvents1795890100000']);
      expect(await schemaObjects(other.name)).toEqual(expect.arrayContaining(['r customers', 'r accounts', 'r transfers', 'r audit_events']));
      await cli('migration:revert');
      await cli('migration:revert');
      expect(await schemaObjects(other.name)).toEqual(ONLY_MIGRATIONS_TABLE);
    } finally {
      await other.drop();
    }
  });
});
