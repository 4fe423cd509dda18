import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { DB_PASSWORD } from '../helpers/secrets';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const main = join(root, 'app', 'main.ts');

describe('npm start -- --via-ssh (the main job through an in-process bastion)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('reaches the database through a loopback SSH bastion with a pinned host key, and closes pool then tunnel', async () => {
    const { stdout, stderr } = await run(process.execPath, ['-r', require.resolve('ts-node/register'), main, '--via-ssh'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    });
    expect(stdout).toContain('invariant  : total before 10000.00 = total after 10000.00: unchanged');
    expect(stdout).toMatch(/tunnel {5}: ready via demo@127\.0\.0\.1:\d+, \d+ channel\(s\), 0 reconnect\(s\)/);
    expect(stdout).toMatch(/through in-process demo bastion demo@127\.0\.0\.1:\d+, ed25519 key login, host key SHA256:\S{43} pinned\)/);
    expect(stdout + stderr).not.toContain(DB_PASSWORD);
    expect(stdout + stderr).not.toContain('PRIVATE KEY');
    const raw = stderr.trim().split('\n');
    expect(raw.filter((l) => !l.startsWith('{'))).toEqual([]);
    const lines = raw.map((l) => JSON.parse(l) as { message: string; via?: string }).filter((l) => l.message !== 'transaction retry');
    expect(lines.map((l) => l.message)).toEqual([
      'ssh tunnel connecting',
      'ssh tunnel ready',
      'connected',
      'using the database configured by DATABASE_URL',
      'ssh tunnel closed',
      'closed',
    ]);
    expect(lines[2]?.via).toMatch(/^ssh demo@127\.0\.0\.1:\d+$/);
  });
});
