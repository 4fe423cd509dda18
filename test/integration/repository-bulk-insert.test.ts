import { AuditEvent } from '../../entities/audit-event';
import { Customer } from '../../entities/customer';
import { AuditEventRepository } from '../../repositories/audit-event-repository';
import { AccountRepository } from '../../repositories/account-repository';
import { CustomerRepository } from '../../repositories/customer-repository';
import { BaseRepository, Database, ForeignKeyViolationError, UniqueViolationError } from '../../src';
import { COPY_MIN_ROWS } from '../../src/repository/insert-path';
import { backendPid, inAmbientTransaction } from '../helpers/ambient';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';
import type { LogCapture } from '../helpers/logs';

class SmallChunks extends BaseRepository<Customer> {
  constructor() {
    super(Customer, { chunkSize: 1000 });
  }
}

let db: TestDatabase;
let database: Database;
let logs: LogCapture;
const customers = new CustomerRepository();
const accounts = new AccountRepository();
const events = new AuditEventRepository();
const small = new SmallChunks();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database, logs } = await connectLedger(db));
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

type QueryLine = { sql: string; params?: string; pid?: number };

/** The query log lines written while `fn` ran. */
async function queriesDuring(fn: () => Promise<unknown>): Promise<QueryLine[]> {
  const start = logs.lines.length;
  await fn().catch(() => undefined);
  return logs.lines.slice(start).filter((l) => l.message === 'query' || l.message === 'query failed') as QueryLine[];
}

const people = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ name: `${prefix} ${i}`, email: `${prefix}-${i}@bulk.example` }));
const count = async (prefix: string) =>
  (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE email LIKE $1', [`${prefix}-%`]))[0]!.n;

describe('createMany', () => {
  it('writes 12,001 customers with one COPY after one round trip that reserves their ids, inside one transaction', async () => {
    await customers.createMany(people(COPY_MIN_ROWS, 'warm')); // reads the table's catalog facts once
    let created: Customer[] = [];
    const lines = await queriesDuring(async () => {
      created = await customers.createMany(people(12_001, 'big'));
    });
    expect(lines.map((l) => l.sql.split(' ').slice(0, 2).join(' '))).toEqual(['START TRANSACTION', 'SELECT now()', 'COPY "customers"', 'COMMIT']);
    expect(new Set(lines.map((l) => l.pid)).size).toBe(1);
    expect(created).toHaveLength(12_001);
    expect(await count('big')).toBe(12_001);
  });

  it('sends rows whose stored form COPY cannot predict (jsonb) as INSERT statements of one parameter each, 5,000 rows a statement', async () => {
    const rows = Array.from({ length: 12_001 }, (_, i) => ({ actor: 'bulk', action: 'json.path', payload: { i } }));
    let created: AuditEvent[] = [];
    const lines = await queriesDuring(async () => {
      created = await events.createMany(rows);
    });
    const statements = lines.filter((l) => !l.sql.startsWith('SELECT c.relkind'));
    expect(statements.map((l) => l.sql.split(' ').slice(0, 2).join(' '))).toEqual(['START TRANSACTION', 'INSERT INTO', 'INSERT INTO', 'INSERT INTO', 'COMMIT']);
    expect(statements.filter((l) => l.sql.startsWith('INSERT')).map((l) => l.params)).toEqual(['[1 redacted]', '[1 redacted]', '[1 redacted]']);
    expect(new Set(statements.map((l) => l.pid)).size).toBe(1);
    expect(created.map((e) => e.payload)).toEqual(rows.map((r) => r.payload));
    expect(logs.messages('bulk insert').at(-1)).toMatchObject({ entity: 'AuditEvent', via: 'json', reason: 'payload (jsonb) has no COPY codec', statements: 3 });
  });

  it('returns the rows in the given order, with their ids', async () => {
    const created = await small.createMany(people(2_500, 'order'));
    expect(created.map((c) => c.name)).toEqual(people(2_500, 'order').map((p) => p.name));
    const stored = await database.query<{ id: number; name: string }>("SELECT id, name FROM customers WHERE email LIKE 'order-%' ORDER BY id");
    expect(created.map((c) => ({ id: c.id, name: c.name }))).toEqual(stored);
    expect(created.every((c) => c instanceof Customer && c.createdAt instanceof Date)).toBe(true);
  });

  it('rolls the whole call back when a row of a later chunk fails', async () => {
    const rows = [...people(2_400, 'fail'), { name: 'duplicate of the first', email: 'fail-0@bulk.example' }];
    const error = await small.createMany(rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ constraint: 'customers_email_key', columns: ['email'] });
    expect(await count('fail')).toBe(0);
  });

  it('rolls back on a missing parent too', async () => {
    const owner = await customers.create({ name: 'Owner', email: 'owner@bulk.example' });
    const rows = Array.from({ length: 6_000 }, (_, i) => ({ ownerId: i === 5_999 ? 99_999_999 : owner.id, currency: 'EUR' as const }));
    await expect(accounts.createMany(rows)).rejects.toThrow(ForeignKeyViolationError);
    expect(await accounts.count({ ownerId: owner.id })).toBe(0);
  });

  it('joins the ambient transaction with its COPY: no transaction of its own, and the caller rolls it all back', async () => {
    let pid = 0;
    const lines = await queriesDuring(() =>
      inAmbientTransaction(database, async (runner) => {
        pid = await backendPid(runner);
        const created = await small.createMany(people(2_100, 'ambient'));
        expect(created).toHaveLength(2_100);
        expect(await small.count()).toBeGreaterThanOrEqual(2_100);
      }),
    );
    const writes = lines.filter((l) => /^(SELECT now|COPY)/.test(l.sql));
    expect(writes.map((l) => l.sql.split(' ')[0])).toEqual(['SELECT', 'COPY']);
    expect(writes.every((l) => l.pid === pid)).toBe(true);
    expect(lines.filter((l) => l.sql.startsWith('START TRANSACTION'))).toHaveLength(1);
    expect(await count('ambient')).toBe(0);
  });

  it('sends a single row, or a single chunk, as one statement without a transaction', async () => {
    const lines = await queriesDuring(() => customers.createMany(people(3, 'single')));
    expect(lines.map((l) => l.sql.split(' ')[0])).toEqual(['INSERT']);
    expect(await count('single')).toBe(3);
  });

  it('sends nothing for an empty array', async () => {
    expect(await queriesDuring(async () => expect(await customers.createMany([])).toEqual([]))).toEqual([]);
  });
});
