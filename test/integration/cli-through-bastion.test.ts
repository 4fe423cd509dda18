import { join } from 'node:path';
import { Client } from 'pg';
import { bastion, ROOT } from '../helpers/cli';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { SSH_PASSWORD } from '../helpers/secrets';
import { startSshServer, TestSshServer, tunnelEnv } from '../helpers/ssh-server';

const MIGRATIONS = join(ROOT, 'test', 'fixtures', 'migrations', '*.ts');

let db: TestDatabase;
let server: TestSshServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startSshServer();
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

/** The database as the bastion reaches it, with the bastion's SSH settings: the application's own configuration. */
function throughBastion(extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: db.url, DB_MIGRATIONS: MIGRATIONS, ...tunnelEnv(server, { SSH_PASSWORD }), ...extra };
}

describe('bastion CLI through the SSH bastion', () => {
  it('runs migrations through the tunnel with no extra flag', async () => {
    const logins = server.logins;
    const result = await bastion(['migration:run'], throughBastion());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Applied 2 migrations in/);
    expect(server.logins).toBe(logins + 1);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query('SELECT name FROM migrations ORDER BY id');
    await client.end();
    expect(rows.map((r: { name: string }) => r.name)).toEqual(['CreateGadgets1700000000000', 'AddGadgetColour1700000100000']);
  });

  it('shows the tunnel in the health report', async () => {
    const result = await bastion(['health'], throughBastion());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ {2}tunnel via tunnel@127\.0\.0\.1:\d+: ready, \d+ open channel\(s\), 0 reconnect\(s\)/);
  });

  it('refuses a bastion whose host key does not match, in one paragraph that says how to pin it', async () => {
    const result = await bastion(['migration:show'], throughBastion({ SSH_HOST_KEY: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Error: Host key verification failed for 127.0.0.1:${server.port}: the server presented ${server.hostKeyFingerprint}`);
    expect(result.stderr).toContain(`SSH_HOST_KEY=${server.hostKeyFingerprint}`);
    expect(result.stderr).toMatch(/^Error: Host key verification failed/);
    expect(result.stderr).not.toMatch(/\n {4}at /);
  });

  it('explains an unreachable bastion and exits non-zero', async () => {
    const result = await bastion(['migration:show'], throughBastion({ SSH_PORT: '1' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*SSH bastion/);
    expect(result.stderr).toContain('(run with --verbose for details)');
    expect(result.stderr + result.stdout).not.toContain(SSH_PASSWORD);
  });
});
