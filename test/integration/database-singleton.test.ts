import { ConfigError, ConnectionError, Database, DatabaseNotConnectedError } from '../../src';
import { pgPool } from '../../src/connection/health';
import { backendCount, connectTo, settledBackendCount, testEnv, uniqueAppName } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { captureLogs } from '../helpers/logs';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => Database.closeAll());
afterAll(() => db.drop());

function sockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

/** Open sockets once they have had up to `ms` to finish closing (a refused login closes asynchronously). */
async function settledSockets(expected: number, ms = 3000): Promise<number> {
  const deadline = Date.now() + ms;
  while (sockets() !== expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return sockets();
}

describe('Database.connect()', () => {
  it('initializes exactly one pool under 50 concurrent calls', async () => {
    const app = uniqueAppName('single');
    const logs = captureLogs();
    const handles = await Promise.all(
      Array.from({ length: 50 }, () =>
        Database.connect({ env: testEnv(db, { DB_APPLICATION_NAME: app }), logger: logs.logger, entities: [], migrations: [] }),
      ),
    );
    expect(new Set(handles).size).toBe(1);
    expect(Database.current()).toBe(handles[0]);
    expect(logs.messages('connected')).toHaveLength(1);
    // TypeORM opens (and keeps idle) one connection while initializing: one pool means one backend.
    expect(await backendCount(app)).toBe(1);
  });

  it('throws DatabaseNotConnectedError from current() before connect and after close', async () => {
    expect(() => Database.current()).toThrow(DatabaseNotConnectedError);
    expect(() => Database.current()).toThrow(
      'Database is not connected: call `await Database.connect()` at startup, before using repositories, transactions or Database.current().',
    );
    const { database } = await connectTo(db);
    expect(Database.current()).toBe(database);
    await database.close();
    expect(() => Database.current()).toThrow(DatabaseNotConnectedError);
  });

  it('starts a fresh pool on connect() after close(), and the old backends are gone', async () => {
    const first = await connectTo(db, { env: { DB_POOL_MIN: '2' } });
    expect(await backendCount(first.applicationName)).toBe(2);
    await Database.close();
    expect(await settledBackendCount(first.applicationName, 0)).toBe(0);
    await expect(first.database.query('SELECT 1')).rejects.toThrow();

    const second = await connectTo(db);
    expect(second.database).not.toBe(first.database);
    expect(Database.current()).toBe(second.database);
    expect(await second.database.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('makes close() idempotent and shares one close between concurrent callers', async () => {
    const { database, logs } = await connectTo(db);
    await Promise.all([database.close(), database.close(), Database.close()]);
    await database.close();
    expect(logs.messages('closed')).toHaveLength(1);
  });

  it('leaves no pool or socket behind when the first connect fails, and the next call retries', async () => {
    const before = sockets();
    const logs = captureLogs();
    const missing = new URL(db.url);
    missing.pathname = '/bt_database_that_does_not_exist';
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        Database.connect({ env: { DATABASE_URL: missing.toString() }, logger: logs.logger, entities: [], migrations: [] }),
      ),
    );
    for (const attempt of attempts) {
      expect(attempt.status).toBe('rejected');
      const reason = (attempt as PromiseRejectedResult).reason as ConnectionError;
      expect(reason).toBeInstanceOf(ConnectionError);
      expect(reason.code).toBe('3D000');
      expect(reason.message).toMatch(/database "bt_database_that_does_not_exist" does not exist \[3D000\]: create it, or fix DB_NAME/);
    }
    expect(logs.messages('connect failed')).toHaveLength(1);
    expect(() => Database.current()).toThrow(DatabaseNotConnectedError);
    expect(await settledSockets(before)).toBe(before);

    const { database } = await connectTo(db);
    expect(await database.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('reports a refused port as ConnectionError, not as a hang', async () => {
    const refused = new URL(db.url);
    refused.port = '1';
    const error = await Database.connect({ env: { DATABASE_URL: refused.toString() }, logger: captureLogs().logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('ECONNREFUSED');
    expect((error as Error).message).toMatch(/^Could not reach PostgreSQL \(ECONNREFUSED\)/);
  });

  it('rejects bad configuration with ConfigError before opening anything', async () => {
    const before = sockets();
    const error = await Database.connect({ env: { DATABASE_URL: db.url, DB_POOL_MAX: 'many' }, logger: captureLogs().logger }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { variable: 'DB_POOL_MAX', message: '"many" is not valid; expected an integer from 1 to 1000' },
    ]);
    expect(sockets()).toBe(before);
  });

  it('keeps named databases apart, each with its own pool and prefix', async () => {
    const main = await connectTo(db);
    const app = uniqueAppName('named');
    const analytics = await Database.connect({
      name: 'analytics',
      env: { ANALYTICS_DATABASE_URL: db.url, ANALYTICS_DB_APPLICATION_NAME: app, ANALYTICS_DB_POOL_MAX: '2' },
      logger: captureLogs().logger,
      entities: [],
      migrations: [],
    });
    expect(Database.current('analytics')).toBe(analytics);
    expect(Database.current()).toBe(main.database);
    expect(analytics.config.pool.max).toBe(2);
    expect(pgPool(analytics.dataSource)).not.toBe(pgPool(main.database.dataSource));
    expect(await backendCount(app)).toBe(1);
    expect(() => Database.current('reporting')).toThrow(
      "Database ('reporting') is not connected: call `await Database.connect({ name: 'reporting' })` at startup, before using repositories, transactions or Database.current('reporting').",
    );
    await Database.close('analytics');
    expect(() => Database.current('analytics')).toThrow(DatabaseNotConnectedError);
    expect(Database.current()).toBe(main.database);
  });
});

describe('Database.connect() options', () => {
  it('rejects an option it does not know, by name, instead of ignoring it', async () => {
    const error = await Database.connect({ env: testEnv(db), entity: [] } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { variable: 'entity', message: 'is not an option of Database.connect()/createDataSource(); expected one of name, env, config, entities, migrations, logger' },
    ]);
  });
});
