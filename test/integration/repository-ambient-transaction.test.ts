import { Customer } from '../../entities/customer';
import { AccountRepository } from '../../repositories/account-repository';
import { AuditEventRepository } from '../../repositories/audit-event-repository';
import { CustomerRepository } from '../../repositories/customer-repository';
import { TransferRepository } from '../../repositories/transfer-repository';
import { BaseRepository, CheckViolationError, currentManager, Database } from '../../src';
import { backendPid, inAmbientTransaction } from '../helpers/ambient';
import { createTestDatabase, TestDatabase, withAdmin } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';
import type { LogCapture } from '../helpers/logs';

let db: TestDatabase;
let database: Database;
let logs: LogCapture;
const customers = new CustomerRepository();
const accounts = new AccountRepository();
const transfers = new TransferRepository();
const events = new AuditEventRepository();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database, logs } = await connectLedger(db, { env: { DB_POOL_MAX: '4' } }));
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

/** Rows of a table as a separate connection sees them (db.query would join the ambient transaction). */
const outside = (table: string) =>
  withAdmin(async (client) => (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n, db.name);

/** Backend pids of the queries logged while `fn` ran. */
async function pidsDuring(fn: () => Promise<unknown>): Promise<Set<unknown>> {
  const start = logs.lines.length;
  await fn();
  return new Set(logs.lines.slice(start).filter((l) => l.message === 'query').map((l) => l.pid));
}

describe('the protected manager', () => {
  it("is the pool's outside a transaction and the transaction's inside one", async () => {
    class Probe extends BaseRepository<Customer> {
      constructor() {
        super(Customer);
      }
      exposed() {
        return this.manager;
      }
    }
    const probe = new Probe();
    expect(probe.exposed()).toBe(database.dataSource.manager);
    expect(currentManager()).toBe(database.dataSource.manager);
    await inAmbientTransaction(database, async (runner) => {
      expect(probe.exposed()).toBe(runner.manager);
      expect(currentManager()).toBe(runner.manager);
    });
  });
});

describe('every BaseRepository method joins the ambient transaction', () => {
  it('runs all of them on the transaction connection; a rollback undoes every write', async () => {
    const before = { customers: await outside('customers'), accounts: await outside('accounts') };
    let pid = 0;
    const pids = await pidsDuring(() =>
      inAmbientTransaction(database, async (runner) => {
        pid = await backendPid(runner);
        const ada = await customers.create({ name: 'Ada', email: 'ada@tx.example' });
        const [grace, alan] = await customers.createMany([
          { name: 'Grace', email: 'grace@tx.example' },
          { name: 'Alan', email: 'alan@tx.example' },
        ]);
        expect(await customers.findById(ada.id)).toEqual(ada);
        expect(await customers.getById(grace!.id)).toEqual(grace);
        expect(await customers.findOne({ email: 'alan@tx.example' })).toEqual(alan);
        expect((await customers.findMany({ where: { email: 'grace@tx.example' } })).items).toEqual([grace]);
        expect(await customers.count({ name: 'Ada' })).toBe(1);
        expect(await customers.exists({ name: 'Alan' })).toBe(true);
        expect(await customers.update(ada.id, { name: 'Ada L.' })).toMatchObject({ name: 'Ada L.' });
        expect(await customers.upsert({ name: 'Grace H.', email: 'grace@tx.example' }, ['email'])).toMatchObject({ id: grace!.id });
        expect(await customers.softDelete(alan!.id)).toBe(true);
        expect(await customers.restore(alan!.id)).toBe(true);
        const account = await accounts.create({ ownerId: ada.id, currency: 'EUR', balance: '1.00' });
        expect(await accounts.delete(account.id)).toBe(true);
        // Nothing is visible to other connections yet.
        expect(await outside('customers')).toBe(before.customers);
      }),
    );
    expect(pids).toEqual(new Set([pid]));
    expect({ customers: await outside('customers'), accounts: await outside('accounts') }).toEqual(before);
  });

  it('commits with the transaction', async () => {
    const created = await inAmbientTransaction(database, () => customers.create({ name: 'Kept', email: 'kept@tx.example' }), { commit: true });
    expect(await customers.findById(created.id)).toEqual(created);
  });
});

describe("every sample repository's custom query joins the ambient transaction", () => {
  it('CustomerRepository.searchByName sees uncommitted customers inside, nothing after rollback', async () => {
    await inAmbientTransaction(database, async () => {
      await customers.createMany([
        { name: 'Zed 100%', email: 'zed1@tx.example' },
        { name: 'Zed_2', email: 'zed2@tx.example' },
        { name: 'Zebra', email: 'zebra@tx.example' },
      ]);
      expect((await customers.searchByName('zed')).map((c) => c.name)).toEqual(['Zed 100%', 'Zed_2']);
      expect((await customers.searchByName('Zed 100%')).map((c) => c.name)).toEqual(['Zed 100%']);
      expect((await customers.searchByName('Zed_')).map((c) => c.name)).toEqual(['Zed_2']);
    });
    expect(await customers.searchByName('Ze')).toEqual([]);
  });

  it('AccountRepository.adjustBalance and totals work on uncommitted accounts and roll back with them', async () => {
    const owner = await customers.create({ name: 'Owner', email: 'owner@tx.example' });
    const account = await accounts.create({ ownerId: owner.id, currency: 'CHF', balance: '10.00' });
    await inAmbientTransaction(database, async () => {
      const second = await accounts.create({ ownerId: owner.id, currency: 'CHF', balance: '0.10' });
      expect(await accounts.adjustBalance(account.id, '-2.50')).toBe('7.50');
      expect(await accounts.adjustBalance(second.id, '0.20')).toBe('0.30');
      expect((await accounts.totals()).CHF).toBe('7.80');
      expect(await accounts.getById(account.id)).toMatchObject({ balance: '7.50', version: 2 });
    });
    expect(await accounts.getById(account.id)).toMatchObject({ balance: '10.00', version: 1 });
    expect((await accounts.totals()).CHF).toBe('10.00');
  });

  it('AccountRepository.adjustBalance refuses to go below zero with CheckViolationError', async () => {
    const owner = await customers.create({ name: 'Poor', email: 'poor@tx.example' });
    const account = await accounts.create({ ownerId: owner.id, currency: 'EUR', balance: '1.00' });
    await expect(accounts.adjustBalance(account.id, '-1.01')).rejects.toThrow(CheckViolationError);
    expect(await accounts.getById(account.id)).toMatchObject({ balance: '1.00', version: 1 });
  });

  it('TransferRepository.historyOf sees uncommitted transfers', async () => {
    const owner = await customers.create({ name: 'Mover', email: 'mover@tx.example' });
    const [a, b] = await accounts.createMany([
      { ownerId: owner.id, currency: 'EUR', balance: '5.00' },
      { ownerId: owner.id, currency: 'EUR', balance: '5.00' },
    ]);
    await inAmbientTransaction(database, async () => {
      const first = await transfers.create({ fromAccountId: a!.id, toAccountId: b!.id, amount: '1.00' });
      const second = await transfers.create({ fromAccountId: b!.id, toAccountId: a!.id, amount: '2.00' });
      expect((await transfers.historyOf(a!.id)).map((t) => t.id)).toEqual([second.id, first.id]);
    });
    expect(await transfers.historyOf(a!.id)).toEqual([]);
  });

  it('AuditEventRepository.findByPayload sees uncommitted events', async () => {
    await inAmbientTransaction(database, async () => {
      await events.createMany([
        { actor: 'svc', action: 'transfer.completed', payload: { transferId: 7, amount: '1.00' } },
        { actor: 'svc', action: 'transfer.completed', payload: { transferId: 8 } },
        { actor: 'svc', action: 'transfer.failed', payload: { transferId: 7 } },
      ]);
      const found = await events.findByPayload('transfer.completed', { transferId: 7 });
      expect(found.map((e) => e.payload)).toEqual([{ transferId: 7, amount: '1.00' }]);
    });
    expect(await events.findByPayload('transfer.completed', { transferId: 7 })).toEqual([]);
  });
});

describe('a repository of a named database', () => {
  class AnalyticsCustomers extends BaseRepository<Customer> {
    constructor() {
      super(Customer, { database: 'analytics' });
    }
  }

  it('works on that database and joins only that database’s ambient transaction', async () => {
    const analytics = await Database.connect({
      name: 'analytics',
      env: { ANALYTICS_DATABASE_URL: db.url },
      logger: logs.logger,
      entities: [Customer],
      migrations: [],
    });
    const repo = new AnalyticsCustomers();
    const created = await repo.create({ name: 'Named', email: 'named@tx.example' });
    expect(await customers.findById(created.id)).toEqual(created);
    await inAmbientTransaction(database, async (runner) => {
      // A transaction on the default database is not one on 'analytics'.
      expect(await repo.count({ email: 'named@tx.example' })).toBe(1);
      await repo.update(created.id, { name: 'Named again' });
      expect(currentManager('analytics')).toBe(analytics.dataSource.manager);
      expect(currentManager()).toBe(runner.manager);
    });
    expect((await customers.getById(created.id)).name).toBe('Named again');
  });
});
