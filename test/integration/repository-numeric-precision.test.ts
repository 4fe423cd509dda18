import { Between, MoreThan } from 'typeorm';
import { AccountRepository } from '../../repositories/account-repository';
import { CustomerRepository } from '../../repositories/customer-repository';
import { TransferRepository } from '../../repositories/transfer-repository';
import { Database, ValidationError } from '../../src';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';

let db: TestDatabase;
let database: Database;
let ownerId: number;
const customers = new CustomerRepository();
const accounts = new AccountRepository();
const transfers = new TransferRepository();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectLedger(db));
  ownerId = (await customers.create({ name: 'Saver', email: 'saver@example.com' })).id;
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

describe('money is numeric(20,2) in the database and a string in JavaScript, never a float', () => {
  it('stores and returns the largest amount exactly', async () => {
    const account = await accounts.create({ ownerId, currency: 'USD', balance: '999999999999999999.99' });
    expect(account.balance).toBe('999999999999999999.99');
    expect((await accounts.getById(account.id)).balance).toBe('999999999999999999.99');
    expect(await database.query('SELECT balance::text AS b FROM accounts WHERE id = $1', [account.id])).toEqual([{ b: '999999999999999999.99' }]);
  });

  it('returns amounts as PostgreSQL normalizes them, as strings', async () => {
    const account = await accounts.create({ ownerId, currency: 'USD', balance: '7.5' });
    expect(account.balance).toBe('7.50');
    const whole = await accounts.create({ ownerId, currency: 'USD', balance: '10' });
    expect(whole.balance).toBe('10.00');
    expect(typeof (await accounts.findMany({ where: { id: whole.id } })).items[0]!.balance).toBe('string');
  });

  it('adds 0.10 + 0.20 to exactly 0.30, where floats give 0.30000000000000004', async () => {
    const a = await accounts.create({ ownerId, currency: 'GBP', balance: '0.10' });
    await accounts.create({ ownerId, currency: 'GBP', balance: '0.20' });
    expect((await accounts.totals()).GBP).toBe('0.30');
    expect(await accounts.adjustBalance(a.id, '0.20')).toBe('0.30');
    expect(0.1 + 0.2).not.toBe(0.3);
  });

  it('refuses a float, a third decimal and a 19th integer digit instead of rounding them', async () => {
    const cases: unknown[] = [0.1 + 0.2, 10, '1.005', '1.001', '1000000000000000000.00', '1e3', 'NaN', ' 1.00'];
    for (const balance of cases) {
      const error = await accounts.create({ ownerId, currency: 'EUR', balance: balance as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.property).toBe('balance');
    }
    expect(await accounts.count({ currency: 'EUR' })).toBe(0);
  });

  it('compares decimal strings exactly in filters', async () => {
    const made = await accounts.createMany([
      { ownerId, currency: 'CHF', balance: '100.01' },
      { ownerId, currency: 'CHF', balance: '100.00' },
      { ownerId, currency: 'CHF', balance: '99.99' },
    ]);
    expect(await accounts.count({ currency: 'CHF', balance: MoreThan('100.00') })).toBe(1);
    expect(await accounts.count({ currency: 'CHF', balance: Between('99.99', '100.00') })).toBe(2);
    const page = await accounts.findMany({ where: { currency: 'CHF' }, order: { balance: 'DESC' } });
    expect(page.items.map((a) => a.id)).toEqual(made.map((a) => a.id));
  });

  it('keeps transfer amounts exact and positive', async () => {
    const [from, to] = await accounts.createMany([
      { ownerId, currency: 'EUR', balance: '0.03' },
      { ownerId, currency: 'EUR', balance: '0.00' },
    ]);
    const transfer = await transfers.create({ fromAccountId: from!.id, toAccountId: to!.id, amount: '0.01' });
    expect(transfer.amount).toBe('0.01');
    await expect(transfers.create({ fromAccountId: from!.id, toAccountId: to!.id, amount: '0.00' })).rejects.toThrow(
      'Invalid Transfer (1 problem):\n  - amount: amount must be a positive amount with at most 2 decimals, as a string',
    );
  });
});
