import { SerializationFailureError, UniqueViolationError, withTransaction } from '../../src';
import { useConnectedDatabase } from '../helpers/connect';

const suite = useConnectedDatabase({ env: { DB_POOL_MAX: '4' } }, 'CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL)');
beforeEach(() => suite.database.execute('TRUNCATE counters; INSERT INTO counters VALUES (1, 0), (2, 0)'));

/** Makes the calling SERIALIZABLE transaction conflict with a committed concurrent update, `times` times. */
function conflicting(times: number): () => Promise<void> {
  let left = times;
  return async () => {
    await suite.database.query('SELECT value FROM counters WHERE id = 1');
    if (left-- > 0) {
      await withTransaction(() => suite.database.execute('UPDATE counters SET value = value + 100 WHERE id = 1'), { propagation: 'REQUIRES_NEW' });
    }
    await suite.database.execute('UPDATE counters SET value = value + 1 WHERE id = 1');
  };
}

describe('transaction retries', () => {
  it('re-runs the whole outermost transaction after a serialization failure, and logs each retry', async () => {
    let attempts = 0;
    const conflict = conflicting(2);
    const before = suite.connected.logs.lines.length;
    await withTransaction(
      async () => {
        attempts++;
        await conflict();
      },
      { isolation: 'SERIALIZABLE', retries: 3 },
    );
    expect(attempts).toBe(3);
    expect(await suite.database.query('SELECT value FROM counters WHERE id = 1')).toEqual([{ value: 201 }]);
    const retries = suite.connected.logs.lines.slice(before).filter((l) => l.message === 'transaction retry');
    expect(retries.map((r) => [r.attempt, r.of, r.code])).toEqual([
      [2, 4, '40001'],
      [3, 4, '40001'],
    ]);
  });

  it('gives up after the last retry with the SerializationFailureError', async () => {
    let attempts = 0;
    const conflict = conflicting(10);
    const error = await withTransaction(
      async () => {
        attempts++;
        await conflict();
      },
      { isolation: 'SERIALIZABLE', retries: 2 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationFailureError);
    expect(attempts).toBe(3);
  });

  it('retries a deadlock victim (40P01)', async () => {
    let attempts = 0;
    let arrived = 0;
    const run = (first: number, second: number, retries: number) =>
      withTransaction(
        async () => {
          attempts++;
          await suite.database.execute("SET LOCAL deadlock_timeout = '20ms'");
          await suite.database.execute('UPDATE counters SET value = value + 1 WHERE id = $1', [first]);
          arrived++;
          while (arrived < 2) await new Promise((r) => setImmediate(r));
          await suite.database.execute('UPDATE counters SET value = value + 1 WHERE id = $1', [second]);
        },
        { retries },
      );
    const results = await Promise.allSettled([run(1, 2, 2), run(2, 1, 2)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(attempts).toBe(3);
    expect(await suite.database.query('SELECT id, value FROM counters ORDER BY id')).toEqual([
      { id: 1, value: 2 },
      { id: 2, value: 2 },
    ]);
  });

  it('never retries a joined (inner) call: the failure belongs to the outer transaction', async () => {
    let inner = 0;
    const conflict = conflicting(1);
    const error = await withTransaction(
      () =>
        withTransaction(
          async () => {
            inner++;
            await conflict();
          },
          { retries: 5 },
        ),
      { isolation: 'SERIALIZABLE' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationFailureError);
    expect(inner).toBe(1);
  });

  it('never retries other errors', async () => {
    let attempts = 0;
    const error = await withTransaction(
      async () => {
        attempts++;
        await suite.database.execute('INSERT INTO counters VALUES (1, 0)');
      },
      { retries: 5 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(attempts).toBe(1);
  });
});
