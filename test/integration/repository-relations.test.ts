import { Column, Entity, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { BaseRepository, Database, ForeignKeyViolationError, ValidationError } from '../../src';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';

/** A parent and a child whose foreign key has no column property of its own: only the `parent` relation. */
@Entity({ name: 'shelves' })
class Shelf {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'text', default: 'unlabelled' })
  label!: string;
}

@Entity({ name: 'books' })
class Book {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'text' })
  title!: string;

  @ManyToOne(() => Shelf, { nullable: false })
  shelf!: Shelf;
}

class ShelfRepository extends BaseRepository<Shelf> {
  constructor() {
    super(Shelf);
  }
}

class BookRepository extends BaseRepository<Book> {
  constructor() {
    super(Book);
  }
}

let db: TestDatabase;
let database: Database;
const shelves = new ShelfRepository();
const books = new BookRepository();

beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectTo(db, { entities: [Shelf, Book] }));
  await database.dataSource.synchronize();
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

const shelfOf = async (bookId: number) =>
  (await database.query<{ shelf: number }>('SELECT "shelfId" AS shelf FROM books WHERE id = $1', [bookId]))[0]?.shelf;

describe('a relation without a column property', () => {
  it('is written from the related entity or from an object with its key', async () => {
    const [a, b] = await shelves.createMany([{ label: 'A' }, { label: 'B' }]);
    const first = await books.create({ title: 'First', shelf: a! });
    const [second] = await books.createMany([{ title: 'Second', shelf: { id: b!.id } as Shelf }]);
    expect(await shelfOf(first.id)).toBe(a!.id);
    expect(await shelfOf(second!.id)).toBe(b!.id);
    // As with TypeORM's find, the relation is not loaded.
    expect(first).toEqual({ id: first.id, title: 'First' });
    expect(await books.findById(first.id)).toEqual(first);
  });

  it('leaves a parent that sets no column at all to its defaults', async () => {
    const [plain, labelled, empty] = await shelves.createMany([{}, { label: 'L' }, {}]);
    expect([plain!.label, labelled!.label, empty!.label]).toEqual(['unlabelled', 'L', 'unlabelled']);
    expect(await shelves.create({})).toMatchObject({ id: expect.any(Number), label: 'unlabelled' });
  });

  it('is changed by update', async () => {
    const [a, b] = await shelves.createMany([{ label: 'C' }, { label: 'D' }]);
    const book = await books.create({ title: 'Moving', shelf: a! });
    await books.update(book.id, { shelf: { id: b!.id } as Shelf });
    expect(await shelfOf(book.id)).toBe(b!.id);
  });

  it('is validated: required, an object with a key of the right type', async () => {
    const before = await books.count();
    const error = await books.createMany([{ title: 'No shelf' }, { title: 'Bad', shelf: { id: '1; DROP TABLE books' } as never }, { title: 'Id only', shelf: 3 as never }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { property: '[0].shelf', constraints: { isDefined: 'shelf is required' } },
      { property: '[1].shelf', constraints: { isInt: 'shelf must be an integer from -2147483648 to 2147483647' } },
      { property: '[2].shelf', constraints: { isRelation: 'shelf must be the related entity or { id: … }' } },
    ]);
    expect(await books.count()).toBe(before);
  });

  it('refers to an existing row (ForeignKeyViolationError otherwise)', async () => {
    await expect(books.create({ title: 'Orphan', shelf: { id: 999_999 } as Shelf })).rejects.toThrow(ForeignKeyViolationError);
  });

  it('cannot be filtered or sorted on (TypeORM would join the parent): declare the foreign key as a column', async () => {
    await expect(books.count({ shelf: { id: 1 } as Shelf })).rejects.toThrow(
      'Invalid Book query (1 problem):\n  - where.shelf: shelf is a relation; declare its foreign key as a column property to filter on it',
    );
    await expect(books.findMany({ order: { shelf: 'ASC' } })).rejects.toThrow(/order\.shelf: shelf cannot be sorted \(it is a relation/);
  });
});
