import { randomUUID } from 'node:crypto';
import { In, IsNull, MoreThan } from 'typeorm';
import { BaseRepository, Database, OptimisticLockError, Page, ValidationError } from '../../src';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { Gadget } from '../helpers/gadget';

class GadgetRepository extends BaseRepository<Gadget> {
  constructor() {
    super(Gadget);
  }
}

let db: TestDatabase;
let database: Database;
const gadgets = new GadgetRepository();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectTo(db, { entities: [Gadget] }));
  await database.dataSource.synchronize();
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

async function walk<T>(read: (after?: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  do {
    const page = await read(after);
    items.push(...page.items);
    after = page.nextCursor;
  } while (after !== undefined);
  return items;
}

describe('every column kind round-trips through create, createMany and findById', () => {
  it('keeps uuid, varchar, null, boolean, enum, text[], jsonb, timestamp, bigint and double values exact', async () => {
    const id = randomUUID();
    const created = await gadgets.create({
      id,
      sku: 'AB-1',
      rank: null,
      active: true,
      color: 'green',
      tags: ['a', 'b,c', 'quote"d', "it's"],
      spec: { nested: { x: [1, 'two', null] }, text: "it's \"quoted\"", unicode: 'żółw 🐢' },
      seenAt: new Date('2024-02-29T12:34:56.789Z'),
      hits: '9007199254740993',
      weight: 0.1,
      secret: 'kept, never returned',
    });
    expect(created).toBeInstanceOf(Gadget);
    expect(created).toEqual({
      id,
      sku: 'AB-1',
      rank: null,
      active: true,
      color: 'green',
      tags: ['a', 'b,c', 'quote"d', "it's"],
      spec: { nested: { x: [1, 'two', null] }, text: "it's \"quoted\"", unicode: 'żółw 🐢' },
      seenAt: new Date('2024-02-29T12:34:56.789Z'),
      hits: '9007199254740993',
      weight: 0.1,
      version: 1,
      updatedAt: expect.any(Date),
    });
    expect(await gadgets.findById(id)).toEqual(created);
    expect(await database.query('SELECT secret FROM gadgets WHERE id = $1', [id])).toEqual([{ secret: 'kept, never returned' }]);
  });

  it('fills defaults per row when rows leave different columns out, and keeps the order', async () => {
    const rows = [
      { id: randomUUID(), sku: 'MIX-1', rank: 3, active: true },
      { id: randomUUID(), sku: 'MIX-2' },
      { id: randomUUID(), sku: 'MIX-3', rank: 1, tags: ['x'] },
      { id: randomUUID(), sku: 'MIX-4', color: 'blue' as const },
    ];
    const created = await gadgets.createMany(rows);
    expect(created.map((g) => g.sku)).toEqual(['MIX-1', 'MIX-2', 'MIX-3', 'MIX-4']);
    expect(created.map((g) => [g.rank, g.active, g.color, g.tags, g.hits])).toEqual([
      [3, true, 'red', [], '0'],
      [null, false, 'red', [], '0'],
      [1, false, 'red', ['x'], '0'],
      [null, false, 'blue', [], '0'],
    ]);
    for (const gadget of created) expect(await gadgets.findById(gadget.id)).toEqual(gadget);
  });

  it('rejects values that do not fit their columns, naming each', async () => {
    const error = await gadgets
      .create({ id: 'not-a-uuid', sku: 'WAY-TOO-LONG-SKU', color: 'pink' as never, tags: 'a,b' as never, spec: { f: () => 1 } as never, hits: '99999999999999999999', weight: Number.NaN })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { property: 'id', constraints: { isUuid: 'id must be a UUID' } },
      { property: 'sku', constraints: { maxLength: 'sku must be at most 12 characters' } },
      { property: 'color', constraints: { isEnum: 'color must be one of "red", "green", "blue"' } },
      { property: 'tags', constraints: { isArray: 'tags must be an array' } },
      { property: 'spec', constraints: { isJson: 'spec must be JSON data (objects, arrays, strings, finite numbers, booleans, null)' } },
      { property: 'hits', constraints: { isInt: 'hits must be a 64-bit integer (a bigint, a safe integer, or a string of digits)' } },
      { property: 'weight', constraints: { isNumber: 'weight must be a finite number' } },
    ]);
    expect(await gadgets.count({ sku: 'WAY-TOO-LONG-SKU' })).toBe(0);
  });
});

describe('filters by kind', () => {
  it('compare booleans, enums, bigints, uuids and NULL', async () => {
    const made = await gadgets.createMany([
      { id: randomUUID(), sku: 'F-1', active: true, color: 'blue', hits: '10' },
      { id: randomUUID(), sku: 'F-2', active: false, color: 'blue', hits: '20', rank: 5 },
    ]);
    expect((await gadgets.findOne({ sku: In(['F-1', 'F-2']), active: false }))?.sku).toBe('F-2');
    expect(await gadgets.count({ color: 'blue', hits: MoreThan('15') })).toBe(1);
    expect(await gadgets.count({ sku: In(['F-1', 'F-2']), rank: IsNull() })).toBe(1);
    expect(await gadgets.count({ sku: In(['F-1', 'F-2']), rank: null })).toBe(1);
    expect((await gadgets.findOne({ id: made[1]!.id }))?.sku).toBe('F-2');
  });

  it('refuse JSON and array columns, which have no plain comparison', async () => {
    await expect(gadgets.count({ spec: { a: 1 } })).rejects.toThrow(
      'Invalid Gadget query (1 problem):\n  - where.spec: spec (jsonb) cannot be compared in a filter; write a custom query',
    );
    await expect(gadgets.count({ tags: ['a'] })).rejects.toThrow(/where\.tags: tags \(text\[\]\) cannot be compared in a filter/);
    await expect(gadgets.findMany({ order: { spec: 'ASC' } })).rejects.toThrow(/order\.spec: spec cannot be sorted/);
  });
});

describe('upsert and update on a natural key with a version column', () => {
  it('moves the version on when the upsert updates, and not when it has nothing to change', async () => {
    const id = randomUUID();
    const inserted = await gadgets.upsert({ id, sku: 'UP-1', rank: 1 }, ['sku']);
    expect(inserted.version).toBe(1);
    const updated = await gadgets.upsert({ id: randomUUID(), sku: 'UP-1', rank: 2 }, ['sku']);
    expect(updated).toMatchObject({ id, rank: 2, version: 2 });
    const unchanged = await gadgets.upsert({ id: randomUUID(), sku: 'UP-1' }, ['sku']);
    expect(unchanged).toEqual(updated);
  });

  it('checks the version on update by a uuid key', async () => {
    const gadget = await gadgets.create({ id: randomUUID(), sku: 'V-1' });
    await gadgets.update(gadget.id, { rank: 7, version: 1 });
    await expect(gadgets.update(gadget.id, { rank: 8, version: 1 })).rejects.toThrow(OptimisticLockError);
    expect(await gadgets.findById(gadget.id)).toMatchObject({ rank: 7, version: 2 });
  });
});

describe('cursor walks over awkward orders', () => {
  let rows: Gadget[];
  beforeAll(async () => {
    const ranks = [3, null, 1, 3, null, 2, 1, null, 3, 2];
    rows = await gadgets.createMany(ranks.map((rank, i) => ({ id: randomUUID(), sku: `W-${i}`, rank })));
    // Ten distinct instants within one millisecond (a JS Date cannot even hold them; only the database can).
    await database.execute(
      "UPDATE gadgets SET seen_at = timestamp '2024-05-01 10:00:00.000' + substring(sku from 3)::int * interval '1 microsecond' WHERE sku LIKE 'W-%'",
    );
  });

  it('walks a nullable column ASC (NULLs last) and DESC (NULLs first), with ties, exactly once', async () => {
    const mine = { sku: In(rows.map((g) => g.sku)) };
    const cmp = (a: number | null, b: number | null, desc: boolean) => {
      if (a === b) return 0;
      if (a === null) return desc ? -1 : 1;
      if (b === null) return desc ? 1 : -1;
      return desc ? b - a : a - b;
    };
    for (const desc of [false, true]) {
      const seen = await walk((after) => gadgets.findMany({ where: mine, order: { rank: desc ? 'DESC' : 'ASC' }, limit: 2, after }));
      const expected = [...rows].sort((a, b) => cmp(a.rank, b.rank, desc) || a.id.localeCompare(b.id));
      expect(seen.map((g) => g.sku)).toEqual(expected.map((g) => g.sku));
    }
  });

  it('keeps microseconds of timestamps exact in cursors', async () => {
    const seen = await walk((after) => gadgets.findMany({ where: { sku: In(rows.map((g) => g.sku)) }, order: { seenAt: 'DESC' }, limit: 1, after }));
    expect(seen.map((g) => g.sku)).toEqual(['W-9', 'W-8', 'W-7', 'W-6', 'W-5', 'W-4', 'W-3', 'W-2', 'W-1', 'W-0']);
  });
});
