import { Between, Equal, ILike, In, LessThan, Like, Not, Raw } from 'typeorm';
import { Customer } from '../../entities/customer';
import { AccountRepository } from '../../repositories/account-repository';
import { CustomerRepository } from '../../repositories/customer-repository';
import { BaseRepository, Database, ValidationError } from '../../src';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger, tableState } from '../helpers/ledger';
import type { LogCapture } from '../helpers/logs';

let db: TestDatabase;
let database: Database;
let logs: LogCapture;
const customers = new CustomerRepository();
const accounts = new AccountRepository();

class OtherSecretCustomers extends BaseRepository<Customer> {
  constructor() {
    super(Customer, { cursorSecret: 'another-secret-of-another-process' });
  }
}

/** Cursors issued by real findMany calls, to be reused where they do not belong. */
const issued: { byName?: string; byId?: string; accounts?: string; otherSecret?: string } = {};

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database, logs } = await connectLedger(db));
  const made = await customers.createMany(Array.from({ length: 30 }, (_, i) => ({ name: `Name ${i % 7}`, email: `c${i}@example.com` })));
  await accounts.createMany(made.map((c) => ({ ownerId: c.id, currency: 'EUR' as const, balance: '10.00' })));
  issued.byName = (await customers.findMany({ order: { name: 'ASC' }, limit: 5 })).nextCursor;
  issued.byId = (await customers.findMany({ limit: 5 })).nextCursor;
  issued.accounts = (await accounts.findMany({ limit: 5 })).nextCursor;
  issued.otherSecret = (await new OtherSecretCustomers().findMany({ order: { name: 'ASC' }, limit: 5 })).nextCursor;
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

/** Flips one character in the middle of the signed payload. */
function tampered(cursor: string): string {
  const i = Math.floor(cursor.indexOf('.') / 2);
  return `${cursor.slice(0, i)}${cursor[i] === 'A' ? 'B' : 'A'}${cursor.slice(i + 1)}`;
}

/** A payload someone wrote by hand, with a made-up signature. */
function forged(values: unknown[]): string {
  const payload = Buffer.from(JSON.stringify({ s: 'x', k: values })).toString('base64url');
  return `${payload}.${Buffer.alloc(16, 7).toString('base64url')}`;
}

type Case = readonly [name: string, call: () => Promise<unknown>, property: string];

const filters: Case[] = [
  ['a key with SQL after the column', () => customers.findMany({ where: { 'id; DROP TABLE customers': 1 } as never }), 'where.id; DROP TABLE customers'],
  ['a key that is an expression', () => customers.count({ 'email = email OR 1=1 --': 'x' } as never), 'where.email = email OR 1=1 --'],
  ['a __proto__ key from JSON', () => customers.findOne(JSON.parse('{"__proto__":{"id":1}}') as never), 'where.__proto__'],
  ['an undefined value (would match everything)', () => customers.findMany({ where: { email: undefined } }), 'where.email'],
  ['undefined as the only condition of findOne', () => customers.findOne({ name: undefined }), 'where.name'],
  ['an undefined filter for exists', () => customers.exists(undefined as never), 'where'],
  ['an empty filter for findOne', () => customers.findOne({}), 'where'],
  ['an operator object from a query string', () => customers.findMany({ where: { id: { $gt: 0 } } as never }), 'where.id'],
  ['an array instead of In()', () => customers.count({ id: [1, 2] } as never), 'where.id'],
  ['SQL in an integer value', () => customers.exists({ id: '1 OR 1=1' as never }), 'where.id'],
  ['a Raw() operator', () => customers.findMany({ where: { id: Raw(() => '1=1') } }), 'where.id'],
  ['a Raw() hidden inside Not()', () => customers.count({ id: Not(Raw(() => 'true')) }), 'where.id'],
  ['SQL inside an In() list', () => customers.count({ id: In([1, '2; DROP TABLE customers']) } as never), 'where.id'],
  ['an In() list over the parameter limit', () => customers.count({ id: In(Array.from({ length: 10_001 }, (_, i) => i)) }), 'where.id'],
  ['Like on an integer column', () => customers.count({ id: Like('%1%') } as never), 'where.id'],
  ['a function value', () => customers.count({ name: (() => 'name') as never }), 'where.name'],
  ['NaN for an id', () => customers.count({ id: Number.NaN }), 'where.id'],
  ['Infinity for a numeric', () => accounts.count({ balance: Infinity as never }), 'where.balance'],
  ['an exponent for a numeric', () => accounts.count({ balance: LessThan('1e400') }), 'where.balance'],
  ['a string instead of a filter', () => customers.count('id = 1' as never), 'where'],
  ['an array of filters', () => customers.findMany({ where: [{ id: 1 }] as never }), 'where'],
  ['a nested relation filter', () => accounts.count({ owner: { id: 1 } } as never), 'where.owner'],
  ['an invalid Date', () => customers.count({ createdAt: new Date('not a date') }), 'where.createdAt'],
  ['a NUL character', () => customers.count({ email: 'a\u0000b' }), 'where.email'],
  ['a bigint beyond the column', () => customers.count({ id: 2n ** 70n as never }), 'where.id'],
  ['Between with one bound', () => customers.count({ id: Between(1, undefined as never) }), 'where.id'],
  ['an operator nested as a value', () => customers.count({ id: Equal(In([1]) as never) }), 'where.id'],
  ['ILike with a non-string pattern', () => customers.count({ email: ILike(5 as never) }), 'where.email'],
];

const orders: Case[] = [
  ['a key with a direction and a comment', () => customers.findMany({ order: { 'name DESC NULLS FIRST --': 'ASC' } as never }), 'order.name DESC NULLS FIRST --'],
  ['a key with a statement', () => customers.findMany({ order: { 'id; DROP TABLE customers': 'ASC' } as never }), 'order.id; DROP TABLE customers'],
  ['a direction with a statement', () => customers.findMany({ order: { name: 'DESC; DROP TABLE customers' } as never }), 'order.name'],
  ['a number as direction', () => customers.findMany({ order: { name: 1 } as never }), 'order.name'],
  ['a relation as key', () => accounts.findMany({ order: { owner: 'ASC' } as never }), 'order.owner'],
  ['a string instead of an object', () => customers.findMany({ order: 'name' as never }), 'order'],
];

const cursors: Case[] = [
  ['garbage', () => customers.findMany({ after: 'garbage' }), 'after'],
  ['a tampered payload', () => customers.findMany({ order: { name: 'ASC' }, after: tampered(issued.byName!) }), 'after'],
  ['a forged payload carrying SQL', () => customers.findMany({ after: forged(['1; DROP TABLE customers', '1']) }), 'after'],
  ['a cursor of another order', () => customers.findMany({ order: { name: 'DESC' }, after: issued.byName! }), 'after'],
  ['a cursor of the default order used with a sort', () => customers.findMany({ order: { email: 'ASC' }, after: issued.byId! }), 'after'],
  ['a cursor of another entity', () => customers.findMany({ after: issued.accounts! }), 'after'],
  ['a cursor signed with another secret', () => customers.findMany({ order: { name: 'ASC' }, after: issued.otherSecret! }), 'after'],
  ['a 100k-character cursor', () => customers.findMany({ after: 'A'.repeat(100_000) }), 'after'],
  ['an object as cursor', () => customers.findMany({ after: { k: [1] } as never }), 'after'],
  ['after together with offset', () => customers.findMany({ after: issued.byId!, offset: 5 } as never), 'after'],
];

const ids: Case[] = [
  ['findById with SQL', () => customers.findById('1 OR 1=1'), 'id'],
  ['getById with a statement', () => customers.getById('1; DROP TABLE customers'), 'id'],
  ['delete with an object', () => customers.delete({ id: 1 } as never), 'id'],
  ['update with a path', () => customers.update('../../etc/passwd', { name: 'x' }), 'id'],
  ['softDelete with a fraction', () => customers.softDelete(-1.5), 'id'],
  ['findById beyond int4', () => customers.findById(2 ** 31), 'id'],
  ['restore with undefined', () => customers.restore(undefined as never), 'id'],
  ['delete with null', () => customers.delete(null as never), 'id'],
  ['update with an array', () => accounts.update([1, 2] as never, { balance: '1.00' }), 'id'],
];

const pages: Case[] = [
  ['a negative limit', () => customers.findMany({ limit: -1 }), 'limit'],
  ['a limit with SQL', () => customers.findMany({ limit: '10; DROP TABLE customers' as never }), 'limit'],
  ['a fractional limit', () => customers.findMany({ limit: 1.5 }), 'limit'],
  ['a negative offset', () => customers.findMany({ offset: -5 }), 'offset'],
  ['a NaN offset', () => customers.findMany({ offset: Number.NaN }), 'offset'],
  ['an unknown option', () => customers.findMany({ sql: 'DROP TABLE customers' } as never), 'sql'],
];

describe('hostile inputs are ValidationErrors, never SQL, and change nothing', () => {
  const all = [
    ...filters.map((c) => ['filter', ...c] as const),
    ...orders.map((c) => ['order', ...c] as const),
    ...cursors.map((c) => ['cursor', ...c] as const),
    ...ids.map((c) => ['id', ...c] as const),
    ...pages.map((c) => ['page', ...c] as const),
  ];

  it('covers at least 30 hostile inputs', () => {
    expect(all.length).toBeGreaterThanOrEqual(30);
  });

  it.each(all)('%s: %s', async (_kind, _name, call, property) => {
    const before = { customers: await tableState(database, 'customers'), accounts: await tableState(database, 'accounts') };
    const sent = logs.messages('query').length + logs.messages('query failed').length;
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.property)).toContain(property);
    expect(logs.messages('query').length + logs.messages('query failed').length).toBe(sent);
    expect({ customers: await tableState(database, 'customers'), accounts: await tableState(database, 'accounts') }).toEqual(before);
  });

  it('still answers honest queries afterwards (and the query log, which saw none of the above, sees them)', async () => {
    const sent = logs.messages('query').length;
    expect(await customers.count()).toBe(30);
    expect(logs.messages('query').length).toBe(sent + 1);
    expect(await accounts.count({ balance: '10.00' })).toBe(30);
    const page = await customers.findMany({ order: { name: 'ASC' }, limit: 5, after: issued.byName! });
    expect(page.items).toHaveLength(5);
  });
});

describe('db.query / db.execute / db.executeQuery bind the same hostile strings as values', () => {
  const hostile = [
    "'; DROP TABLE customers; --",
    "' OR '1'='1",
    '1; DELETE FROM accounts',
    '$1',
    '"); DROP TABLE accounts; --',
    '\\x27 OR 1=1',
    "Robert'); DROP TABLE customers;--",
    '/* comment */ SELECT pg_sleep(10)',
  ];

  it.each(hostile)('%s', async (value) => {
    const before = { customers: await tableState(database, 'customers'), accounts: await tableState(database, 'accounts') };
    expect(await database.query('SELECT id FROM customers WHERE email = $1 OR name = $1', [value])).toEqual([]);
    expect(await database.execute('UPDATE customers SET name = name WHERE email = $1', [value])).toBe(0);
    expect(await database.executeQuery('hostile', 'SELECT count(*)::int AS n FROM accounts WHERE currency = $1', [value])).toEqual([{ n: 0 }]);
    expect(await database.executeQuery('hostile', 'DELETE FROM accounts WHERE currency = $1', [value], 'execute')).toBe(0);
    expect(await database.executeQuery('hostile', 'UPDATE accounts SET balance = balance WHERE currency = $1', [value], 'commit')).toBe(0);
    expect(await database.query<{ echoed: string }>('SELECT $1::text AS echoed', [value])).toEqual([{ echoed: value }]);
    expect({ customers: await tableState(database, 'customers'), accounts: await tableState(database, 'accounts') }).toEqual(before);
  });

  it('stores hostile strings through the repository literally', async () => {
    const created = await customers.createMany(hostile.map((name, i) => ({ name, email: `hostile${i}@example.com` })));
    expect(created.map((c) => c.name)).toEqual(hostile);
    for (const name of hostile) expect(await customers.findOne({ name })).toMatchObject({ name });
    expect(await customers.count({ name: In(hostile) })).toBe(hostile.length);
    expect(await database.query("SELECT to_regclass('customers') IS NOT NULL AS customers, to_regclass('accounts') IS NOT NULL AS accounts")).toEqual([
      { customers: true, accounts: true },
    ]);
  });
});
