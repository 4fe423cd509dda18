import { Database, QueryError, QueryTimeoutError, withTransaction } from '../../src';
import { createLogger } from '../../src/logging/logger';
import { PassThrough } from 'node:stream';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase, withAdmin } from '../helpers/database';
import { faultProxy, isQuery } from '../helpers/fault-proxy';
import { captureLogs } from '../helpers/logs';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await withAdmin((c) => c.query('CREATE TABLE marks (note text NOT NULL)'), db.name);
});
afterEach(() => Database.closeAll());
afterAll(() => db.drop());

/** What the one connection of a pool of one looks like to the server, seen from that connection. */
async function sessionState(database: Database): Promise<{ inTransaction: boolean }> {
  const [row] = await database.query<{ open: boolean }>('SELECT now() <> statement_timestamp() AS open');
  return { inTransaction: row!.open };
}
const marks = async (database: Database) => (await database.query<{ note: string }>('SELECT note FROM marks ORDER BY note')).map((r) => r.note);

describe('a pooled connection always goes back clean', () => {
  it('discards the connection when ROLLBACK fails for a reason other than a broken socket', async () => {
    const url = new URL(db.url);
    const proxy = await faultProxy(url.hostname, Number(url.port));
    try {
      url.port = String(proxy.port);
      const logs = captureLogs();
      const database = await Database.connect({ name: 'rollbackfails', env: { ROLLBACKFAILS_DATABASE_URL: url.toString(), ROLLBACKFAILS_DB_POOL_MAX: '1' }, logger: logs.logger });
      // The server receives "ROLLBACX": a syntax error inside the transaction, which stays open (and aborted).
      proxy.rewriteWhen({ direction: 'to-server', match: isQuery('ROLLBACK'), rewrite: (chunk) => Buffer.from(chunk.toString('latin1').replace('ROLLBACK', 'ROLLBACX'), 'latin1') });
      await expect(
        withTransaction(
          async () => {
            await database.execute("INSERT INTO marks VALUES ('doomed')");
            throw new Error('work failed');
          },
          { connection: 'rollbackfails' },
        ),
      ).rejects.toThrow('work failed');
      expect(logs.messages('rollback failed; the connection is discarded')).toHaveLength(1);
      expect(await sessionState(database)).toEqual({ inTransaction: false });
      expect(await marks(database)).toEqual([]);
    } finally {
      await Database.close('rollbackfails');
      await proxy.close();
    }
  });

  it('never lets a late cancel request of a timed-out transaction hit the next statement', async () => {
    const { database } = await connectTo(db, { env: { DB_POOL_MAX: '1' } });
    const outcomes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      // Statements that finish right around the timeout: the cancel often arrives after them.
      await withTransaction(() => database.query('SELECT pg_sleep(0.019)'), { timeoutMs: 20 }).then(
        () => outcomes.add('ok'),
        (error: unknown) => outcomes.add((error as Error).name),
      );
      expect(await database.query('SELECT 1 AS next')).toEqual([{ next: 1 }]);
      expect(await sessionState(database)).toEqual({ inTransaction: false });
    }
    expect([...outcomes].every((o) => o === 'ok' || o === QueryTimeoutError.name)).toBe(true);
  });

  it('rolls back a transaction that withConnection work left open, before the next borrower gets the connection', async () => {
    const { database } = await connectTo(db, { env: { DB_POOL_MAX: '1' } });
    await expect(
      database.withConnection(async (runner) => {
        await runner.startTransaction();
        await runner.query("INSERT INTO marks VALUES ('left open')");
        throw new Error('forgot to commit');
      }),
    ).rejects.toThrow('forgot to commit');
    expect(await sessionState(database)).toEqual({ inTransaction: false });
    await database.withConnection(async (runner) => {
      await runner.query('BEGIN');
      await runner.query("INSERT INTO marks VALUES ('raw begin, never ended')");
    });
    expect(await sessionState(database)).toEqual({ inTransaction: false });
    expect(await marks(database)).toEqual([]);
  });

  it('keeps a query working when its log line cannot be built (a bigint parameter, pretty format)', async () => {
    const stream = new PassThrough();
    const logger = createLogger({ level: 'debug', format: 'pretty' }, stream);
    const database = await Database.connect({ env: { DATABASE_URL: db.url, LOG_QUERY_PARAMS: 'true' }, logger, entities: [], migrations: [] });
    const rows = await withTransaction(() => database.query<{ n: string }>('SELECT $1::int8 AS n', [10n]));
    expect(rows).toEqual([{ n: '10' }]);
    expect(String(stream.read())).toContain('params=["10"]');
  });
});

describe('errors never carry query parameters', () => {
  it('withholds the value a data exception echoes, in the error and in the log', async () => {
    const { database, logs } = await connectTo(db);
    const error = await database.query('SELECT $1::int AS n', ['hunter2-secret-value']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as Error).message).toBe('invalid input syntax for type integer: (value withheld) [22P02]');
    expect(JSON.stringify(logs.lines)).not.toContain('hunter2-secret-value');
    expect(JSON.stringify(Object.entries(error as object))).not.toContain('hunter2-secret-value');
  });

  it('maps a driver failure without a SQLSTATE to QueryError and drops the parameters TypeORM kept', async () => {
    const { database } = await connectTo(db);
    const circular: Record<string, unknown> = { secret: 'do-not-keep-me' };
    circular.self = circular;
    const error = await database.query('SELECT $1::jsonb AS doc', [circular]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect(error).not.toHaveProperty('parameters');
    expect((error as QueryError).cause).toBeInstanceOf(TypeError);
  });
});
