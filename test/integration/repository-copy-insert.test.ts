import { randomUUID } from 'node:crypto';
import { IsOptional, IsString } from 'class-validator';
import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { LEDGER_ENTITIES } from '../../app/ledger';
import { AccountRepository } from '../../repositories/account-repository';
import { CustomerRepository } from '../../repositories/customer-repository';
import { TransferRepository } from '../../repositories/transfer-repository';
import { BaseRepository, CheckViolationError, Database, ForeignKeyViolationError, UniqueViolationError, withTransaction } from '../../src';
import { COPY_MIN_ROWS } from '../../src/repository/insert-path';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';
import type { LogCapture } from '../helpers/logs';

/** A test-only table with one column of each kind COPY writes, all nullable but the label. */
@Entity({ name: 'specimens' })
class Specimen {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  @IsString()
  label!: string;

  @Column({ type: 'char', length: 5, nullable: true })
  code!: string | null;

  /** numeric without a scale: keeps the digits it is given. */
  @Column({ type: 'numeric', nullable: true })
  free!: string | null;

  @Column({ type: 'numeric', precision: 30, scale: 4, nullable: true })
  exact!: string | null;

  @Column({ type: 'double precision', nullable: true })
  ratio!: number | null;

  @Column({ type: 'smallint', nullable: true })
  small!: number | null;

  @Column({ type: 'bigint', nullable: true })
  big!: string | null;

  @Column({ type: 'boolean', nullable: true })
  flag!: boolean | null;

  @Column({ type: 'uuid', nullable: true })
  ref!: string | null;

  @Column({ type: 'varchar', array: true, nullable: true })
  words!: string[] | null;

  @Column({ type: 'integer', array: true, nullable: true })
  counts!: number[] | null;

  @Column({ type: 'timestamptz', nullable: true })
  at!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A table whose BEFORE INSERT trigger changes rows: only INSERT … RETURNING can tell what was stored. */
@Entity({ name: 'stamped' })
class Stamped {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  @IsOptional()
  shout!: string | null;
}

/** A natural key: COPY needs no reservation. */
@Entity({ name: 'tags' })
class Tag {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  code!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

class SpecimenRepository extends BaseRepository<Specimen> {
  constructor() {
    super(Specimen);
  }
}
class StampedRepository extends BaseRepository<Stamped> {
  constructor() {
    super(Stamped);
  }
}
class TagRepository extends BaseRepository<Tag> {
  constructor() {
    super(Tag);
  }
}

let db: TestDatabase;
let database: Database;
let logs: LogCapture;
const specimens = new SpecimenRepository();
const stamped = new StampedRepository();
const tags = new TagRepository();
const customers = new CustomerRepository();
const accounts = new AccountRepository();
const transfers = new TransferRepository();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database, logs } = await connectLedger(db, { entities: [...LEDGER_ENTITIES, Specimen, Stamped, Tag] }));
  await database.execute(`
    CREATE TABLE specimens (
      id bigserial PRIMARY KEY, label text NOT NULL, code char(5), free numeric, exact numeric(30, 4),
      ratio double precision, small smallint, big bigint, flag boolean, ref uuid, words varchar[], counts integer[],
      at timestamptz, created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await database.execute('CREATE TABLE stamped (id serial PRIMARY KEY, name text NOT NULL, shout text)');
  await database.execute(`
    CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.shout := upper(NEW.name); RETURN NEW; END $$`);
  await database.execute('CREATE TRIGGER stamped_shout BEFORE INSERT ON stamped FOR EACH ROW EXECUTE FUNCTION stamp()');
  await database.execute('CREATE TABLE tags (code varchar(40) PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())');
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

type QueryLine = { sql: string; pid?: number };

/** The SQL of the statements `fn` sent (catalog reads aside), and what it returned. */
async function statementsOf<R>(fn: () => Promise<R>): Promise<{ sql: string[]; pids: Set<number | undefined>; result: R }> {
  const start = logs.lines.length;
  const result = await fn();
  const lines = logs.lines.slice(start).filter((l) => l.message === 'query' || l.message === 'query failed') as QueryLine[];
  const own = lines.filter((l) => !l.sql.startsWith('SELECT c.relkind'));
  return { sql: own.map((l) => l.sql.split(' ').slice(0, 2).join(' ')), pids: new Set(own.map((l) => l.pid)), result };
}

function lastBulkInsert(): Record<string, unknown> | undefined {
  return logs.messages('bulk insert').at(-1);
}

const at = (i: number, values: readonly unknown[]) => values[i % values.length];
const LABELS = [
  'tab\there',
  'new\nline',
  'cr\rreturn',
  'back\\slash',
  '\\N',
  '\\.',
  'ends with \\',
  'quote \' and "',
  'żółw 🐢 e\u0301',
  '',
  '  spaced  ',
  'comma,sep',
  '{braces}',
  'NULL',
  '\\\\double',
  '\u0001ctrl\u007f',
  'a\tb\nc\\d\r',
];
const CODES = ['ab', 'a', 'abcde', '🐢', 'x y', null, ' '];
const FREE = ['007.50', '-0', '-0.000', '12345678901234567890.123456789', '1', '-1.10', null, '0.0001'];
const EXACT = ['0.5', '-12', '00001.0001', '99999999999999999999999999.9999', null, '-0.0'];
const RATIOS = [0.1, -0, 1e21, 1.7976931348623157e308, -2.5e-300, 3, null, 123456.789];
const SMALL = [32767, -32768, '12', null, 0, '-0'];
const BIG = ['9223372036854775807', -9223372036854775808n, 42, '007', null, '-1'];
const FLAGS = [true, false, null];
const WORDS = [['a', 'b,c', 'quote"d', "it's", 'back\\slash', 'tab\there', 'new\nline', '', 'NULL', null, '{x}', ' sp '], [], null, ['\\N']];
const COUNTS = [[1, -2, null, 2147483647], [], null, [0]];
const DATES = [new Date('2024-02-29T12:34:56.789Z'), new Date('1999-12-31T23:59:59.999Z'), null, new Date(Date.UTC(2100, 0, 1))];

function specimenRows(n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) => ({
    label: `${prefix}${at(i, LABELS) as string}`,
    code: at(i, CODES) as string | null,
    free: at(i, FREE) as string | null,
    exact: at(i, EXACT) as string | null,
    ratio: at(i, RATIOS) as number | null,
    small: at(i, SMALL) as never,
    big: at(i, BIG) as never,
    flag: at(i, FLAGS) as boolean | null,
    ref: i % 3 === 0 ? null : randomUUID().toUpperCase(),
    words: at(i, WORDS) as string[] | null,
    counts: at(i, COUNTS) as number[] | null,
    at: at(i, DATES) as Date | null,
  }));
}

describe('createMany through COPY', () => {
  it('stores awkward values as given and returns exactly what the database holds (as a read, or the JSON path, would)', async () => {
    const rows = specimenRows(170, '');
    const { sql, pids, result: created } = await statementsOf(() => specimens.createMany(rows));
    expect(sql).toEqual(['START TRANSACTION', 'SELECT now()', 'COPY "specimens"', 'COMMIT']);
    expect(pids.size).toBe(1);
    const read = await database.dataSource.getRepository(Specimen).find({ order: { id: 'ASC' } });
    expect(created).toEqual(read);
    expect(created.map((s) => s.label)).toEqual(rows.map((r) => r.label));
    // Spot checks of what the database made of the values.
    expect(created.slice(0, 8).map((s) => s.free)).toEqual(['7.50', '0', '0.000', '12345678901234567890.123456789', '1', '-1.10', null, '0.0001']);
    expect(created.slice(0, 6).map((s) => s.exact)).toEqual(['0.5000', '-12.0000', '1.0001', '99999999999999999999999999.9999', null, '0.0000']);
    expect(created.slice(0, 7).map((s) => s.code)).toEqual(['ab   ', 'a    ', 'abcde', '🐢    ', 'x y  ', null, '     ']);
    expect(created.slice(0, 6).map((s) => s.big)).toEqual(['9223372036854775807', '-9223372036854775808', '42', '7', null, '-1']);
    expect(created.slice(0, 6).map((s) => s.small)).toEqual([32767, -32768, 12, null, 0, 0]);
    expect(created[1]!.ref).toBe(created[1]!.ref?.toLowerCase());
    expect(new Set(created.map((s) => s.createdAt.getTime())).size).toBe(1);

    // The same rows one by one through INSERT … RETURNING give the same entities, ids and dates aside.
    const one = await Promise.all(rows.slice(0, LABELS.length * 2).map((r) => specimens.create({ ...r, label: `single ${r.label}` })));
    const strip = (s: Specimen) => ({ ...s, id: undefined, createdAt: undefined, label: s.label.replace(/^single /, '') });
    expect(one.map(strip)).toEqual(created.slice(0, one.length).map(strip));
  });

  it('reserves keys from the sequence in the caller order, and none are reused after a rollback', async () => {
    const first = await specimens.createMany(specimenRows(COPY_MIN_ROWS, 'keys '));
    const ids = first.map((s) => BigInt(s.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    await expect(
      withTransaction(async () => {
        await specimens.createMany(specimenRows(COPY_MIN_ROWS, 'gone '));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const [next] = await specimens.createMany(specimenRows(COPY_MIN_ROWS, 'after '));
    expect(BigInt(next!.id)).toBeGreaterThan(ids.at(-1)! + BigInt(COPY_MIN_ROWS));
  });

  it('writes a natural key as given, with no reservation', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => ({ code: `tag-${i}\t${i % 2 ? 'ünï' : '\\'}` }));
    const { sql, result } = await statementsOf(() => tags.createMany(rows));
    expect(sql).toEqual(['START TRANSACTION', 'SELECT now()', 'COPY "tags"', 'COMMIT']);
    expect(result.map((t) => t.code)).toEqual(rows.map((r) => r.code));
    expect(await database.dataSource.getRepository(Tag).find({ order: { code: 'ASC' } })).toEqual([...result].sort((a, b) => (a.code < b.code ? -1 : 1)));
  });
});

describe('a COPY that the database refuses', () => {
  it('rolls everything back on a duplicate in the middle, as a UniqueViolationError naming the constraint', async () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => ({ name: `Dup ${i}`, email: `dup-${i === 500 ? 3 : i}@copy.example` }));
    const error = await customers.createMany(rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ constraint: 'customers_email_key', table: 'customers', columns: ['email'] });
    expect(await customers.count({ name: 'Dup 0' })).toBe(0);
    // The connection went back to the pool in a usable state.
    expect(await customers.createMany(rows.map((r, i) => ({ ...r, email: `ok-${i}@copy.example` })))).toHaveLength(1_000);
  });

  it('reports a foreign key and a check constraint with their names too', async () => {
    const owner = await customers.create({ name: 'Owner', email: 'owner@copy.example' });
    const orphans = Array.from({ length: 300 }, (_, i) => ({ ownerId: i === 150 ? 2_000_000_000 : owner.id, currency: 'EUR' as const, balance: '1.00' }));
    await expect(accounts.createMany(orphans)).rejects.toMatchObject({ constructor: ForeignKeyViolationError, constraint: 'accounts_owner_id_fkey', table: 'accounts' });
    expect(await accounts.count({ ownerId: owner.id })).toBe(0);

    const [a, b] = await accounts.createMany([
      { ownerId: owner.id, currency: 'EUR', balance: '10.00' },
      { ownerId: owner.id, currency: 'EUR', balance: '10.00' },
    ]);
    const moves = Array.from({ length: 200 }, (_, i) => ({ fromAccountId: a!.id, toAccountId: i === 100 ? a!.id : b!.id, amount: '0.01' }));
    const error = await transfers.createMany(moves).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckViolationError);
    expect(error).toMatchObject({ constraint: 'transfers_distinct_accounts', table: 'transfers' });
    expect(await transfers.count({ fromAccountId: a!.id })).toBe(0);
  });
});

describe('inside an ambient transaction (withTransaction)', () => {
  it('COPYs on the transaction connection and is rolled back with it', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ name: `Amb ${i}`, email: `amb-${i}@copy.example` }));
    let inside = 0;
    await expect(
      withTransaction(async (manager) => {
        const pid = (await manager.query('SELECT pg_backend_pid() AS pid'))[0].pid as number;
        const { sql, pids } = await statementsOf(() => customers.createMany(rows));
        expect(sql).toEqual(['SELECT now()', 'COPY "customers"']);
        expect([...pids]).toEqual([pid]);
        inside = await customers.count({ name: 'Amb 0' });
        throw new Error('caller rolls back');
      }),
    ).rejects.toThrow('caller rolls back');
    expect(inside).toBe(1);
    expect(await customers.count({ name: 'Amb 0' })).toBe(0);
  });

  it('a refused COPY fails the transaction: earlier work in it is rolled back too, and the error is typed', async () => {
    const error = await withTransaction(async () => {
      await customers.create({ name: 'Before', email: 'before@copy.example' });
      await customers.createMany(Array.from({ length: 200 }, (_, i) => ({ name: `Amb2 ${i}`, email: i === 199 ? 'before@copy.example' : `amb2-${i}@copy.example` })));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(await customers.count({ name: 'Before' })).toBe(0);
  });
});

describe('the JSON path, when COPY could not return what was stored', () => {
  it('is taken for a table with a trigger, whose changes come back', async () => {
    const made = await stamped.createMany(Array.from({ length: 150 }, (_, i) => ({ name: `name ${i}` })));
    expect(made[7]).toMatchObject({ name: 'name 7', shout: 'NAME 7' });
    expect(lastBulkInsert()).toMatchObject({ via: 'json', reason: 'the table has rules, user triggers or row-level security, or is not a table' });
  });

  it('is taken for a timestamp given as a string, or a column some rows leave to its default', async () => {
    const rows = specimenRows(150, 'string date ');
    rows[3]!.at = '2024-01-01T00:00:00Z' as never;
    const made = await specimens.createMany(rows);
    expect(made[3]!.at).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect(lastBulkInsert()).toMatchObject({ via: 'json', reason: "a at value's stored form is not known in advance" });

    const owner = await customers.create({ name: 'Mixed', email: 'mixed@copy.example' });
    const mixed = Array.from({ length: 150 }, (_, i) => (i % 2 ? { ownerId: owner.id, currency: 'USD' as const } : { ownerId: owner.id, currency: 'USD' as const, balance: '5' }));
    const accountsMade = await accounts.createMany(mixed as never);
    expect(accountsMade.slice(0, 2).map((a) => a.balance)).toEqual(['5.00', '0.00']);
    expect(lastBulkInsert()).toMatchObject({ via: 'json', reason: 'some rows leave balance to its default' });
  });
});
