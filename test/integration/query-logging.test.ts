import { currentTransaction, Database, UniqueViolationError, withTransaction } from '../../src';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { captureLogs } from '../helpers/logs';
import { DB_PASSWORD } from '../helpers/secrets';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => Database.closeAll());
afterAll(() => db.drop());

describe('query logging', () => {
  it('logs every query once it completes, with duration, row count, worker and backend pid; parameters redacted', async () => {
    const { database, logs } = await connectTo(db, { logLevel: 'debug' });
    await database.query('SELECT g FROM generate_series(1, $1::int) g', [3], { worker: 'importer-2' });
    const [line] = logs.messages('query').filter((l) => String(l.sql).includes('generate_series'));
    expect(line).toMatchObject({ level: 'debug', worker: 'importer-2', rows: 3, sql: 'SELECT g FROM generate_series(1, $1::int) g', params: '[1 redacted]' });
    expect(typeof line?.ms).toBe('number');
    expect(typeof line?.pid).toBe('number');
  });

  it('tags every statement of a transaction, BEGIN and COMMIT included, with its transaction id', async () => {
    const { database, logs } = await connectTo(db, { logLevel: 'debug' });
    const id = await withTransaction(async () => {
      await database.query('SELECT 1 AS inside');
      return currentTransaction()!.id;
    });
    await database.query('SELECT 1 AS outside');
    const statements = logs.messages('query').map((l) => [l.sql, l.tx]);
    expect(statements).toEqual([
      ['START TRANSACTION ISOLATION LEVEL READ COMMITTED READ WRITE', id],
      ['SELECT 1 AS inside', id],
      ['COMMIT', id],
      ['SELECT 1 AS outside', undefined],
    ]);
    expect(logs.messages('transaction committed')).toEqual([expect.objectContaining({ tx: id, isolation: 'READ COMMITTED' })]);
  });

  it('shows parameter values with LOG_QUERY_PARAMS=true, still masking known secrets', async () => {
    const { database, logs } = await connectTo(db, { logLevel: 'debug', env: { LOG_QUERY_PARAMS: 'true' } });
    await database.query('SELECT $1::text AS a, $2::text AS b', ['visible', `prefix-${DB_PASSWORD}`]);
    const [line] = logs.messages('query').filter((l) => String(l.sql).includes('$2::text'));
    expect(line?.params).toEqual(['visible', 'prefix-***']);
  });

  it('logs a failed query once, with its SQLSTATE', async () => {
    const { database, logs } = await connectTo(db, { logLevel: 'debug' });
    await database.execute('CREATE TABLE IF NOT EXISTS tags (name text PRIMARY KEY)');
    await database.execute('INSERT INTO tags VALUES ($1) ON CONFLICT DO NOTHING', ['x']);
    await expect(database.execute('INSERT INTO tags VALUES ($1)', ['x'])).rejects.toBeInstanceOf(UniqueViolationError);
    const failures = logs.messages('query failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'warn', code: '23505', sql: 'INSERT INTO tags VALUES ($1)', params: '[1 redacted]' });
    expect(logs.lines.filter((l) => String(l.sql) === 'INSERT INTO tags VALUES ($1)')).toHaveLength(1);
  });

  it('warns about queries slower than LOG_SLOW_QUERY_MS', async () => {
    const { database, logs } = await connectTo(db, { logLevel: 'warn', env: { LOG_SLOW_QUERY_MS: '40' } });
    await database.query('SELECT pg_sleep(0.08)');
    await database.query('SELECT 1');
    const slow = logs.messages('slow query');
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({ level: 'warn', sql: 'SELECT pg_sleep(0.08)', thresholdMs: 40, rows: 1 });
    expect(logs.messages('query')).toHaveLength(0);
  });

  it('never logs the password, not even when the connection fails', async () => {
    const logs = captureLogs();
    const wrong = new URL(db.url);
    wrong.pathname = '/bt_missing_database';
    await expect(Database.connect({ env: { DATABASE_URL: wrong.toString() }, logger: logs.logger })).rejects.toThrow(
      /does not exist/,
    );
    const { database, logs: connected } = await connectTo(db, { env: { LOG_QUERY_PARAMS: 'true' } });
    await database.query('SELECT $1::text AS p', [DB_PASSWORD]);
    expect(logs.messages('connect failed')).toHaveLength(1);
    expect(connected.messages('query').length).toBeGreaterThan(0);
    expect(JSON.stringify([...logs.lines, ...connected.lines])).not.toContain(DB_PASSWORD);
  });
});
