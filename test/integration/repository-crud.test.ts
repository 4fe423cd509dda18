import { In, IsNull, MoreThan, Not } from 'typeorm';
import { Account } from '../../entities/account';
import { Customer } from '../../entities/customer';
import { AccountRepository } from '../../repositories/account-repository';
import { CustomerRepository } from '../../repositories/customer-repository';
import {
  BaseRepository,
  ConfigError,
  Database,
  DatabaseNotConnectedError,
  ForeignKeyViolationError,
  NotFoundError,
  OptimisticLockError,
  UniqueViolationError,
} from '../../src';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';

let db: TestDatabase;
let database: Database;
const customers = new CustomerRepository();
const accounts = new AccountRepository();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectLedger(db));
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the call to fail');
  return error;
}

let seq = 0;
const newCustomer = (name = 'Ada') => customers.create({ name, email: `${name.toLowerCase()}-${++seq}@example.com` });

describe('create', () => {
  it('inserts the row and returns it with every column the database filled in', async () => {
    const before = new Date(Date.now() - 1000);
    const customer = await customers.create({ name: 'Grace', email: 'grace@example.com' });
    expect(customer).toBeInstanceOf(Customer);
    expect(customer).toEqual({
      id: expect.any(Number),
      name: 'Grace',
      email: 'grace@example.com',
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
      deletedAt: null,
    });
    expect(customer.createdAt.getTime()).toBeGreaterThan(before.getTime());
    expect(await database.query('SELECT name, email, deleted_at FROM customers WHERE id = $1', [customer.id])).toEqual([
      { name: 'Grace', email: 'grace@example.com', deleted_at: null },
    ]);
  });

  it('applies column defaults and starts the version at 1', async () => {
    const owner = await newCustomer();
    const account = await accounts.create({ ownerId: owner.id, currency: 'EUR' });
    expect(account).toBeInstanceOf(Account);
    expect(account).toMatchObject({ ownerId: owner.id, currency: 'EUR', balance: '0.00', version: 1 });
    expect(await database.query('SELECT balance, version FROM accounts WHERE id = $1', [account.id])).toEqual([{ balance: '0.00', version: 1 }]);
  });

  it('maps a duplicate key to UniqueViolationError with the constraint and column, never the value', async () => {
    await customers.create({ name: 'Dup', email: 'dup@example.com' });
    const error = await failure(customers.create({ name: 'Dup again', email: 'dup@example.com' }));
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ constraint: 'customers_email_key', table: 'customers', columns: ['email'], code: '23505' });
    expect(error.message).not.toContain('dup@example.com');
    expect(await customers.count({ email: 'dup@example.com' })).toBe(1);
  });

  it('maps a missing parent to ForeignKeyViolationError', async () => {
    const error = await failure(accounts.create({ ownerId: 999999, currency: 'EUR' }));
    expect(error).toBeInstanceOf(ForeignKeyViolationError);
    expect(error).toMatchObject({ constraint: 'accounts_owner_id_fkey', table: 'accounts', columns: ['owner_id'] });
    expect(await accounts.count({ ownerId: 999999 })).toBe(0);
  });
});

describe('findById / getById', () => {
  it('finds a row by primary key, as a number or a string of digits', async () => {
    const customer = await newCustomer('Find');
    expect(await customers.findById(customer.id)).toEqual(customer);
    expect(await customers.findById(String(customer.id))).toEqual(customer);
    expect(await customers.getById(customer.id)).toEqual(customer);
  });

  it('returns null, or throws NotFoundError from getById, for a missing row', async () => {
    expect(await customers.findById(987654)).toBeNull();
    const error = await failure(customers.getById(987654));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('Customer with id 987654 was not found.');
    expect(error).toMatchObject({ entity: 'Customer', id: 987654 });
  });

  it('treats a soft-deleted row as missing', async () => {
    const customer = await newCustomer('Gone');
    await customers.softDelete(customer.id);
    expect(await customers.findById(customer.id)).toBeNull();
    await expect(customers.getById(customer.id)).rejects.toThrow(NotFoundError);
  });
});

describe('findOne / count / exists', () => {
  it('findOne returns the first matching row by primary key, or null', async () => {
    const owner = await newCustomer('Owner');
    const first = await accounts.create({ ownerId: owner.id, currency: 'USD' });
    await accounts.create({ ownerId: owner.id, currency: 'USD' });
    expect(await accounts.findOne({ ownerId: owner.id, currency: 'USD' })).toEqual(first);
    expect(await accounts.findOne({ ownerId: owner.id, currency: 'CHF' })).toBeNull();
  });

  it('count and exists take filters with operators, and skip soft-deleted rows', async () => {
    const names = ['Op-a', 'Op-b', 'Op-c'];
    const made = await customers.createMany(names.map((name) => ({ name, email: `${name}@ops.example` })));
    await customers.softDelete(made[2]!.id);
    expect(await customers.count({ name: In(names) })).toBe(2);
    expect(await customers.count({ name: In(names), id: Not(made[0]!.id) })).toBe(1);
    expect(await customers.count({ name: In(names), deletedAt: IsNull() })).toBe(2);
    expect(await customers.count({ name: In(names), deletedAt: null })).toBe(2);
    expect(await customers.exists({ email: 'Op-c@ops.example' })).toBe(false);
    expect(await customers.exists({ email: 'Op-a@ops.example' })).toBe(true);
    expect(await customers.exists({})).toBe(true);
    expect(await customers.count()).toBe(await database.query<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE deleted_at IS NULL').then((r) => r[0]!.n));
    expect(await customers.count({ id: MoreThan(made[2]!.id) })).toBe(0);
  });
});

describe('update', () => {
  it('changes the given columns and returns the row, with a new version and update date', async () => {
    const owner = await newCustomer('Upd');
    const account = await accounts.create({ ownerId: owner.id, currency: 'EUR', balance: '5.00' });
    const updated = await accounts.update(account.id, { balance: '7.25' });
    expect(updated).toBeInstanceOf(Account);
    expect(updated).toMatchObject({ id: account.id, balance: '7.25', currency: 'EUR', version: 2, createdAt: account.createdAt });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(account.updatedAt.getTime());
    expect(await database.query('SELECT balance, version FROM accounts WHERE id = $1', [account.id])).toEqual([{ balance: '7.25', version: 2 }]);
  });

  it('with the version read: updates while it is current, then refuses a stale one with OptimisticLockError', async () => {
    const owner = await newCustomer('Lock');
    const account = await accounts.create({ ownerId: owner.id, currency: 'EUR', balance: '1.00' });
    const first = await accounts.update(account.id, { balance: '2.00', version: account.version });
    expect(first.version).toBe(2);
    const error = await failure(accounts.update(account.id, { balance: '3.00', version: account.version }));
    expect(error).toBeInstanceOf(OptimisticLockError);
    expect(error.message).toBe(
      `Account with id ${account.id} was modified concurrently: expected version 1, but the row has moved on. Reload it and apply the change again.`,
    );
    expect(await database.query('SELECT balance, version FROM accounts WHERE id = $1', [account.id])).toEqual([{ balance: '2.00', version: 2 }]);
  });

  it('lets exactly one of several concurrent updates with the same version win', async () => {
    const owner = await newCustomer('Race');
    const account = await accounts.create({ ownerId: owner.id, currency: 'EUR' });
    const results = await Promise.allSettled(
      ['1.00', '2.00', '3.00', '4.00', '5.00'].map((balance) => accounts.update(account.id, { balance, version: 1 })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => r.reason)).toEqual(Array(4).fill(expect.any(OptimisticLockError)));
    const [row] = await database.query<{ balance: string; version: number }>('SELECT balance, version FROM accounts WHERE id = $1', [account.id]);
    expect(row).toEqual({ balance: (won[0] as PromiseFulfilledResult<Account>).value.balance, version: 2 });
  });

  it('throws NotFoundError for a missing or soft-deleted row, with or without a version', async () => {
    await expect(accounts.update(424242, { balance: '1.00' })).rejects.toThrow(new NotFoundError('Account', 424242));
    await expect(accounts.update(424242, { balance: '1.00', version: 1 })).rejects.toThrow(NotFoundError);
    const customer = await newCustomer('Deleted');
    await customers.softDelete(customer.id);
    await expect(customers.update(customer.id, { name: 'Back' })).rejects.toThrow(new NotFoundError('Customer', customer.id));
    expect(await database.query('SELECT name FROM customers WHERE id = $1', [customer.id])).toEqual([{ name: 'Deleted' }]);
  });

  it('maps a unique violation on update', async () => {
    const a = await newCustomer('Ua');
    const b = await newCustomer('Ub');
    await expect(customers.update(b.id, { email: a.email })).rejects.toThrow(UniqueViolationError);
    expect((await customers.getById(b.id)).email).toBe(b.email);
  });
});

describe('upsert', () => {
  it('inserts a new row, then updates it on a conflict of the given columns', async () => {
    const inserted = await customers.upsert({ name: 'Up', email: 'up@example.com' }, ['email']);
    expect(inserted).toMatchObject({ id: expect.any(Number), name: 'Up', email: 'up@example.com' });
    const updated = await customers.upsert({ name: 'Up again', email: 'up@example.com' }, ['email']);
    expect(updated).toMatchObject({ id: inserted.id, name: 'Up again', createdAt: inserted.createdAt });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(inserted.updatedAt.getTime());
    expect(await database.query('SELECT id, name FROM customers WHERE email = $1', ['up@example.com'])).toEqual([{ id: inserted.id, name: 'Up again' }]);
  });

  it('refuses conflict columns that are not one unique constraint, or that the row does not set', async () => {
    const before = await customers.count();
    await expect(customers.upsert({ name: 'No', email: 'no@example.com' }, ['email', 'name'])).rejects.toThrow(
      'Invalid Customer upsert (1 problem):\n  - conflictColumns: conflictColumns must be the columns of one unique constraint of Customer: (id) or (email)',
    );
    await expect(customers.upsert({ name: 'No', email: 'no@example.com' }, ['id'])).rejects.toThrow(
      'Invalid Customer upsert (1 problem):\n  - conflictColumns.id: the row must set id to upsert on it',
    );
    await expect(customers.upsert({ name: 'No', email: 'no@example.com' }, [] as never)).rejects.toThrow(/conflictColumns must be a non-empty array/);
    expect(await customers.count()).toBe(before);
  });
});

describe('delete / softDelete / restore', () => {
  it('delete removes the row for good and says whether there was one', async () => {
    const customer = await newCustomer('Del');
    expect(await customers.delete(customer.id)).toBe(true);
    expect(await customers.delete(customer.id)).toBe(false);
    expect(await database.query('SELECT count(*)::int AS n FROM customers WHERE id = $1', [customer.id])).toEqual([{ n: 0 }]);
  });

  it('delete also removes a soft-deleted row', async () => {
    const customer = await newCustomer('Purge');
    await customers.softDelete(customer.id);
    expect(await customers.delete(customer.id)).toBe(true);
    expect(await database.query('SELECT count(*)::int AS n FROM customers WHERE id = $1', [customer.id])).toEqual([{ n: 0 }]);
  });

  it('delete of a referenced row is a ForeignKeyViolationError and deletes nothing', async () => {
    const owner = await newCustomer('Parent');
    await accounts.create({ ownerId: owner.id, currency: 'GBP' });
    await expect(customers.delete(owner.id)).rejects.toThrow(ForeignKeyViolationError);
    expect(await customers.findById(owner.id)).toEqual(owner);
  });

  it('softDelete marks the row deleted once; restore brings it back once', async () => {
    const customer = await newCustomer('Soft');
    expect(await customers.softDelete(customer.id)).toBe(true);
    expect(await customers.softDelete(customer.id)).toBe(false);
    const [row] = await database.query<{ deleted_at: Date | null }>('SELECT deleted_at FROM customers WHERE id = $1', [customer.id]);
    expect(row!.deleted_at).toBeInstanceOf(Date);
    expect(await customers.restore(customer.id)).toBe(true);
    expect(await customers.restore(customer.id)).toBe(false);
    expect(await customers.findById(customer.id)).toMatchObject({ id: customer.id, deletedAt: null });
  });

  it('softDelete and restore return false for a missing row', async () => {
    expect(await customers.softDelete(777777)).toBe(false);
    expect(await customers.restore(777777)).toBe(false);
  });

  it('softDelete on an entity without @DeleteDateColumn is a clear error', async () => {
    const owner = await newCustomer('NoSoft');
    const account = await accounts.create({ ownerId: owner.id, currency: 'EUR' });
    await expect(accounts.softDelete(account.id)).rejects.toThrow(
      'Account has no @DeleteDateColumn, so it cannot be soft-deleted or restored; add one, or use delete().',
    );
    await expect(accounts.restore(account.id)).rejects.toThrow(/has no @DeleteDateColumn/);
  });
});

describe('repository setup', () => {
  class StrayRepository extends BaseRepository<Customer> {
    constructor() {
      super(Customer, { database: 'nowhere' });
    }
  }

  it('throws DatabaseNotConnectedError when its database is not connected', async () => {
    await expect(new StrayRepository().findById(1)).rejects.toThrow(DatabaseNotConnectedError);
  });

  it('throws ConfigError when the entity is not one of the database', async () => {
    class NotAnEntity {
      id!: number;
    }
    class Lost extends BaseRepository<NotAnEntity> {
      constructor() {
        super(NotAnEntity);
      }
    }
    await expect(new Lost().count()).rejects.toThrow(
      new ConfigError([
        { variable: 'entities', message: 'NotAnEntity is not an entity of the database: list it in DatabaseOptions.entities (or DB_ENTITIES)' },
      ]).message,
    );
  });

  it('validates its options up front, naming every bad one', () => {
    class Bad extends BaseRepository<Customer> {
      constructor(options: object) {
        super(Customer, options);
      }
    }
    expect(() => new Bad({ maxLimit: 0, defaultLimit: 'ten', chunk: 5, cursorSecret: 'short' })).toThrow(
      new ConfigError([
        { variable: 'chunk', message: 'is not a repository option (database, defaultLimit, maxLimit, chunkSize, cursorSecret)' },
        { variable: 'defaultLimit', message: '"ten" is not valid; expected a positive integer' },
        { variable: 'maxLimit', message: '0 is not valid; expected a positive integer' },
        { variable: 'cursorSecret', message: 'must be at least 16 bytes' },
      ]).message,
    );
  });
});
