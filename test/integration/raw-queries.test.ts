import { Database, ValidationError } from '../../src';
import { connectTo } from '../helpers/connect';
import { captureLogs } from '../helpers/logs';
import { createTestDatabase, TestDatabase } from '../helpers/database';

let db: TestDatabase;
let database: Database;
beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectTo(db, { env: { DB_POOL_MAX: '3' } }));
  await database.execute('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, amount numeric(20,8))');
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

describe('db.query / db.execute / db.executeQuery', () => {
  it('returns rows as plain objects', async () => {
    const rows = await database.query<{ n: number; label: string }>('SELECT $1::int AS n, $2::text AS label', [7, 'seven']);
    expect(rows).toEqual([{ n: 7, label: 'seven' }]);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
  });

  it('binds hostile strings as values, never as SQL', async () => {
    const hostile = ["'); DROP TABLE notes; --", '$1', '\\x00', "' OR '1'='1"];
    for (const body of hostile) {
      expect(await database.execute('INSERT INTO notes (body) VALUES ($1)', [body])).toBe(1);
    }
    const rows = await database.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
    expect(rows.map((r) => r.body)).toEqual(hostile);
    expect(await database.query("SELECT to_regclass('notes') IS NOT NULL AS present")).toEqual([{ present: true }]);
    expect(await database.query("SELECT count(*)::int AS n FROM notes WHERE body = $1", ["' OR '1'='1"])).toEqual([{ n: 1 }]);
  });

  it('keeps numeric precision by returning numerics as strings', async () => {
    await database.execute('INSERT INTO notes (body, amount) VALUES ($1, $2)', ['precise', '123456789012.12345678']);
    expect(await database.query('SELECT amount FROM notes WHERE body = $1', ['precise'])).toEqual([{ amount: '123456789012.12345678' }]);
  });

  it('returns affected row counts from execute()', async () => {
    await database.execute('DELETE FROM notes');
    expect(await database.execute('INSERT INTO notes (body) SELECT $1 || g FROM generate_series(1, 5) g', ['n'])).toBe(5);
    expect(await database.execute('UPDATE notes SET body = body || $1 WHERE body = ANY($2)', ['!', ['n2', 'n4']])).toBe(2);
    expect(await database.execute('DELETE FROM notes WHERE body LIKE $1', ['%!'])).toBe(2);
    expect(await database.execute('CREATE TEMP TABLE scratch (x int)')).toBe(0);
  });

  it('executeQuery: fetch returns rows, execute and commit return counts', async () => {
    expect(await database.executeQuery('worker-1', 'SELECT count(*)::int AS n FROM notes', [])).toEqual([{ n: 3 }]);
    expect(await database.executeQuery('worker-1', 'SELECT count(*)::int AS n FROM notes', [], 'fetch')).toEqual([{ n: 3 }]);
    expect(await database.executeQuery('worker-2', 'INSERT INTO notes (body) VALUES ($1), ($2)', ['a', 'b'], 'execute')).toBe(2);
    expect(await database.executeQuery('worker-3', 'DELETE FROM notes WHERE body = $1', ['a'], 'commit')).toBe(1);
    expect(await database.query('SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 4 }]);
  });

  it('rejects an unknown operation, a missing statement and non-array parameters with ValidationError', async () => {
    await expect(database.executeQuery('w', 'SELECT 1', [], 'delete' as 'fetch')).rejects.toThrow(
      new ValidationError('executeQuery call', [
        { property: 'operation', constraints: { isIn: `operation must be 'fetch', 'execute' or 'commit', got "delete"` } },
      ]).message,
    );
    await expect(database.query('  ')).rejects.toBeInstanceOf(ValidationError);
    await expect(database.query('SELECT $1', 'x' as unknown as unknown[])).rejects.toThrow(
      /params: params must be an array of values for \$1, \$2, …; never build SQL from values/,
    );
  });

  it('withConnection gives one connection for several statements and always releases it', async () => {
    const pids = await database.withConnection(async (runner) => {
      const a = (await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
      const b = (await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
      return [a[0]?.pid, b[0]?.pid];
    });
    expect(pids[0]).toBe(pids[1]);
    await expect(database.withConnection(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const snapshot = database.poolSnapshot();
    expect(snapshot.total - snapshot.idle).toBe(0);
  });

  it('health() reports ok, latency, pool counters and the target without the password', async () => {
    const report = await database.health();
    expect(report).toMatchObject({ ok: true, tunnel: undefined, pool: { max: 3, waiting: 0 } });
    expect(report.latencyMs).toBeGreaterThan(0);
    expect(report.target).toBe(`bastion_test@${new URL(db.url).hostname}:${new URL(db.url).port}/${db.name}`);
    expect(report.error).toBeUndefined();
  });

  it('health() reports a failure instead of throwing', async () => {
    const other = await Database.connect({
      name: 'probe',
      env: { PROBE_DATABASE_URL: db.url, PROBE_DB_POOL_MAX: '1', PROBE_DB_POOL_CONNECTION_TIMEOUT_MS: '200' },
      logger: captureLogs().logger,
      entities: [],
      migrations: [],
    });
    const release = await new Promise<() => void>((hand) => {
      void other.withConnection(() => new Promise<void>((done) => hand(done)));
    });
    const report = await other.health();
    release();
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/^No database connection became available within 200 ms/);
  });
});
