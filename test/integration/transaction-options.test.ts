import {
  currentTransaction,
  QueryTimeoutError,
  ReadOnlyTransactionError,
  SerializationFailureError,
  Transactional,
  withTransaction,
} from '../../src';
import { useConnectedDatabase } from '../helpers/connect';

const suite = useConnectedDatabase({ env: { DB_POOL_MAX: '4' } }, 'CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL)');
beforeEach(() => suite.database.execute('TRUNCATE counters; INSERT INTO counters VALUES (1, 0), (2, 0)'));

const setting = async (name: string) => (await suite.database.query<{ v: string }>('SELECT current_setting($1) AS v', [name]))[0]!.v;

describe('transaction isolation', () => {
  it.each([
    ['READ COMMITTED', 'read committed'],
    ['REPEATABLE READ', 'repeatable read'],
    ['SERIALIZABLE', 'serializable'],
  ] as const)('runs at %s when asked, in one START TRANSACTION statement', async (level, shown) => {
    const before = suite.connected.logs.lines.length;
    const seen = await withTransaction(async () => ({ level: await setting('transaction_isolation'), info: currentTransaction() }), { isolation: level });
    expect(seen.level).toBe(shown);
    expect(seen.info?.isolation).toBe(level);
    const statements = suite.connected.logs.lines.slice(before).filter((l) => l.message === 'query').map((l) => l.sql);
    expect(statements).toEqual([`START TRANSACTION ISOLATION LEVEL ${level} READ WRITE`, 'SELECT current_setting($1) AS v', 'COMMIT']);
  });

  it('lets an inner call ask for an equal or weaker level than the outer one', async () => {
    const inner = await withTransaction(() => withTransaction(async () => setting('transaction_isolation'), { isolation: 'READ COMMITTED' }), {
      isolation: 'SERIALIZABLE',
    });
    expect(inner).toBe('serializable');
  });

  it('really isolates: a REPEATABLE READ transaction keeps its snapshot', async () => {
    const values = await withTransaction(
      async () => {
        const first = (await suite.database.query<{ value: number }>('SELECT value FROM counters WHERE id = 1'))[0]!.value;
        await withTransaction(() => suite.database.execute('UPDATE counters SET value = 99 WHERE id = 1'), { propagation: 'REQUIRES_NEW' });
        const second = (await suite.database.query<{ value: number }>('SELECT value FROM counters WHERE id = 1'))[0]!.value;
        return [first, second];
      },
      { isolation: 'REPEATABLE READ' },
    );
    expect(values).toEqual([0, 0]);
    expect((await suite.database.query('SELECT value FROM counters WHERE id = 1'))[0]).toEqual({ value: 99 });
  });
});

describe('readOnly transactions', () => {
  class Reports {
    @Transactional({ readOnly: true })
    async total(): Promise<number> {
      expect(await setting('transaction_read_only')).toBe('on');
      return Number((await suite.database.query<{ s: string }>('SELECT sum(value) AS s FROM counters'))[0]!.s);
    }

    @Transactional({ readOnly: true })
    async sneakyWrite(): Promise<void> {
      await suite.database.execute('UPDATE counters SET value = 1');
    }
  }

  it('reads in a READ ONLY transaction', async () => {
    expect(await new Reports().total()).toBe(0);
    expect(currentTransaction()).toBeUndefined();
  });

  it('fails a write with ReadOnlyTransactionError and changes nothing', async () => {
    await expect(new Reports().sneakyWrite()).rejects.toBeInstanceOf(ReadOnlyTransactionError);
    expect(await suite.database.query('SELECT sum(value)::int AS s FROM counters')).toEqual([{ s: 0 }]);
  });

  it('refuses a read-write call joining a read-only transaction', async () => {
    await expect(withTransaction(() => withTransaction(async () => 1), { readOnly: true })).rejects.toThrow(
      /This read-write call joins transaction \d+, which is read-only/,
    );
  });
});

describe('transaction timeoutMs', () => {
  it('cancels the running statement, rolls back, and throws QueryTimeoutError', async () => {
    const started = Date.now();
    const error = await withTransaction(
      async () => {
        await suite.database.execute('UPDATE counters SET value = 5 WHERE id = 1');
        await suite.database.query('SELECT pg_sleep(10)');
      },
      { timeoutMs: 150 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect((error as Error).message).toMatch(/^Transaction \d+ ran longer than its timeout of 150 ms: its statement was cancelled and everything was rolled back\.$/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await suite.database.query('SELECT value FROM counters WHERE id = 1')).toEqual([{ value: 0 }]);
    const active = await suite.database.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' AND state = 'active'");
    expect(active).toEqual([{ n: 0 }]);
  });

  it('times out work that is busy outside the database too, refusing its next statement', async () => {
    const error = await withTransaction(
      async () => {
        await suite.database.execute('UPDATE counters SET value = 6 WHERE id = 1');
        await new Promise((resolve) => setTimeout(resolve, 200));
        await suite.database.execute('UPDATE counters SET value = 7 WHERE id = 2');
      },
      { timeoutMs: 50 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect(await suite.database.query('SELECT id, value FROM counters ORDER BY id')).toEqual([
      { id: 1, value: 0 },
      { id: 2, value: 0 },
    ]);
  });

  it('returns the connection to the pool clean after a timeout', async () => {
    await withTransaction(() => suite.database.query('SELECT pg_sleep(5)'), { timeoutMs: 50 }).catch(() => undefined);
    const pool = suite.database.poolSnapshot();
    expect(pool.total - pool.idle).toBe(0);
    const stuck = await suite.database.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    );
    expect(stuck).toEqual([{ n: 0 }]);
    expect(await withTransaction(async () => (await suite.database.query('SELECT 1 AS ok'))[0])).toEqual({ ok: 1 });
  });

  it('does not fire for a transaction that finishes in time', async () => {
    await withTransaction(() => suite.database.execute('UPDATE counters SET value = 3 WHERE id = 1'), { timeoutMs: 5000 });
    expect(await suite.database.query('SELECT value FROM counters WHERE id = 1')).toEqual([{ value: 3 }]);
  });
});

describe('serialization failures surface typed', () => {
  it('reports a SERIALIZABLE conflict as SerializationFailureError when retries are not asked for', async () => {
    const error = await withTransaction(
      async () => {
        await suite.database.query('SELECT value FROM counters WHERE id = 1');
        await withTransaction(() => suite.database.execute('UPDATE counters SET value = value + 1 WHERE id = 1'), { propagation: 'REQUIRES_NEW' });
        await suite.database.execute('UPDATE counters SET value = value + 10 WHERE id = 1');
      },
      { isolation: 'SERIALIZABLE' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationFailureError);
    expect(await suite.database.query('SELECT value FROM counters WHERE id = 1')).toEqual([{ value: 1 }]);
  });
});
