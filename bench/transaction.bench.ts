import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource } from 'typeorm';
import {
  addTransactionalDataSource,
  initializeTransactionalContext,
  StorageDriver,
  Transactional as TypeormTransactional,
} from 'typeorm-transactional';
import { createDataSource, Database, Transactional, withTransaction } from '../src';
import { sshdUnavailable, startSshd } from '../test/helpers/sshd';
import { BenchSuite, connectBench, SILENT } from './context';
import { BenchTable, compare } from './harness';

const als = new AsyncLocalStorage<object>();
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
    const db = await connectBench(url);
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
            // What AsyncLocalStorage itself costs on this Node.js: the same hand-written transaction inside a context.
            name: 'hand-written, run inside an AsyncLocalStorage context',
            op: () => {
              const [from, to] = pair();
              return als.run({}, () =>
                plain.transaction(async (m) => {
                  await m.query(DEBIT, [from, '1.00']);
                  await m.query(CREDIT, [to, '1.00']);
                }),
              );
            },
          },
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
      const tables = [readCommitted, serializable];
      const bastioned = await throughBastion(url, options);
      if (bastioned) tables.push(bastioned);
      return tables;
    } finally {
      await db.close();
      await patched.destroy();
      await plain.destroy();
    }
  },
};

/**
 * The same comparison where bastion is meant to run: both variants reach PostgreSQL through an SSH bastion (a real
 * OpenSSH sshd on loopback). Skipped when sshd is not installed.
 */
async function throughBastion(url: string, options: { rounds: number; iterations: number }): Promise<BenchTable | undefined> {
  if (sshdUnavailable()) return undefined;
  const sshd = await startSshd();
  const env = (prefix: string) => ({
    [`${prefix}DATABASE_URL`]: url,
    [`${prefix}DB_POOL_MAX`]: '4',
    [`${prefix}SSH_HOST`]: sshd.host,
    [`${prefix}SSH_PORT`]: String(sshd.port),
    [`${prefix}SSH_USER`]: sshd.user,
    [`${prefix}SSH_PRIVATE_KEY_PATH`]: sshd.keyPath,
    [`${prefix}SSH_HOST_KEY`]: sshd.hostKeyFingerprint,
  });
  const typeorm = await createDataSource({ name: 'plainssh', env: env('PLAINSSH_'), logger: SILENT, entities: [], migrations: [] }).initialize();
  const db = await Database.connect({ name: 'viassh', env: env('VIASSH_'), logger: SILENT, entities: [], migrations: [] });
  try {
    class Transfers {
      @Transactional({ connection: 'viassh' })
      async transfer(from: number, to: number): Promise<void> {
        await db.execute(DEBIT, [from, '1.00']);
        await db.execute(CREDIT, [to, '1.00']);
      }
    }
    const service = new Transfers();
    let n = 0;
    return await compare(
      'Two-update transfer through an SSH bastion: @Transactional vs hand-written dataSource.transaction()',
      'As the first table, but both variants reach PostgreSQL through bastion\'s SSH tunnel to a real OpenSSH sshd on ' +
        'loopback (the setting bastion is for); the hand-written one uses TypeORM\'s own transaction() on a data source ' +
        'made by createDataSource(), so both pay the same tunnel.',
      [
        {
          name: 'hand-written dataSource.transaction() via the tunnel',
          op: () => {
            n++;
            return typeorm.transaction(async (m) => {
              await m.query(DEBIT, [(n % 100) + 1, '1.00']);
              await m.query(CREDIT, [((n + 37) % 100) + 1, '1.00']);
            });
          },
        },
        {
          name: 'bastion @Transactional() via the tunnel',
          op: () => {
            n++;
            return service.transfer((n % 100) + 1, ((n + 37) % 100) + 1);
          },
        },
      ],
      options,
      'transaction',
    );
  } finally {
    await db.close();
    await typeorm.destroy();
    await sshd.stop();
  }
}
