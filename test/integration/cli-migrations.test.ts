import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { bastion, ROOT } from '../helpers/cli';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { DB_PASSWORD } from '../helpers/secrets';

const FIXTURES = join(ROOT, 'test', 'fixtures');
const MIGRATIONS = join(FIXTURES, 'migrations', '*.ts');

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(() => db.drop());

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: db.url, DB_MIGRATIONS: MIGRATIONS, DB_ENTITIES: join(FIXTURES, 'cli-entities', '*.ts'), ...extra };
}

async function sql<T>(text: string): Promise<T[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}
const tables = async () => (await sql<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((r) => r.t);
const applied = async () => (await sql<{ name: string }>('SELECT name FROM migrations ORDER BY id')).map((r) => r.name);

describe('bastion migration:run / show / revert', () => {
  it('shows pending migrations, applies them in order with durations, then shows them applied', async () => {
    const before = await bastion(['migration:show'], env());
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/\[ \] pending {2}CreateGadgets1700000000000 {2}2023-11-14T22:13:20\.000Z/);
    expect(before.stdout).toContain('0 applied, 2 pending.');

    const run = await bastion(['migration:run'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/2 pending migrations \(transaction mode: each\)/);
    expect(run.stdout).toMatch(/✔ CreateGadgets1700000000000 \d+ ms\n/);
    expect(run.stdout).toMatch(/✔ AddGadgetColour1700000100000 \d+ ms\n/);
    expect(run.stdout).toMatch(/Applied 2 migrations in/);
    expect(await applied()).toEqual(['CreateGadgets1700000000000', 'AddGadgetColour1700000100000']);
    expect(await sql('SELECT name, colour FROM gadgets')).toEqual([{ name: 'first gadget', colour: 'grey' }]);

    const again = await bastion(['migration:run'], env());
    expect(again.stdout).toContain('No pending migrations: the schema is up to date.');
    const after = await bastion(['migration:show'], env());
    expect(after.stdout).toContain('2 applied, 0 pending.');
  });

  it('prints the SQL with --dry-run and changes nothing', async () => {
    const result = await bastion(['migration:run', '--dry-run'], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('-- CreateGadgets1700000000000\nCREATE TABLE gadgets (id serial PRIMARY KEY, name text NOT NULL);');
    expect(result.stdout).toContain("ALTER TABLE gadgets ADD COLUMN colour text NOT NULL DEFAULT 'grey';");
    expect(result.stdout).toMatch(/Dry run: 2 migrations would be applied \(4 statements\)\. Nothing was changed/);
    expect(await tables()).toEqual([]);
  });

  it('reverts step by step, and to zero, leaving only the migrations table', async () => {
    await bastion(['migration:run'], env());
    const one = await bastion(['migration:revert'], env());
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/↩ AddGadgetColour1700000100000/);
    expect(await applied()).toEqual(['CreateGadgets1700000000000']);
    const rest = await bastion(['migration:revert', '--steps', 'all'], env());
    expect(rest.stdout).toMatch(/Reverted 1 migration in/);
    expect(await tables()).toEqual(['migrations']);
    expect(await applied()).toEqual([]);
    const nothing = await bastion(['migration:revert'], env());
    expect(nothing.stdout).toContain('No applied migrations: nothing to revert.');
  });

  it('applies each migration exactly once when two runners start at the same moment', async () => {
    const [a, b] = await Promise.all([bastion(['migration:run'], env()), bastion(['migration:run'], env())]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(await applied()).toEqual(['CreateGadgets1700000000000', 'AddGadgetColour1700000100000']);
    expect(await sql('SELECT count(*)::int AS n FROM gadgets')).toEqual([{ n: 1 }]);
    const outputs = [a.stdout, b.stdout];
    expect(outputs.filter((o) => /holds the migration lock; waiting for it to finish/.test(o))).toHaveLength(1);
    expect(outputs.filter((o) => o.includes('Applied 2 migrations'))).toHaveLength(1);
    expect(outputs.filter((o) => o.includes('No pending migrations'))).toHaveLength(1);
  });

  it('reports a failing migration as one paragraph naming it and its statement, rolled back, no stack trace', async () => {
    const failing = env({ DB_MIGRATIONS: join(FIXTURES, 'failing-migrations', '*.ts') });
    const result = await bastion(['migration:run'], failing);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Migration BrokenWidgetIndex1700000100000 failed and it was rolled back (the 1 before it stay applied).\n' +
        '  Statement: CREATE INDEX widgets_colour ON widgets (colour)\n' +
        '  Cause: column "colour" does not exist [42703]\n' +
        '  Fix the migration (or the data it trips over) and run migration:run again.\n' +
        '(run with --verbose for details)\n',
    );
    expect(await applied()).toEqual(['CreateWidgets1700000000000']);
    expect(await sql("SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'widgets' AND column_name = 'size'")).toEqual([{ n: 0 }]);

    const verbose = await bastion(['migration:run', '--verbose'], failing);
    expect(verbose.stderr).toMatch(/\n {4}at /);
  });

  it('rolls every migration of the run back with --transaction all', async () => {
    const result = await bastion(['migration:run', '--transaction', 'all'], env({ DB_MIGRATIONS: join(FIXTURES, 'failing-migrations', '*.ts') }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Migration BrokenWidgetIndex1700000100000 failed and all migrations of this run were rolled back\./);
    expect((await tables()).filter((t) => t !== 'migrations')).toEqual([]);
  });

  it('explains bad configuration and exits non-zero, without echoing the password', async () => {
    const result = await bastion(['migration:run'], { DATABASE_URL: `postgres://u:${DB_PASSWORD}@h/db`, DB_POOL_MAX: 'lots' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration (1 problem):\n  - DB_POOL_MAX: "lots" is not valid; expected an integer from 1 to 1000\n' +
        'Fix these variables (in the environment or .env) and run again.\n',
    );
    expect(result.stderr + result.stdout).not.toContain(DB_PASSWORD);
  });

  it('rejects wrong usage with exit code 2', async () => {
    const result = await bastion(['migration:revert', '--steps', 'zero'], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Error: --steps must be a positive number or "all" \(got "zero"\)\./);
  });
});

describe('bastion migration:create / migration:generate', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-migrations-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an empty migration class named with a timestamp', async () => {
    const result = await bastion(['migration:create', 'add ledger index', '--dir', dir], env());
    expect(result.code).toBe(0);
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^\d{13}-AddLedgerIndex\.ts$/);
    const text = readFileSync(join(dir, file!), 'utf8');
    expect(text).toMatch(/export class AddLedgerIndex\d{13} implements MigrationInterface/);
    expect(result.stdout).toContain(`Created `);
  });

  it('generates the SQL that creates a new entity\'s table, and the generated migration runs', async () => {
    const result = await bastion(['migration:generate', 'create-gizmos', '--dir', dir], env());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [file] = readdirSync(dir);
    const text = readFileSync(join(dir, file!), 'utf8');
    expect(text).toContain('CREATE TABLE "gizmos"');
    expect(text).toContain('DROP TABLE "gizmos"');
    const run = await bastion(['migration:run'], env({ DB_MIGRATIONS: join(dir, '*.ts') }));
    expect(run.code).toBe(0);
    expect(await tables()).toEqual(['gizmos', 'migrations']);

    const nothing = await bastion(['migration:generate', 'again', '--dir', dir], env({ DB_MIGRATIONS: join(dir, '*.ts') }));
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/^Error: No changes: the entities and the database schema already match/);
    expect(readdirSync(dir)).toHaveLength(1);
    expect(existsSync(join(dir, file!))).toBe(true);
  });
});

describe('bastion health', () => {
  it('prints the report and exits 0 when healthy', async () => {
    const result = await bastion(['health'], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✔ bastion_test@127\.0\.0\.1:\d+\/bt_\w+: round trip [\d.]+ ms; pool \d+\/10 open/);
    const json = await bastion(['health', '--json'], env());
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, pool: { max: 10 } });
  });

  it('exits 1 with the cause when the database cannot be reached', async () => {
    const url = new URL(db.url);
    url.port = '1';
    const result = await bastion(['health'], env({ DATABASE_URL: url.toString() }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Could not reach PostgreSQL \(ECONNREFUSED\)/);
  });
});
