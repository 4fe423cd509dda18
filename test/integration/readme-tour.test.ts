import { LEDGER_ENTITIES, LEDGER_MIGRATIONS } from '../../app/ledger';
import { CustomerRepository } from '../../repositories/customer-repository';
import { TransferService } from '../../services/transfer-service';
import { Database, UniqueViolationError } from '../../src';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { captureLogs } from '../helpers/logs';

let db: TestDatabase;
const saved = { url: process.env.DATABASE_URL };
beforeAll(async () => {
  db = await createTestDatabase();
  process.env.DATABASE_URL = db.url;
});
afterAll(async () => {
  if (saved.url === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = saved.url;
  await Database.closeAll();
  await db.drop();
});

describe('README: the tour, run as written', () => {
  it('connects from the environment, migrates, uses a repository and a service, queries and closes', async () => {
    const logger = captureLogs('info').logger;
    // #region tour
    const db = await Database.connect({ entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS, logger });
    await db.dataSource.runMigrations(); // or: npm run migration:run

    const customers = new CustomerRepository();
    const ada = await customers.create({ name: 'Ada Lovelace', email: 'ada@example.com' });

    const bank = new TransferService();
    const checking = await bank.openAccount(ada.id, 'EUR', '100.00');
    const savings = await bank.openAccount(ada.id, 'EUR');
    await bank.transfer({ from: checking.id, to: savings.id, amount: '25.00' });

    const balances = await db.query<{ id: number; balance: string }>(
      'SELECT id, balance FROM accounts WHERE owner_id = $1 ORDER BY id',
      [ada.id], // always bound parameters: bastion never builds SQL from values
    );
    const health = await db.health(); // { ok, latencyMs, pool: { max, total, idle, waiting }, tunnel, target }

    const duplicate = await customers.create({ name: 'Ada again', email: 'ada@example.com' }).catch((error: unknown) => error);
    // duplicate instanceof UniqueViolationError; .constraint 'customers_email_key', .columns ['email'], never the value
    await db.close(); // pool first, then the tunnel
    // #endregion tour

    expect(balances).toEqual([
      { id: checking.id, balance: '75.00' },
      { id: savings.id, balance: '25.00' },
    ]);
    expect(health.ok).toBe(true);
    expect(duplicate).toBeInstanceOf(UniqueViolationError);
    expect(duplicate).toMatchObject({ constraint: 'customers_email_key', columns: ['email'] });
    expect(() => Database.current()).toThrow();
  });
});
