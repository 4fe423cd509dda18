import { performance } from 'node:perf_hooks';
import { Account } from '../entities/account';
import { AccountRepository } from '../repositories/account-repository';
import { CustomerRepository } from '../repositories/customer-repository';
import { LedgerReports } from '../services/ledger-reports';
import { fromCents, toCents } from '../services/money';
import { TransferService } from '../services/transfer-service';
import { Database, HealthReport, transactionStats } from '../src';

/** How big the demo burst is. */
export interface DemoSize {
  readonly customers: number;
  readonly transfers: number;
  readonly workers: number;
}

/** Everything the report prints: what ran, what it did, and the invariant that proves it was atomic. */
export interface DemoReport {
  readonly migrationsApplied: string[];
  readonly accounts: { id: number; owner: string; balance: string }[];
  readonly totalBefore: string;
  readonly totalAfter: string;
  readonly committed: number;
  readonly rejected: Record<string, number>;
  readonly retries: number;
  readonly health: HealthReport;
  readonly timings: { migrateMs: number; seedMs: number; burstMs: number };
}

/** The money every demo account opens with. */
export const OPENING_BALANCE = '1000.00';
/** An account id no one has: the burst sends some transfers there on purpose. */
const UNKNOWN_ACCOUNT = 2_000_000_000;

/**
 * The ledger demo, built on the public API only: migrate, open customers and accounts (idempotently: a re-run
 * reuses them), run a burst of concurrent transfers (some failing on purpose), and measure.
 */
export async function runLedgerDemo(db: Database, size: DemoSize): Promise<DemoReport> {
  const t0 = performance.now();
  const migrations = await db.dataSource.runMigrations({ transaction: 'each' });
  const t1 = performance.now();
  const accounts = await openAccounts(size.customers);
  const t2 = performance.now();

  const reports = new LedgerReports();
  const totalBefore = (await reports.totals()).EUR ?? '0.00';
  const statsBefore = transactionStats(db.name);
  const { committed, rejected } = await burst(accounts, size);
  const t3 = performance.now();
  const statsAfter = transactionStats(db.name);
  const totalAfter = (await reports.totals()).EUR ?? '0.00';

  const customers = new CustomerRepository();
  const owners = new Map<number, string>();
  for (const account of accounts) owners.set(account.ownerId, (await customers.getById(account.ownerId)).name);
  const fresh = await Promise.all(accounts.map((a) => new AccountRepository().getById(a.id)));
  return {
    migrationsApplied: migrations.map((m) => m.name),
    accounts: fresh.map((a) => ({ id: a.id, owner: owners.get(a.ownerId) ?? '?', balance: a.balance })),
    totalBefore,
    totalAfter,
    committed,
    rejected,
    retries: statsAfter.retries - statsBefore.retries,
    health: await db.health(),
    timings: { migrateMs: t1 - t0, seedMs: t2 - t1, burstMs: t3 - t2 },
  };
}

/** One EUR account per demo customer, reusing those of an earlier run. */
async function openAccounts(count: number): Promise<Account[]> {
  const customers = new CustomerRepository();
  const accounts = new AccountRepository();
  const service = new TransferService();
  const opened: Account[] = [];
  for (let i = 1; i <= count; i++) {
    const email = `demo-${String(i).padStart(2, '0')}@ledger.example`;
    const customer =
      (await customers.findOne({ email })) ?? (await customers.create({ name: DEMO_NAMES[(i - 1) % DEMO_NAMES.length]!, email }));
    const existing = await accounts.findOne({ ownerId: customer.id, currency: 'EUR' });
    opened.push(existing ?? (await service.openAccount(customer.id, 'EUR', OPENING_BALANCE, 'demo')));
  }
  return opened;
}

/**
 * `size.transfers` transfers over `size.workers` concurrent workers, in pairs that move the same amount there and
 * back (so balances stay around their opening value however often the demo runs). On purpose, every 25th goes to
 * an unknown account and every 10th asks for more than any account holds.
 */
async function burst(accounts: readonly Account[], size: DemoSize): Promise<{ committed: number; rejected: Record<string, number> }> {
  const service = new TransferService();
  const rejected: Record<string, number> = {};
  let committed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: size.workers }, async () => {
      while (next < size.transfers) {
        const n = next++;
        const pair = Math.floor(n / 2);
        const first = pair % accounts.length;
        const offset = 1 + ((pair * 3 + Math.floor(pair / accounts.length)) % (accounts.length - 1));
        const a = accounts[first]!.id;
        const b = accounts[(first + offset) % accounts.length]!.id;
        const [from, to] = n % 2 === 0 ? [a, b] : [b, a];
        const amount =
          n % 10 === 9 ? fromCents(toCents(OPENING_BALANCE) * BigInt(accounts.length) + 1n) : fromCents(BigInt(100 + ((pair * 7919) % 9900)));
        try {
          await service.transfer({ from, to: n % 25 === 24 ? UNKNOWN_ACCOUNT : to, amount, actor: 'demo' });
          committed++;
        } catch (error) {
          const name = error instanceof Error ? error.name : 'Error';
          rejected[name] = (rejected[name] ?? 0) + 1;
        }
      }
    }),
  );
  return { committed, rejected };
}

const DEMO_NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  'Edsger Dijkstra',
  'Barbara Liskov',
  'Donald Knuth',
  'Frances Allen',
  'Tony Hoare',
  'Margaret Hamilton',
  'Ken Thompson',
  'Radia Perlman',
];
