import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Not } from 'typeorm';
import { Customer } from '../../entities/customer';
import { CustomerRepository } from '../../repositories/customer-repository';
import { Database } from '../../src';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { connectLedger } from '../helpers/ledger';

const root = join(__dirname, '..', '..');

/** The TypeScript blocks of README's `## Repositories`, each `{ file, code }` from its first-line `// path` comment. */
function readmeBlocks(): { file: string; code: string }[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('## Repositories');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```ts\n\/\/ (\S+)\n([\s\S]*?)```/g)].map((m) => ({ file: m[1]!, code: m[2]! }));
}

/** Lines without their indentation, so a snippet indented inside a test still matches. */
const dedent = (text: string) => text.split('\n').map((line) => line.trim()).join('\n').trim();

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await connectLedger(db);
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

describe('README ## Repositories', () => {
  it('shows only code that exists, verbatim, in the files it names', () => {
    const blocks = readmeBlocks();
    expect(blocks.map((b) => b.file)).toEqual(['test/integration/readme-repositories.test.ts']);
    for (const block of blocks) expect(dedent(readFileSync(join(root, block.file), 'utf8'))).toContain(dedent(block.code));
  });

  it('runs its usage example', async () => {
    await new CustomerRepository().createMany(Array.from({ length: 250 }, (_, i) => ({ name: `Reader ${i}`, email: `reader${i}@example.com` })));
    const customers = new CustomerRepository();
    const ada = await customers.create({ name: 'Ada Lovelace', email: 'ada@example.com' });
    await customers.update(ada.id, { name: 'Ada King' });

    // Offset pages: `total` counts every match; 50 rows unless `limit` says otherwise (capped at maxLimit).
    const third = await customers.findMany({ where: { name: Not('Nobody') }, order: { name: 'ASC' }, limit: 20, offset: 40 });

    // Cursor pages: pass `nextCursor` back as `after` until it is absent. Every row that existed when the walk
    // started is seen exactly once, however many rows are inserted meanwhile.
    const seen: Customer[] = [];
    let page = await customers.findMany({ order: { createdAt: 'DESC' }, limit: 100 });
    seen.push(...page.items);
    while (page.nextCursor) {
      page = await customers.findMany({ order: { createdAt: 'DESC' }, limit: 100, after: page.nextCursor });
      seen.push(...page.items);
    }

    expect(third.total).toBe(251);
    expect(third.items).toHaveLength(20);
    const expected = await Database.current().query<{ id: number }>('SELECT id FROM customers ORDER BY name, id OFFSET 40 LIMIT 20');
    expect(third.items.map((c) => c.id)).toEqual(expected.map((r) => r.id));
    expect(seen).toHaveLength(251);
    expect(seen[0]).toMatchObject({ id: ada.id, name: 'Ada King' });
  });
});
