import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { DB_PASSWORD } from '../helpers/secrets';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const main = join(root, 'app', 'main.ts');

/** The environment of a new user's shell: no database configured at all. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TS_NODE_PROJECT: join(root, 'tsconfig.json'), ...extra };
}

const start = (cwd: string, env: NodeJS.ProcessEnv) => run(process.execPath, ['-r', require.resolve('ts-node/register'), main], { cwd, env });

describe('npm start (the ledger demo) as a child process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('migrates, runs the transfer burst and reports an unchanged total, on the configured database; re-running is safe', async () => {
    const first = await start(root, cleanEnv({ DATABASE_URL: db.url, LOG_FORMAT: 'json' }));
    expect(first.stdout).toMatch(/^bastion demo: using the database configured by DATABASE_URL\n/);
    expect(first.stdout).toMatch(/database {3}: bastion_test@127\.0\.0\.1:\d+\/bt_\w+ \(direct\)/);
    expect(first.stdout).toContain('migrations : CreateCustomersAndAccounts1795890000000, CreateTransfersAndAuditEvents1795890100000');
    expect(first.stdout).toContain('invariant  : total before 10000.00 = total after 10000.00: unchanged');
    expect(first.stdout).toMatch(/transfers {2}: 400 attempted, \d+ committed, \d+ rolled back \(.*16 NotFoundError.*\), \d+ retried/);
    expect(first.stdout + first.stderr).not.toContain(DB_PASSWORD);

    const second = await start(root, cleanEnv({ DATABASE_URL: db.url, LOG_FORMAT: 'json' }));
    expect(second.stdout).toContain('migrations : none pending');
    expect(second.stdout).toContain('invariant  : total before 10000.00 = total after 10000.00: unchanged');
    expect(second.stdout.match(/^ +\d+ {2}\S/gm)).toHaveLength(10);
  });

  it('boots an embedded PostgreSQL when nothing is configured, and says so', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bastion-newuser-'));
    let dataDir: string | undefined;
    try {
      const { stdout } = await start(cwd, cleanEnv({ LOG_FORMAT: 'json' }));
      dataDir = /data in (\S+),/.exec(stdout)?.[1];
      expect(stdout).toMatch(/no DATABASE_URL or DB_HOST is configured, so an embedded PostgreSQL was started/);
      expect(stdout).toContain('invariant  : total before 10000.00 = total after 10000.00: unchanged');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      if (dataDir && dataDir.startsWith(tmpdir())) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
