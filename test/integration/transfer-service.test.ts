import { Customer } from '../../entities/customer';
import { CustomerRepository } from '../../repositories/customer-repository';
import { AuditService } from '../../services/audit-service';
import { InsufficientFundsError } from '../../services/errors';
import { LedgerReports } from '../../services/ledger-reports';
import { TransferService } from '../../services/transfer-service';
import {
  currentTransaction,
  Database,
  NotFoundError,
  TransactionNotAllowedError,
  TransactionRequiredError,
  ValidationError,
  withTransaction,
} from '../../src';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger, tableState } from '../helpers/ledger';

let db: TestDatabase;
let database: Database;
const service = new TransferService();
const reports = new LedgerReports();
const audit = new AuditService();
let owner: Customer;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectLedger(db, { env: { DB_POOL_MAX: '6' } }));
  owner = await new CustomerRepository().create({ name: 'Grace Hopper', email: 'grace@ledger.example' });
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

const balance = async (id: number) => (await database.query<{ balance: string }>('SELECT balance FROM accounts WHERE id = $1', [id]))[0]!.balance;
const events = async (action: string) =>
  database.query<{ actor: string; payload: Record<string, unknown> }>('SELECT actor, payload FROM audit_events WHERE action = $1 ORDER BY id', [action]);
async function twoAccounts(a = '100.00', b = '0.00') {
  return [await service.openAccount(owner.id, 'EUR', a), await service.openAccount(owner.id, 'EUR', b)] as const;
}

describe('TransferService.transfer', () => {
  it('debits, credits, records the transfer and its audit event in one transaction', async () => {
    const [from, to] = await twoAccounts();
    const transfer = await service.transfer({ from: from.id, to: to.id, amount: '30.25', actor: 'teller-7' });
    expect([await balance(from.id), await balance(to.id)]).toEqual(['69.75', '30.25']);
    expect(transfer).toMatchObject({ fromAccountId: from.id, toAccountId: to.id, amount: '30.25' });
    const completed = await events('transfer.completed');
    expect(completed.at(-1)).toEqual({ actor: 'teller-7', payload: { transfer: transfer.id, from: from.id, to: to.id, amount: '30.25' } });
  });

  it('refuses insufficient funds with a typed error, writes nothing of the transfer, and audits the attempt', async () => {
    const [from, to] = await twoAccounts('10.00');
    const before = await Promise.all(['accounts', 'transfers'].map((t) => tableState(database, t)));
    const error = await service.transfer({ from: from.id, to: to.id, amount: '10.01', actor: 'teller-8' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientFundsError);
    expect((error as Error).message).toBe(`Account ${from.id} holds 10.00, which is less than the 10.01 to transfer; nothing was moved.`);
    expect(await Promise.all(['accounts', 'transfers'].map((t) => tableState(database, t)))).toEqual(before);
    expect((await events('transfer.failed')).at(-1)).toEqual({
      actor: 'teller-8',
      payload: { from: from.id, to: to.id, amount: '10.01', reason: 'InsufficientFundsError' },
    });
  });

  it('refuses an unknown account with NotFoundError and writes nothing', async () => {
    const [from] = await twoAccounts();
    const before = await tableState(database, 'accounts');
    await expect(service.transfer({ from: from.id, to: 987654, amount: '1.00' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await tableState(database, 'accounts')).toEqual(before);
  });

  it.each([['0.00'], ['-5.00'], ['1.999'], ['ten']])('refuses the amount %s with ValidationError', async (amount) => {
    const [from, to] = await twoAccounts();
    await expect(service.transfer({ from: from.id, to: to.id, amount })).rejects.toBeInstanceOf(ValidationError);
    expect(await balance(from.id)).toBe('100.00');
  });
});

describe('TransferService.payMany (NESTED payouts)', () => {
  it('rolls back only the payouts that fail and commits the rest with the batch', async () => {
    const [payer, alice] = await twoAccounts('50.00');
    const bob = await service.openAccount(owner.id, 'EUR');
    const results = await service.payMany(payer.id, [
      { to: alice.id, amount: '20.00' },
      { to: 424242, amount: '5.00' },
      { to: bob.id, amount: '40.00' },
      { to: bob.id, amount: '30.00' },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.name))).toEqual(['ok', 'NotFoundError', 'InsufficientFundsError', 'ok']);
    expect([await balance(payer.id), await balance(alice.id), await balance(bob.id)]).toEqual(['0.00', '20.00', '30.00']);
    expect((await events('payouts.completed')).at(-1)?.payload).toEqual({ from: payer.id, paid: 2, failed: 2 });
  });
});

describe('AuditService propagation', () => {
  it('MANDATORY: record() refuses to run outside a transaction', async () => {
    await expect(audit.record('x', 'y', {})).rejects.toBeInstanceOf(TransactionRequiredError);
  });

  it('REQUIRES_NEW: recordFailure() survives the rollback of its caller', async () => {
    await withTransaction(async () => {
      await audit.recordFailure('rollback-test', 'thing.failed', { n: 1 });
      throw new Error('caller fails');
    }).catch(() => undefined);
    expect(await events('thing.failed')).toEqual([{ actor: 'rollback-test', payload: { n: 1 } }]);
  });
});

describe('LedgerReports', () => {
  it('reads a statement in a read-only snapshot and audits the view outside it (NOT_SUPPORTED)', async () => {
    const [from, to] = await twoAccounts();
    await service.transfer({ from: from.id, to: to.id, amount: '1.00' });
    const statement = await reports.statement(from.id, 'auditor');
    expect(statement.account.balance).toBe('99.00');
    expect(statement.transfers.map((t) => t.amount)).toEqual(['1.00']);
    expect((await events('statement.viewed')).at(-1)).toEqual({ actor: 'auditor', payload: { account: from.id } });
  });

  it('SUPPORTS: balanceOf() sees the caller\'s uncommitted change inside its transaction', async () => {
    const [from, to] = await twoAccounts();
    const inside = await withTransaction(async () => {
      await service.transfer({ from: from.id, to: to.id, amount: '5.00' });
      return { balance: await reports.balanceOf(from.id), tx: currentTransaction()?.id };
    }, { isolation: 'SERIALIZABLE' });
    expect(inside.balance).toBe('95.00');
    expect(await reports.balanceOf(from.id)).toBe('95.00');
  });

  it('NEVER: totals() refuses to run inside a transaction and works outside one', async () => {
    await expect(withTransaction(() => reports.totals())).rejects.toBeInstanceOf(TransactionNotAllowedError);
    const totals = await reports.totals();
    expect(Object.keys(totals)).toEqual(['EUR']);
  });
});
