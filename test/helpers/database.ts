import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ADMIN_URL_VARIABLE, TEST_ROLE } from './paths';
import { DB_PASSWORD } from './secrets';

/** A fresh database of this test file, on the run's server, owned by the test role. */
export interface TestDatabase {
  readonly name: string;
  /** `postgres://bastion_test:<DB_PASSWORD>@host:port/<name>` */
  readonly url: string;
  /** Drops it (terminating any connection left); safe to call twice. */
  drop(): Promise<void>;
}

/** The admin URL the global setup published (embedded server, or TEST_DATABASE_URL). */
export function adminUrl(): string {
  const url = process.env[ADMIN_URL_VARIABLE];
  if (!url) throw new Error(`${ADMIN_URL_VARIABLE} is not set: run the tests through jest (npm test)`);
  return url;
}

/** Runs `fn` with a short-lived admin client. */
export async function withAdmin<R>(fn: (client: Client) => Promise<R>, database?: string): Promise<R> {
  const url = new URL(adminUrl());
  if (database) url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database for one test file; call `drop()` in afterAll. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `bt_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name} OWNER ${TEST_ROLE}`));
  const url = new URL(adminUrl());
  url.username = TEST_ROLE;
  url.password = DB_PASSWORD;
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
