import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/connection/embedded-postgres';
import { ADMIN_URL_VARIABLE, EMBEDDED_PASSWORD_VARIABLE, LOG_DIR, TEST_ROLE } from './paths';
import { DB_PASSWORD } from './secrets';

/**
 * Boots one embedded PostgreSQL for the whole run (unless TEST_DATABASE_URL names a server); each test file then
 * creates its own database on it (test/helpers/database.ts), so files run in parallel without sharing state.
 */
export default async function globalSetup(): Promise<void> {
  rmSync(LOG_DIR, { recursive: true, force: true });
  mkdirSync(LOG_DIR, { recursive: true });
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const client = new Client({ connectionString: external });
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    await client.end();
    process.stderr.write(`\n[bastion tests] using TEST_DATABASE_URL: PostgreSQL ${rows[0]?.server_version}\n`);
    process.env[ADMIN_URL_VARIABLE] = external;
    await ensureTestRole(external);
    return;
  }
  const server = await startEmbeddedPostgres({
    dataDir: join(process.cwd(), '.data', `test-${process.pid}`),
    persistent: false,
    fast: true,
    database: 'postgres',
  });
  process.stderr.write(
    `\n[bastion tests] embedded PostgreSQL on port ${server.port} booted in ${server.bootMs} ms` +
      `${server.dataDirReason ? ` (${server.dataDirReason})` : ''}\n`,
  );
  (globalThis as { __bastionEmbedded?: typeof server }).__bastionEmbedded = server;
  process.env[ADMIN_URL_VARIABLE] = server.url;
  process.env[EMBEDDED_PASSWORD_VARIABLE] = decodeURIComponent(new URL(server.url).password);
  await ensureTestRole(server.url);
}

/** The role every test database belongs to; its password is one of the secrets the teardown scans for. */
async function ensureTestRole(adminUrl: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TEST_ROLE]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await client.query(`${verb} ROLE ${TEST_ROLE} LOGIN SUPERUSER PASSWORD '${DB_PASSWORD}'`);
  } finally {
    await client.end();
  }
}
