import { once } from 'node:events';
import { ConnectionError, Database, PoolExhaustedError, QueryError, QueryTimeoutError } from '../../src';
import { silentServer } from '../helpers/faults';
import { captureLogs } from '../helpers/logs';
import { pgPool } from '../../src/connection/health';
import { backendCount, connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase, withAdmin } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => Database.closeAll());
afterAll(() => db.drop());

/** A promise and the function that settles it: lets a test hold a connection exactly as long as it wants. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('pool: DB_POOL_MAX', () => {
  it('never opens more backends than the maximum under 30 concurrent queries', async () => {
    const { database, applicationName } = await connectTo(db, { env: { DB_POOL_MAX: '3' } });
    let peak = 0;
    const rows = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const [row] = await database.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.02)');
        peak = Math.max(peak, database.poolSnapshot().total);
        return row?.pid;
      }),
    );
    expect(new Set(rows).size).toBe(3);
    expect(peak).toBe(3);
    expect(await backendCount(applicationName)).toBe(3);
  });
});

describe('pool: exhaustion', () => {
  it('fails with PoolExhaustedError after the connection timeout instead of hanging', async () => {
    const { database } = await connectTo(db, { env: { DB_POOL_MAX: '1', DB_POOL_CONNECTION_TIMEOUT_MS: '300' } });
    const held = gate();
    const holder = database.withConnection(() => held.opened);
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    const error = await database.query('SELECT 1').catch((e: unknown) => e);
    const waited = Date.now() - started;
    held.open();
    await holder;

    expect(error).toBeInstanceOf(PoolExhaustedError);
    const exhausted = error as PoolExhaustedError;
    expect(exhausted.pool).toEqual({ max: 1, total: 1, idle: 0, waiting: 0 });
    expect(exhausted.timeoutMs).toBe(300);
    expect(exhausted.message).toBe(
      'No database connection became available within 300 ms (DB_POOL_CONNECTION_TIMEOUT_MS): all 1 of 1 connections were busy ' +
        'and 0 other request(s) were waiting. Raise DB_POOL_MAX, make transactions shorter, or look for connections that are ' +
        'never released (a REQUIRES_NEW call inside a transaction needs a second connection).',
    );
    expect((exhausted.cause as Error).message).toBe('timeout exceeded when trying to connect');
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(5000);
    // The pool recovers as soon as the holder lets go.
    expect(await database.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('reports a server that never answers as ConnectionError after the timeout, not as pool exhaustion', async () => {
    const silent = await silentServer();
    try {
      const url = new URL(db.url);
      url.port = String(silent.port);
      const started = Date.now();
      const error = await Database.connect({
        env: { DATABASE_URL: url.toString(), DB_POOL_CONNECTION_TIMEOUT_MS: '300' },
        logger: captureLogs().logger,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).not.toBeInstanceOf(PoolExhaustedError);
      expect((error as ConnectionError).code).toBe('ETIMEDOUT');
      expect((error as Error).message).toBe(
        'Could not connect to PostgreSQL within 300 ms connection timeout: the server (or the SSH tunnel to it) is ' +
          'unreachable or too slow. Check DB_HOST/DB_PORT and the network, or raise DB_POOL_CONNECTION_TIMEOUT_MS.',
      );
      expect(silent.accepted).toBe(1);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await silent.close();
    }
  });
});

describe('pool: session settings', () => {
  it('cancels a statement past DB_STATEMENT_TIMEOUT_MS with QueryTimeoutError and keeps the connection usable', async () => {
    const { database } = await connectTo(db, { env: { DB_STATEMENT_TIMEOUT_MS: '100', DB_POOL_MAX: '1' } });
    const error = await database.query('SELECT pg_sleep(5)').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect((error as QueryTimeoutError).code).toBe('57014');
    expect((error as Error).message).toMatch(/^The statement was cancelled \(canceling statement due to statement timeout\) \[57014\]/);
    expect(await database.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '100ms' }]);
  });

  it('runs DB_SESSION_SQL once on every new connection', async () => {
    const { database } = await connectTo(db, {
      env: { DB_SESSION_SQL: "SET search_path TO ledger_app, public; SET timezone TO 'Asia/Tokyo'", DB_POOL_MAX: '2' },
    });
    const seen = await Promise.all(
      [1, 2].map(() =>
        database.withConnection(async (runner) => {
          const rows = (await runner.query('SELECT current_setting($1) AS path, current_setting($2) AS tz, pg_backend_pid() AS pid, pg_sleep(0.05)', [
            'search_path',
            'TimeZone',
          ])) as { path: string; tz: string; pid: number }[];
          return rows[0];
        }),
      ),
    );
    expect(new Set(seen.map((s) => s?.pid)).size).toBe(2);
    for (const s of seen) expect(s).toMatchObject({ path: 'ledger_app, public', tz: 'Asia/Tokyo' });
  });

  it('fails connect() with the session SQL error and leaves nothing open', async () => {
    const error = await connectTo(db, { env: { DB_SESSION_SQL: 'SET no_such_setting TO 1' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).code).toBe('42704');
    expect(() => Database.current()).toThrow();
  });

  it('sends application_name, lock and idle-in-transaction timeouts in the startup packet', async () => {
    const { database, applicationName } = await connectTo(db, {
      env: { DB_LOCK_TIMEOUT_MS: '1500', DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000' },
    });
    expect(await database.query('SELECT current_setting($1) AS app, current_setting($2) AS lock, current_setting($3) AS idle', [
      'application_name',
      'lock_timeout',
      'idle_in_transaction_session_timeout',
    ])).toEqual([{ app: applicationName, lock: '1500ms', idle: '1min' }]);
  });
});

describe('pool: connection lifecycle', () => {
  it('opens DB_POOL_MIN connections at connect()', async () => {
    const { database, applicationName } = await connectTo(db, { env: { DB_POOL_MIN: '3', DB_POOL_MAX: '5' } });
    expect(database.poolSnapshot()).toEqual({ max: 5, total: 3, idle: 3, waiting: 0 });
    expect(await backendCount(applicationName)).toBe(3);
  });

  it('replaces a connection after DB_POOL_MAX_USES checkouts', async () => {
    const { database } = await connectTo(db, { env: { DB_POOL_MAX: '1', DB_POOL_MAX_USES: '2' } });
    const pids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [row] = await database.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      pids.push(row!.pid);
    }
    // The first checkout happened during initialization, so the first connection serves one query.
    expect(new Set(pids).size).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < pids.length - 1; i++) {
      expect(pids[i] === pids[i - 1] && pids[i] === pids[i + 1]).toBe(false);
    }
  });

  it('closes connections idle longer than DB_POOL_IDLE_TIMEOUT_MS', async () => {
    const { database, applicationName } = await connectTo(db, { env: { DB_POOL_IDLE_TIMEOUT_MS: '50' } });
    const pool = pgPool(database.dataSource)!;
    const removed = once(pool, 'remove');
    await database.query('SELECT 1');
    await removed;
    expect(database.poolSnapshot().total).toBe(0);
    expect(await backendCount(applicationName)).toBeLessThanOrEqual(1);
    expect(await database.query('SELECT 1 AS again')).toEqual([{ again: 1 }]);
  });

  it('retires a connection older than DB_POOL_MAX_LIFETIME_S', async () => {
    const { database } = await connectTo(db, { env: { DB_POOL_MAX_LIFETIME_S: '1', DB_POOL_MAX: '1' } });
    const pool = pgPool(database.dataSource)!;
    const [before] = await database.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await once(pool, 'remove');
    const [after] = await database.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(after!.pid).not.toBe(before!.pid);
  });

  it('turns a backend killed mid-query into ConnectionError and serves the next query', async () => {
    const { database } = await connectTo(db, { env: { DB_POOL_MAX: '2' } });
    const running = database.query('SELECT pg_sleep(10)').catch((e: unknown) => e);
    let pid: number | undefined;
    while (pid === undefined) {
      const rows = await database.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'",
      );
      pid = rows[0]?.pid;
    }
    await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
    const error = await running;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(await database.query('SELECT 4 AS four')).toEqual([{ four: 4 }]);
  });
});
