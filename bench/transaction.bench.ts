import { DataSource } from 'typeorm';
import {
  addTransactionalDataSource,
  initializeTransactionalContext,
  StorageDriver,
  Transactional as TypeormTransactional,
} from 'typeorm-transactional';
import winston from 'winston';
import { Database, Transactional, withTransaction } from '../src';
import type { BenchSuite } from './context';
import { compare } from './harness';

const DEBIT = 'UPDATE accounts SET balance = balance - $2 WHERE id = $1';
const CREDIT = 'UPDATE accounts SET balance = balance + $2 WHERE id = $1';

/** @Transactional against a hand-written dataSource.transaction() (and typeorm-transactional) for a two-update transfer. */
export const transactionSuite: BenchSuite = {
  name: 'transaction',
  async run({ url, scale }) {
    const plain = await new DataSource({ type: 'postgres', url, extra: { max: 4 } }).initialize();
    // typeorm-transactional patches TypeORM's prototypes for the whole process; its work below uses manager.query only,
    // which it does not patch, so the other variants run the same TypeORM code as without it.
    initializeTransactionalContext({ storageDriver: StorageDriver.ASYNC_LOCAL_STORAGE });
    const patched = addTransactionalDataSource({ name: 'bench', dataSource: new DataSource({ type: 'postgres', url, extra: { max: 4 } }) });
    await patched.initialize();
    const db = await Database.connect({
      env: { DATABASE_URL: url, DB_POOL_MAX: '4' },
      logger: winston.createLogger({ level: 'info', silent: true }),
      entities: [],
      migrations: [],
    });
    try {
      await plain.query('CREATE TABLE accounts (id int PRIMARY KEY, balance numeric(14,2) NOT NULL)');
      await plain.query('INSERT INTO accounts SELECT g, 1000000 FROM generate_series(1, 100) g');
      let n = 0;
      const pair = (): [number, number] => {
        n++;
        return [(n % 100) + 1, ((n + 37) % 100) + 1];
      };

      class BastionTransfers {
        @Transactional()
        async transfer(from: number, to: number): Promise<void> {
          await db.execute(DEBIT, [from, '1.00']);
          await db.execute(CREDIT, [to, '1.00']);
        }

        @Transactional({ isolation: 'SERIALIZABLE' })
        async transferSerializable(from: number, to: number): Promise<void> {
          await db.execute(DEBIT, [from, '1.00']);
          await db.execute(CREDIT, [to, '1.00']);
        }
      }
      class PatchedTransfers {
        @TypeormTransactional({ connectionName: 'bench' })
        async transfer(from: number, to: number): Promise<void> {
          await patched.query(DEBIT, [from, '1.00']);
          await patched.query(CREDIT, [to, '1.00']);
        }
      }
      const bastion = new BastionTransfers();
      const typeormTransactional = new PatchedTransfers();
      const options = { rounds: 12 * scale, iterations: 100 };

      const readCommitted = await compare(
        'Two-update transfer: @Transactional vs hand-written dataSource.transaction()',
        'One transaction per operation (debit one account, credit another), READ COMMITTED, sequential, pool of 4 on ' +
          'loopback. Both send four statements (BEGIN, two UPDATEs, COMMIT); the difference is the cost of the ' +
          'decorator, the AsyncLocalStorage context, the query guard and the log subscriber. The bar is < 1.05×.',
        [
          {
            name: 'hand-written dataSource.transaction()',
            op: () => {
              const [from, to] = pair();
              return plain.transaction(async (m) => {
                await m.query(DEBIT, [from, '1.00']);
                await m.query(CREDIT, [to, '1.00']);
              });
            },
          },
          { name: 'bastion @Transactional()', op: () => bastion.transfer(...pair()) },
          {
            name: 'bastion withTransaction()',
            op: () => {
              const [from, to] = pair();
              return withTransaction(async () => {
                await db.execute(DEBIT, [from, '1.00']);
                await db.execute(CREDIT, [to, '1.00']);
              });
            },
          },
          { name: 'typeorm-transactional @Transactional()', op: () => typeormTransactional.transfer(...pair()) },
        ],
        options,
        'transaction',
      );
      const serializable = await compare(
        'Two-update transfer at SERIALIZABLE: one-statement BEGIN vs TypeORM',
        'As above with isolation SERIALIZABLE. TypeORM sends START TRANSACTION and SET TRANSACTION ISOLATION LEVEL ' +
          'as two statements; bastion sends one. Conflicts do not occur (sequential).',
        [
          {
            name: 'hand-written dataSource.transaction("SERIALIZABLE")',
            op: () => {
              const [from, to] = pair();
              return plain.transaction('SERIALIZABLE', async (m) => {
                await m.query(DEBIT, [from, '1.00']);
                await m.query(CREDIT, [to, '1.00']);
              });
            },
          },
          { name: "bastion @Transactional({ isolation: 'SERIALIZABLE' })", op: () => bastion.transferSerializable(...pair()) },
        ],
        options,
        'transaction',
      );
      return [readCommitted, serializable];
    } finally {
      await db.close();
      await patched.destroy();
      await plain.destroy();
    }
  },
};
