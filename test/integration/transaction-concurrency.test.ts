import { EventEmitter, once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { currentTransaction, Database, Transactional, withTransaction } from '../../src';
import { connectTo, Connected } from '../helpers/connect';
import { createTestDatabase, TestDatabase, withAdmin } from '../helpers/database';

let db: TestDatabase;
let connected: Connected;
let database: Database;
beforeAll(async () => {
  db = await createTestDatabase();
  connected = await connectTo(db, { env: { DB_POOL_MAX: '10' }, logLevel: 'info' });
  database = connected.database;
  await database.execute('CREATE TABLE marks (call int NOT NULL, step text NOT NULL, txid bigint NOT NULL, pid int NOT NULL)');
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

const mark = (call: number, step: string) =>
  database.execute('INSERT INTO marks VALUES ($1, $2, txid_current(), pg_backend_pid())', [call, step]);

class Worker {
  readonly mismatches: string[] = [];

  private check(call: number, expected: number | undefined, where: string): void {
    const seen = currentTransaction()?.id;
    if (seen !== expected) this.mismatches.push(`call ${call} at ${where}: saw ${seen}, expected ${expected}`);
  }

  @Transactional()
  async run(call: number): Promise<number> {
    const mine = currentTransaction()?.id;
    await delay(call % 5);
    this.check(call, mine, 'after setTimeout');
    await Promise.all([mark(call, 'a'), delay(1).then(() => mark(call, 'b'))]);
    this.check(call, mine, 'after Promise.all');

    const emitter = new EventEmitter();
    emitter.on('step', (step: string) => {
      this.check(call, mine, 'in an event listener');
      void mark(call, step).then(() => emitter.emit('done'));
    });
    setImmediate(() => emitter.emit('step', 'c'));
    await once(emitter, 'done');

    await new Promise<void>((resolve) => {
      let ticks = 0;
      const timer = setInterval(() => {
        this.check(call, mine, 'in setInterval');
        if (++ticks === 2) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    if (call % 7 === 0) throw new Error(`call ${call} fails on purpose`);
    return mine!;
  }
}

describe('@Transactional under concurrency', () => {
  it('gives each of 200 interleaved calls its own transaction, and leaks nothing', async () => {
    const worker = new Worker();
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, call) => worker.run(call)));
    expect(worker.mismatches).toEqual([]);
    expect(currentTransaction()).toBeUndefined();

    const failing = new Set(Array.from({ length: 200 }, (_, call) => call).filter((call) => call % 7 === 0));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(failing.size);
    const ids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(new Set(ids).size).toBe(200 - failing.size);

    const rows = await database.query<{ call: number; steps: string[]; txids: string[]; pids: number[] }>(
      'SELECT call, array_agg(step ORDER BY step) AS steps, array_agg(DISTINCT txid::text) AS txids, array_agg(DISTINCT pid) AS pids FROM marks GROUP BY call ORDER BY call',
    );
    expect(rows.map((r) => r.call)).toEqual(Array.from({ length: 200 }, (_, call) => call).filter((call) => !failing.has(call)));
    for (const row of rows) {
      expect(row.steps).toEqual(['a', 'b', 'c']);
      expect(row.txids).toHaveLength(1);
      expect(row.pids).toHaveLength(1);
    }
    expect(new Set(rows.map((r) => r.txids[0])).size).toBe(rows.length);

    const stuck = await withAdmin((c) =>
      c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [
        connected.applicationName,
      ]),
    );
    expect(stuck.rows).toEqual([{ n: 0 }]);
    const pool = database.poolSnapshot();
    expect(pool.total - pool.idle).toBe(0);
  });

  it('keeps concurrent REQUIRES_NEW siblings under one outer transaction apart', async () => {
    await database.execute('TRUNCATE marks');
    const seen = await withTransaction(async () => {
      const outer = currentTransaction()?.id;
      const siblings = await Promise.all(
        [1, 2].map((call) =>
          withTransaction(
            async () => {
              const id = currentTransaction()?.id;
              await delay(call === 1 ? 5 : 0);
              await mark(call, 'sibling');
              return { id, after: currentTransaction()?.id };
            },
            { propagation: 'REQUIRES_NEW' },
          ),
        ),
      );
      return { outer, siblings, back: currentTransaction()?.id };
    });
    expect(seen.siblings[0]!.id).toBe(seen.siblings[0]!.after);
    expect(seen.siblings[1]!.id).toBe(seen.siblings[1]!.after);
    expect(seen.siblings[0]!.id).not.toBe(seen.siblings[1]!.id);
    expect(seen.back).toBe(seen.outer);
    const rows = await database.query<{ txids: string[] }>("SELECT array_agg(DISTINCT txid::text) AS txids FROM marks WHERE step = 'sibling'");
    expect(rows[0]!.txids).toHaveLength(2);
  });
});
