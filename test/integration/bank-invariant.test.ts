import { Account } from '../../entities/account';
import { CustomerRepository } from '../../repositories/customer-repository';
import { LedgerReports } from '../../services/ledger-reports';
import { fromCents, toCents } from '../../services/money';
import { TransferService } from '../../services/transfer-service';
import { Database, transactionStats } from '../../src';
import { createTestDatabase, TestDatabase, withAdmin } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';

const WORKERS = 8;
const TRANSFERS = Number(process.env.BANK_TRANSFERS ?? 2000);
const ACCOUNTS = 20;
const OPENING = '1000.00';

let db: TestDatabase;
let database: Database;
const service = new TransferService();
const reports = new LedgerReports();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectLedger(db, { env: { DB_POOL_MAX: '12' }, logLevel: 'info' }));
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

/** A small deterministic generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('the bank invariant under concurrent SERIALIZABLE transfers', () => {
  it(`keeps the total, keeps every balance non-negative and makes each of ${TRANSFERS} transfers all-or-nothing`, async () => {
    const owner = await new CustomerRepository().create({ name: 'Bank', email: 'bank@ledger.example' });
    const accounts: Account[] = [];
    for (let i = 0; i < ACCOUNTS; i++) accounts.push(await service.openAccount(owner.id, 'EUR', OPENING));
    const expectedTotal = fromCents(toCents(OPENING) * BigInt(ACCOUNTS));
    const before = transactionStats();

    const next = random(20261128);
    const plan = Array.from({ length: TRANSFERS }, () => {
      const from = accounts[Math.floor(next() * ACCOUNTS)]!.id;
      let to = accounts[Math.floor(next() * ACCOUNTS)]!.id;
      if (to === from) to = accounts[(accounts.findIndex((a) => a.id === from) + 1) % ACCOUNTS]!.id;
      return { from, to, amount: fromCents(BigInt(100 + Math.floor(next() * 29900))) };
    });

    const succeeded = new Map<string, { from: number; to: number; amount: string }>();
    const failures = new Map<string, number>();
    const totalsSeen = new Set<string>();
    let running = true;
    const sampler = (async () => {
      while (running) totalsSeen.add((await reports.totals()).EUR ?? 'none');
    })();
    let cursor = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (cursor < plan.length) {
          const request = plan[cursor++]!;
          try {
            const transfer = await service.transfer(request);
            succeeded.set(transfer.id, request);
          } catch (error) {
            const name = (error as Error).name;
            failures.set(name, (failures.get(name) ?? 0) + 1);
          }
        }
      }),
    );
    running = false;
    await sampler;
    const stats = transactionStats();
    const retries = stats.retries - before.retries;
    process.stderr.write(
      `[bank invariant] ${succeeded.size} transfers committed, failures ${JSON.stringify(Object.fromEntries(failures))}, ` +
        `${retries} retries after serialization failures or deadlocks, ${totalsSeen.size} distinct total(s) seen while running\n`,
    );

    // The total never changed, not even in between (each sample is a single-statement snapshot).
    expect([...totalsSeen]).toEqual([expectedTotal]);
    expect((await reports.totals()).EUR).toBe(expectedTotal);
    // No balance went negative.
    expect(await database.query('SELECT count(*)::int AS n FROM accounts WHERE balance < 0')).toEqual([{ n: 0 }]);
    // Every committed transfer is in the table exactly once, and nothing else is.
    const rows = await database.query<{ id: string; from: number; to: number; amount: string }>(
      'SELECT id::text AS id, from_account_id AS "from", to_account_id AS "to", amount::text AS amount FROM transfers',
    );
    expect(new Map(rows.map((r) => [r.id, { from: r.from, to: r.to, amount: r.amount }]))).toEqual(succeeded);
    // Both legs of every transfer happened: each balance is its opening balance plus what the table says moved.
    const moved = new Map<number, bigint>(accounts.map((a) => [a.id, toCents(OPENING)]));
    for (const row of rows) {
      moved.set(row.from, moved.get(row.from)! - toCents(row.amount));
      moved.set(row.to, moved.get(row.to)! + toCents(row.amount));
    }
    const balances = await database.query<{ id: number; balance: string }>('SELECT id, balance FROM accounts WHERE owner_id = $1', [owner.id]);
    for (const { id, balance } of balances) expect(balance).toBe(fromCents(moved.get(id)!));
    // Each committed transfer has its audit event, and only those.
    expect(await database.query("SELECT count(*)::int AS n FROM audit_events WHERE action = 'transfer.completed'")).toEqual([{ n: succeeded.size }]);
    // Failures are only the expected kinds; nothing is left in a transaction.
    expect([...failures.keys()].every((name) => ['InsufficientFundsError', 'SerializationFailureError', 'DeadlockError'].includes(name))).toBe(true);
    expect(succeeded.size).toBeGreaterThan(TRANSFERS / 2);
    const pool = database.poolSnapshot();
    expect(pool.total - pool.idle).toBe(0);
    const idleInTransaction = await withAdmin((c) =>
      c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'", [db.name]),
    );
    expect(idleInTransaction.rows).toEqual([{ n: 0 }]);
  });
});
