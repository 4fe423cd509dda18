import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, TestDatabase, withAdmin } from '../helpers/database';
import { DB_PASSWORD, SSH_PASSWORD } from '../helpers/secrets';
import { startSshServer, TestSshServer, tunnelEnv } from '../helpers/ssh-server';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
/** What `npx typeorm-ts-node-commonjs` runs (node_modules/typeorm/package.json "bin"). */
const cli = join(root, 'node_modules', '.bin', 'typeorm-ts-node-commonjs');
const dataSourceFile = join('test', 'fixtures', 'tunnel-cli', 'data-source.ts');

describe('SSH tunnel: the stock typeorm CLI', () => {
  let db: TestDatabase;
  let bastion: TestSshServer;

  beforeAll(async () => {
    [db, bastion] = await Promise.all([createTestDatabase(), startSshServer()]);
  });
  afterAll(async () => {
    await bastion.close();
    await db.drop();
  });

  it('runs `typeorm-ts-node-commonjs -d <file> migration:run` through the bastion, and exits', async () => {
    const { stdout, stderr } = await run(cli, ['-d', dataSourceFile, 'migration:run'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: db.url,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'debug',
        ...tunnelEnv(bastion, { SSH_PASSWORD }),
      },
    });
    expect(stdout + stderr).not.toContain(SSH_PASSWORD);
    expect(stdout + stderr).not.toContain(DB_PASSWORD);
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as { message: string; detail?: string });
    const messages = lines.map((l) => l.message);
    expect(messages[0]).toBe('ssh tunnel connecting');
    expect(messages[1]).toBe('ssh tunnel ready');
    expect(messages[messages.length - 1]).toBe('ssh tunnel closed');
    expect(lines).toContainEqual(
      expect.objectContaining({ message: 'schema', detail: 'Migration TunnelProbe1700000000000 has been executed successfully.' }),
    );

    expect(bastion.logins).toBe(1);
    expect(bastion.peakChannels).toBeGreaterThanOrEqual(1);
    await bastion.until((s) => s.connections === 0);
    const { rows } = await withAdmin((c) => c.query<{ note: string }>('SELECT note FROM tunnel_probe'), db.name);
    expect(rows).toEqual([{ note: 'migrated through the bastion' }]);
    const migrations = await withAdmin((c) => c.query<{ name: string }>('SELECT name FROM migrations'), db.name);
    expect(migrations.rows).toEqual([{ name: 'TunnelProbe1700000000000' }]);
  });
});
