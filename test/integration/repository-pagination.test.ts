import { In } from 'typeorm';
import { AuditEvent } from '../../entities/audit-event';
import { Customer } from '../../entities/customer';
import { AuditEventRepository } from '../../repositories/audit-event-repository';
import { CustomerRepository } from '../../repositories/customer-repository';
import { BaseRepository, Database, Page } from '../../src';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';

let db: TestDatabase;
let database: Database;
const customers = new CustomerRepository();
const events = new AuditEventRepository();

class SmallPages extends BaseRepository<Customer> {
  constructor() {
    super(Customer, { defaultLimit: 7, maxLimit: 20 });
  }
}

/** 120 customers named `Name 0` … `Name 11` (10 of each, so sorting by name has ties), plus 5 soft-deleted ones. */
let all: Customer[];
beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectLedger(db));
  all = await customers.createMany(Array.from({ length: 120 }, (_, i) => ({ name: `Name ${String(i % 12).padStart(2, '0')}`, email: `p${i}@example.com` })));
  const deleted = await customers.createMany(Array.from({ length: 5 }, (_, i) => ({ name: 'Deleted', email: `d${i}@example.com` })));
  for (const customer of deleted) await customers.softDelete(customer.id);
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

/** Every page of a cursor walk, from the first (no `after`) to the one without `nextCursor`. */
async function walk<T>(read: (after?: string) => Promise<Page<T>>): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  let after: string | undefined;
  do {
    const page = await read(after);
    pages.push(page);
    after = page.nextCursor;
  } while (after !== undefined);
  return pages;
}

describe('offset pages', () => {
  it('default to 50 rows by primary key, with the total and a cursor to the next page', async () => {
    const page = await customers.findMany();
    expect(page.items.map((c) => c.id)).toEqual(all.slice(0, 50).map((c) => c.id));
    expect(page.total).toBe(120);
    expect(typeof page.nextCursor).toBe('string');
  });

  it('skip `offset` rows; the last page has no nextCursor', async () => {
    const second = await customers.findMany({ offset: 50, limit: 50 });
    expect(second.items.map((c) => c.id)).toEqual(all.slice(50, 100).map((c) => c.id));
    expect(second.total).toBe(120);
    const last = await customers.findMany({ offset: 100, limit: 50 });
    expect(last.items.map((c) => c.id)).toEqual(all.slice(100).map((c) => c.id));
    expect(last).toEqual({ items: last.items, total: 120 });
    expect(await customers.findMany({ offset: 500 })).toEqual({ items: [], total: 120 });
  });

  it('cap the limit at maxLimit and use the repository default', async () => {
    const small = new SmallPages();
    expect((await small.findMany()).items).toHaveLength(7);
    expect((await small.findMany({ limit: 1_000_000 })).items).toHaveLength(20);
    expect((await customers.findMany({ limit: 1_000_000 })).items).toHaveLength(120);
  });

  it('order by several keys, with the primary key breaking ties', async () => {
    const page = await customers.findMany({ order: { name: 'DESC' }, limit: 15 });
    const expected = [...all].sort((a, b) => b.name.localeCompare(a.name) || a.id - b.id).slice(0, 15);
    expect(page.items.map((c) => c.id)).toEqual(expected.map((c) => c.id));
    const byTwo = await customers.findMany({ order: { name: 'ASC', id: 'DESC' }, limit: 12 });
    expect(byTwo.items.map((c) => c.id)).toEqual(
      [...all].sort((a, b) => a.name.localeCompare(b.name) || b.id - a.id).slice(0, 12).map((c) => c.id),
    );
  });

  it('filter and count only matching, live rows', async () => {
    const page = await customers.findMany({ where: { name: In(['Name 03', 'Deleted']) }, limit: 4 });
    expect(page.total).toBe(10);
    expect(page.items.every((c) => c.name === 'Name 03')).toBe(true);
    expect(page.items).toHaveLength(4);
  });
});

describe('cursor pages', () => {
  it('walk every row exactly once in a stable order, without total after the first page', async () => {
    const pages = await walk((after) => customers.findMany({ order: { name: 'DESC' }, limit: 11, after }));
    const seen = pages.flatMap((p) => p.items.map((c) => c.id));
    const expected = [...all].sort((a, b) => b.name.localeCompare(a.name) || a.id - b.id).map((c) => c.id);
    expect(seen).toEqual(expected);
    expect(pages[0]!.total).toBe(120);
    expect(pages.slice(1).every((p) => p.total === undefined)).toBe(true);
    expect(pages.at(-1)!.nextCursor).toBeUndefined();
    expect(pages).toHaveLength(Math.ceil(120 / 11));
  });

  it('combine with a filter', async () => {
    const pages = await walk((after) => customers.findMany({ where: { name: In(['Name 01', 'Name 02']) }, order: { email: 'ASC' }, limit: 3, after }));
    const seen = pages.flatMap((p) => p.items.map((c) => c.email));
    const expected = await database.query<{ email: string }>(
      "SELECT email FROM customers WHERE name IN ('Name 01', 'Name 02') AND deleted_at IS NULL ORDER BY email, id",
    );
    expect(seen).toEqual(expected.map((r) => r.email));
  });

  it('follow from an offset page', async () => {
    const offsetPage = await customers.findMany({ offset: 30, limit: 10 });
    const next = await customers.findMany({ after: offsetPage.nextCursor, limit: 10 });
    expect(next.items.map((c) => c.id)).toEqual(all.slice(40, 50).map((c) => c.id));
  });

  it('are opaque strings', async () => {
    const { nextCursor } = await customers.findMany({ order: { createdAt: 'ASC' }, limit: 2 });
    expect(nextCursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });
});

describe('a cursor walk over 10,000 rows while rows are inserted concurrently', () => {
  it('sees every row that existed when it started exactly once, and no row twice', async () => {
    const actions = ['account.opened', 'transfer.completed', 'transfer.failed', 'customer.updated'];
    const existing = await events.createMany(
      Array.from({ length: 10_000 }, (_, i) => ({ actor: `user-${i % 50}`, action: actions[i % actions.length]!, payload: { n: i } })),
    );
    let walking = true;
    let inserted = 0;
    const writer = (async () => {
      while (walking) {
        const batch = await events.createMany(
          Array.from({ length: 25 }, (_, i) => ({ actor: 'writer', action: actions[(inserted + i) % actions.length]!, payload: { late: inserted + i } })),
        );
        inserted += batch.length;
      }
    })();
    let pages: Page<AuditEvent>[];
    try {
      pages = await walk((after) => events.findMany({ order: { action: 'DESC' }, limit: 400, after }));
    } finally {
      walking = false;
      await writer;
    }
    const seen = pages.flatMap((p) => p.items.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);
    const seenSet = new Set(seen);
    expect(existing.filter((e) => !seenSet.has(e.id))).toEqual([]);
    expect(inserted).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThanOrEqual(10_000);
    expect(seen.length).toBeLessThanOrEqual(10_000 + inserted);
    const [{ n }] = (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')) as [{ n: number }];
    expect(n).toBe(10_000 + inserted);
  });
});
