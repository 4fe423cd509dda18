import { runOnCommit, runOnRollback, TransactionRequiredError, withTransaction } from '../../src';
import { useConnectedDatabase } from '../helpers/connect';

const suite = useConnectedDatabase({ env: { DB_POOL_MAX: '3' } }, 'CREATE TABLE events (name text NOT NULL)');
beforeEach(() => suite.database.execute('TRUNCATE events'));

const count = async () => (await suite.database.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]!.n;

describe('transaction hooks', () => {
  it('runs commit hooks in order after COMMIT, where the committed rows are visible from another connection', async () => {
    const seen: string[] = [];
    await withTransaction(async () => {
      await suite.database.execute("INSERT INTO events VALUES ('a')");
      runOnCommit(async () => {
        seen.push(`first sees ${await count()}`);
      });
      runOnCommit(() => {
        seen.push('second');
      });
      runOnRollback(() => {
        seen.push('never');
      });
      seen.push('body done');
    });
    expect(seen).toEqual(['body done', 'first sees 1', 'second']);
  });

  it('runs rollback hooks (not commit hooks) after a rollback', async () => {
    const seen: string[] = [];
    await withTransaction(async () => {
      runOnCommit(() => seen.push('commit'));
      runOnRollback(() => seen.push('rollback'));
      throw new Error('fail');
    }).catch(() => undefined);
    expect(seen).toEqual(['rollback']);
  });

  it('runs hooks of joined calls with the outermost transaction', async () => {
    const seen: string[] = [];
    await withTransaction(async () => {
      await withTransaction(async () => {
        runOnCommit(() => seen.push('inner'));
      });
      expect(seen).toEqual([]);
      runOnCommit(() => seen.push('outer'));
    });
    expect(seen).toEqual(['inner', 'outer']);
  });

  it('waits for the outermost commit with NESTED hooks, and drops them when the savepoint rolls back', async () => {
    const seen: string[] = [];
    await withTransaction(async () => {
      await withTransaction(
        async () => {
          runOnCommit(() => seen.push('kept savepoint'));
        },
        { propagation: 'NESTED' },
      );
      await withTransaction(
        async () => {
          runOnCommit(() => seen.push('dropped savepoint'));
          runOnRollback(() => seen.push('savepoint rolled back'));
          throw new Error('nested fails');
        },
        { propagation: 'NESTED' },
      ).catch(() => undefined);
      expect(seen).toEqual(['savepoint rolled back']);
    });
    expect(seen).toEqual(['savepoint rolled back', 'kept savepoint']);
  });

  it('logs a failing hook and neither changes the outcome nor skips the next hook', async () => {
    const seen: string[] = [];
    const before = suite.connected.logs.lines.length;
    const result = await withTransaction(async () => {
      await suite.database.execute("INSERT INTO events VALUES ('kept')");
      runOnCommit(function explodes() {
        throw new Error('hook exploded');
      });
      runOnCommit(() => seen.push('next hook ran'));
      return 'value';
    });
    expect(result).toBe('value');
    expect(seen).toEqual(['next hook ran']);
    expect(await count()).toBe(1);
    const failures = suite.connected.logs.lines.slice(before).filter((l) => l.message === 'commit hook failed');
    expect(failures).toEqual([expect.objectContaining({ level: 'error', hook: 'explodes', error: 'hook exploded' })]);
  });

  it('runs hooks outside the finished transaction: their own queries autocommit on the pool', async () => {
    await withTransaction(async () => {
      runOnCommit(() => suite.database.execute("INSERT INTO events VALUES ('from hook')"));
      throw new Error('not this one');
    }).catch(() => undefined);
    await withTransaction(async () => {
      runOnCommit(() => suite.database.execute("INSERT INTO events VALUES ('from hook')"));
    });
    expect(await suite.database.query('SELECT name FROM events')).toEqual([{ name: 'from hook' }]);
  });

  it('refuses to register a hook outside a transaction', () => {
    expect(() => runOnCommit(() => undefined)).toThrow(TransactionRequiredError);
    expect(() => runOnRollback(() => undefined)).toThrow('runOnRollback() needs an active transaction: call it inside @Transactional() or withTransaction().');
  });
});
