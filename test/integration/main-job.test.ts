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
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TS_NODE_PROJECT: join(root, 'tsconfig.json') };
  return { ...env, ...extra };
}

describe('npm start (the main job) as a child process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('uses the configured DATABASE_URL and prints health', async () => {
    const { stdout, stderr } = await run(process.execPath, ['-r', require.resolve('ts-node/register'), main], {
      cwd: root,
      env: cleanEnv({ DATABASE_URL: db.url, LOG_FORMAT: 'json' }),
    });
    expect(stdout).toContain('why      : using the database configured by DATABASE_URL');
    expect(stdout).toMatch(/health {3}: ok=true latency=[\d.]+ ms pool total=1 idle=1 waiting=0 max=10/);
    expect(stdout + stderr).not.toContain(DB_PASSWORD);
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as { message: string });
    expect(lines.map((l) => l.message)).toEqual(['connected', 'using the database configured by DATABASE_URL', 'closed']);
  });

  it('boots an embedded PostgreSQL when nothing is configured, and says so', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bastion-newuser-'));
    let dataDir: string | undefined;
    try {
      const { stdout } = await run(process.execPath, ['-r', require.resolve('ts-node/register'), main], { cwd, env: cleanEnv({ LOG_FORMAT: 'json' }) });
      dataDir = /data in (\S+),/.exec(stdout)?.[1];
      expect(stdout).toMatch(/why {6}: no DATABASE_URL or DB_HOST is configured, so an embedded PostgreSQL was started/);
      expect(stdout).toMatch(/server {3}: PostgreSQL 17\.\d+/);
      expect(stdout).toMatch(/health {3}: ok=true/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      if (dataDir && dataDir.startsWith(tmpdir())) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
