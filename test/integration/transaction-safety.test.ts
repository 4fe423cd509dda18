import {
  CommitUnknownError,
  ConnectionError,
  Database,
  PoolExhaustedError,
  SerializationFailureError,
  Transactional,
  TransactionalUsageError,
  UnawaitedWorkError,
  UniqueViolationError,
  withTransaction,
} from '../../src';
import { useConnectedDatabase } from '../helpers/connect';
import { withAdmin } from '../helpers/database';
import { faultProxy, isQuery } from '../helpers/fault-proxy';
import { captureLogs } from '../helpers/logs';

const suite = useConnectedDatabase(
  { env: { DB_POOL_MAX: '4' } },
  `CREATE TABLE items (name text NOT NULL CONSTRAINT items_name_key UNIQUE DEFERRABLE INITIALLY DEFERRED);
   CREATE TABLE duty (doctor text PRIMARY KEY, on_call boolean NOT NULL);`,
);
beforeEach(() => suite.database.execute("TRUNCATE items; TRUNCATE duty; INSERT INTO duty VALUES ('alice', true), ('bob', true)"));

const items = async () => (await suite.database.query<{ name: string }>('SELECT name FROM items ORDER BY name')).map((r) => r.name);
function expectNothingCheckedOut(target: Database = suite.database): void {
  const pool = target.poolSnapshot();
  expect(pool.total - pool.idle).toBe(0);
}

describe('transaction safety: failures at COMMIT', () => {
  it('surfaces a deferred constraint that fails at COMMIT, writes nothing and releases the connection', async () => {
    const error = await withTransaction(async () => {
      await suite.database.execute("INSERT INTO items VALUES ('same'), ('same')");
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect((error as UniqueViolationError).constraint).toBe('items_name_key');
    expect(await items()).toEqual([]);
    expectNothingCheckedOut();
  });

  it('surfaces a serialization failure raised by COMMIT itself (write skew)', async () => {
    let arrived = 0;
    const offDuty = (doctor: string) =>
      withTransaction(
        async () => {
          const [{ n }] = await suite.database.query<{ n: number }>('SELECT count(*)::int AS n FROM duty WHERE on_call');
          arrived++;
          while (arrived < 2) await new Promise((r) => setImmediate(r));
          if (n >= 2) await suite.database.execute('UPDATE duty SET on_call = false WHERE doctor = $1', [doctor]);
        },
        { isolation: 'SERIALIZABLE' },
      );
    const results = await Promise.allSettled([offDuty('alice'), offDuty('bob')]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toBeInstanceOf(SerializationFailureError);
    expect(await suite.database.query('SELECT count(*)::int AS n FROM duty WHERE on_call')).toEqual([{ n: 1 }]);
    expectNothingCheckedOut();
  });

  it('reports CommitUnknownError when the connection breaks while COMMIT is in flight', async () => {
    const url = new URL(suite.db.url);
    const proxy = await faultProxy(url.hostname, Number(url.port));
    try {
      url.port = String(proxy.port);
      const other = await Database.connect({
        name: 'flaky',
        env: { FLAKY_DATABASE_URL: url.toString() },
        logger: captureLogs().logger,
      });
      // Forward COMMIT to the server, then cut before its answer comes back: it did commit, but the client cannot know.
      proxy.cutWhen({ direction: 'to-server', match: isQuery('COMMIT'), afterForwarding: true });
      const error = await withTransaction(() => other.execute("INSERT INTO items VALUES ('maybe')"), { connection: 'flaky' }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CommitUnknownError);
      expect((error as Error).message).toMatch(/^The connection was lost while the transaction was committing: it is unknown whether the commit took effect/);
      expect((error as CommitUnknownError).cause).toBeInstanceOf(ConnectionError);
      expect(proxy.cuts).toBe(1);
      // The broken connection was discarded, not returned to the pool: the next transaction works.
      await withTransaction(() => other.execute("INSERT INTO items VALUES ('after')"), { connection: 'flaky' });
      expect((await items()).includes('after')).toBe(true);
      expectNothingCheckedOut(other);
    } finally {
      await Database.close('flaky');
      await proxy.close();
    }
  });
});

describe('transaction safety: failures at ROLLBACK and broken connections', () => {
  class Boom extends Error {}

  it('keeps the original error when ROLLBACK fails too, logs the rollback failure and discards the connection', async () => {
    const url = new URL(suite.db.url);
    const proxy = await faultProxy(url.hostname, Number(url.port));
    try {
      url.port = String(proxy.port);
      const logs = captureLogs();
      const other = await Database.connect({ name: 'rollbackfail', env: { ROLLBACKFAIL_DATABASE_URL: url.toString() }, logger: logs.logger });
      proxy.cutWhen({ direction: 'to-server', match: isQuery('ROLLBACK') });
      const error = await withTransaction(
        async () => {
          await other.execute("INSERT INTO items VALUES ('doomed')");
          throw new Boom('the original failure');
        },
        { connection: 'rollbackfail' },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Boom);
      expect(logs.messages('rollback failed; the connection is discarded')).toEqual([
        expect.objectContaining({ level: 'error', error: expect.stringMatching(/connection/i) }),
      ]);
      expect(await items()).toEqual([]);
      expectNothingCheckedOut(other);
      expect(await withTransaction(async () => (await other.query('SELECT 1 AS ok'))[0], { connection: 'rollbackfail' })).toEqual({ ok: 1 });
    } finally {
      await Database.close('rollbackfail');
      await proxy.close();
    }
  });

  it('keeps the original error when the backend dies inside the transaction, and commits nothing', async () => {
    const error = await withTransaction(async () => {
      await suite.database.execute("INSERT INTO items VALUES ('doomed')");
      const [{ pid }] = await suite.database.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
      throw new Boom('the original failure');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Boom);
    expect(await items()).toEqual([]);
    expectNothingCheckedOut();
    expect(await withTransaction(async () => (await suite.database.query('SELECT 1 AS ok'))[0])).toEqual({ ok: 1 });
  });

  it('does not report success when the connection died before COMMIT', async () => {
    const error = await withTransaction(async () => {
      await suite.database.execute("INSERT INTO items VALUES ('lost')");
      const [{ pid }] = await suite.database.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
      await suite.database.query('SELECT 1');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(await items()).toEqual([]);
    expectNothingCheckedOut();
  });
});

describe('transaction safety: work that is not awaited', () => {
  it('rolls back and throws UnawaitedWorkError when a query is still running as the function returns', async () => {
    let stray: Promise<unknown> | undefined;
    const error = await withTransaction(async () => {
      await suite.database.execute("INSERT INTO items VALUES ('awaited')");
      stray = suite.database.query('SELECT pg_sleep(0.1)');
      await new Promise((resolve) => setImmediate(resolve));
    }).catch((e: unknown) => e);
    await stray;
    expect(error).toBeInstanceOf(UnawaitedWorkError);
    expect((error as Error).message).toMatch(/^Transaction \d+ was rolled back: its function returned while 1 query was still running/);
    expect(await items()).toEqual([]);
    expectNothingCheckedOut();
  });

  it('refuses a query issued by leftover work after the transaction ended, never running it on a released connection', async () => {
    let late!: Promise<unknown>;
    const fired = new Promise<void>((resolve) => {
      void withTransaction(async () => {
        await suite.database.execute("INSERT INTO items VALUES ('committed')");
        setTimeout(() => {
          late = suite.database.execute("INSERT INTO items VALUES ('late')").catch((e: unknown) => e);
          resolve();
        }, 20);
      });
    });
    await fired;
    const error = await late;
    expect(error).toBeInstanceOf(UnawaitedWorkError);
    expect((error as Error).message).toMatch(/^Transaction \d+ has already ended: this work was started inside it but not awaited/);
    expect(await items()).toEqual(['committed']);
    expectNothingCheckedOut();
  });
});

describe('@Transactional misuse', () => {
  it('refuses a method that does not return a Promise, at call time, and rolls back', async () => {
    class Legacy {
      // @ts-expect-error -- the decorator's type only accepts methods that return a Promise
      @Transactional()
      sync(): number {
        return 1;
      }
    }
    const error = await (new Legacy().sync() as unknown as Promise<unknown>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionalUsageError);
    expect((error as Error).message).toBe('Legacy.sync is decorated with @Transactional() but did not return a Promise: make it async.');
    expectNothingCheckedOut();
  });

  it('keeps the method name and its reflect-metadata on the wrapper', () => {
    const marker = (_target: object, _key: string, descriptor: PropertyDescriptor) =>
      Reflect.defineMetadata('custom:marker', 'kept', descriptor.value as object);
    class Service {
      @Transactional()
      @marker
      async act(): Promise<void> {}
    }
    expect(Service.prototype.act.name).toBe('act');
    expect(Reflect.getMetadata('custom:marker', Service.prototype.act)).toBe('kept');
  });
});

describe('pool self-deadlock', () => {
  it('ends N outer transactions that each need REQUIRES_NEW on a pool of N in PoolExhaustedError, not a hang', async () => {
    const small = await Database.connect({
      name: 'small',
      env: { SMALL_DATABASE_URL: suite.db.url, SMALL_DB_POOL_MAX: '2', SMALL_DB_POOL_CONNECTION_TIMEOUT_MS: '300' },
      logger: captureLogs().logger,
    });
    try {
      let ready = 0;
      const outer = (name: string) =>
        withTransaction(
          async () => {
            await small.execute('INSERT INTO items VALUES ($1)', [name]);
            ready++;
            while (ready < 2) await new Promise((r) => setImmediate(r));
            await withTransaction(() => small.execute('INSERT INTO items VALUES ($1)', [`${name}-audit`]), {
              propagation: 'REQUIRES_NEW',
              connection: 'small',
            });
          },
          { connection: 'small' },
        );
      const started = Date.now();
      const results = await Promise.allSettled([outer('one'), outer('two')]);
      expect(Date.now() - started).toBeLessThan(5000);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(PoolExhaustedError);
      }
      expect(await items()).toEqual([]);
      expectNothingCheckedOut(small);
    } finally {
      await Database.close('small');
    }
  });
});
