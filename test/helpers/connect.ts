import { randomBytes } from 'node:crypto';
import { Database, DatabaseConfigOverrides, DatabaseOptions } from '../../src';
import { captureLogs, LogCapture } from './logs';
import { createTestDatabase, TestDatabase, withAdmin } from './database';

/** A connected test database handle with its captured log. */
export interface Connected {
  readonly database: Database;
  readonly logs: LogCapture;
  /** The application_name its connections carry, unique to this handle: count its backends with it. */
  readonly applicationName: string;
}

/** Options of `connectTo`: extra variables, code overrides, a name, entities. */
export interface ConnectOptions extends Omit<DatabaseOptions, 'env' | 'logger' | 'config'> {
  readonly env?: Record<string, string>;
  readonly config?: DatabaseConfigOverrides;
  readonly logLevel?: string;
}

/** A unique application_name, so a test can count exactly its own backends in pg_stat_activity. */
export function uniqueAppName(label = 'bt'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** The environment a test database is reached with. */
export function testEnv(db: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: db.url, LOG_SLOW_QUERY_MS: '0', ...extra };
}

/** `Database.connect()` against the file's test database, logging into a capture. */
export async function connectTo(db: TestDatabase, options: ConnectOptions = {}): Promise<Connected> {
  const logs = captureLogs(options.logLevel);
  const applicationName = options.env?.DB_APPLICATION_NAME ?? uniqueAppName();
  const { env, logLevel: _level, ...rest } = options;
  const database = await Database.connect({
    entities: [],
    migrations: [],
    ...rest,
    env: testEnv(db, { DB_APPLICATION_NAME: applicationName, ...env }),
    logger: logs.logger,
  });
  return { database, logs, applicationName };
}

/** Backends currently connected with `applicationName`, seen from a separate admin connection. */
export async function backendCount(applicationName: string): Promise<number> {
  const { rows } = await withAdmin((c) =>
    c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]),
  );
  return Number(rows[0]?.n);
}

/**
 * Polls until the server sees `expected` backends for `applicationName` (a closed socket is noticed by the
 * server asynchronously); returns the last count, so the assertion stays in the test.
 */
export async function settledBackendCount(applicationName: string, expected: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = await backendCount(applicationName);
  while (count !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    count = await backendCount(applicationName);
  }
  return count;
}

/** The file's database and its connected handle, filled in by `useConnectedDatabase`'s beforeAll. */
export interface ConnectedSuite {
  readonly db: TestDatabase;
  readonly database: Database;
  readonly connected: Connected;
}

/**
 * Gives a test file its own database and one connected handle: created (and `setupSql` run) before its tests,
 * closed and dropped after them.
 */
export function useConnectedDatabase(options: ConnectOptions = {}, setupSql?: string): ConnectedSuite {
  let db: TestDatabase | undefined;
  let connected: Connected | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    connected = await connectTo(db, options);
    if (setupSql) await connected.database.execute(setupSql);
  });
  afterAll(async () => {
    await Database.closeAll();
    await db?.drop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useConnectedDatabase: used before its beforeAll ran');
    return value;
  };
  return {
    get db() {
      return ready(db);
    },
    get database() {
      return ready(connected).database;
    },
    get connected() {
      return ready(connected);
    },
  };
}
