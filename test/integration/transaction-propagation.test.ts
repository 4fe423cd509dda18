import {
  currentTransaction,
  Database,
  IncompatibleTransactionError,
  RollbackOnlyError,
  Transactional,
  TransactionNotAllowedError,
  TransactionRequiredError,
  UniqueViolationError,
  withTransaction,
} from '../../src';
import { Note, NOTES_DDL } from '../fixtures/note.entity';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';

let db: TestDatabase;
let database: Database;
beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectTo(db, { entities: [Note], env: { DB_POOL_MAX: '4' } }));
  await database.execute(NOTES_DDL);
});
beforeEach(() => database.execute('TRUNCATE notes'));
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

const insert = (body: string) => database.execute('INSERT INTO notes (body) VALUES ($1)', [body]);
const bodies = async () => (await database.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).map((r) => r.body);
/** Backend pid and transaction id of the connection the calling flow's queries run on. */
const identity = async () =>
  (await database.query<{ pid: number; txid: string | null }>('SELECT pg_backend_pid() AS pid, txid_current_if_assigned()::text AS txid'))[0]!;

class Boom extends Error {}

class NoteService {
  @Transactional()
  async required(body: string, fail = false): Promise<void> {
    await insert(body);
    if (fail) throw new Boom(`failed after ${body}`);
  }

  @Transactional({ propagation: 'REQUIRES_NEW' })
  async requiresNew(body: string, fail = false): Promise<void> {
    await insert(body);
    if (fail) throw new Boom(`failed after ${body}`);
  }

  @Transactional({ propagation: 'NESTED' })
  async nested(body: string, fail = false): Promise<void> {
    await insert(body);
    if (fail) throw new Boom(`failed after ${body}`);
  }

  @Transactional({ propagation: 'MANDATORY' })
  async mandatory(body: string): Promise<void> {
    await insert(body);
  }

  @Transactional({ propagation: 'NEVER' })
  async never(body: string): Promise<void> {
    await insert(body);
  }

  @Transactional({ propagation: 'SUPPORTS' })
  async supports(): Promise<ReturnType<typeof currentTransaction>> {
    return currentTransaction();
  }

  @Transactional({ propagation: 'NOT_SUPPORTED' })
  async notSupported(body: string): Promise<{ inTransaction: boolean; pid: number }> {
    await insert(body);
    return { inTransaction: currentTransaction() !== undefined, pid: (await identity()).pid };
  }
}

const service = new NoteService();

describe('@Transactional REQUIRED', () => {
  it('commits all the work of the method when it resolves', async () => {
    await withTransaction(async () => {
      await insert('a');
      await service.required('b');
    });
    expect(await bodies()).toEqual(['a', 'b']);
  });

  it('rolls back all the work when it throws', async () => {
    await expect(service.required('a', true)).rejects.toThrow(Boom);
    expect(await bodies()).toEqual([]);
  });

  it('joins the outer transaction: same backend, same transaction id', async () => {
    const seen = await withTransaction(async () => {
      await insert('outer');
      const outer = await identity();
      const inner = await withTransaction(async () => identity());
      return { outer, inner };
    });
    expect(seen.inner).toEqual(seen.outer);
    expect(seen.outer.txid).not.toBeNull();
  });

  it('rolls the joined work back with the outer transaction', async () => {
    await expect(
      withTransaction(async () => {
        await service.required('inner');
        throw new Boom('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await bodies()).toEqual([]);
  });

  it('marks the transaction rollback-only when a joined call fails and the error is caught', async () => {
    const error = await withTransaction(async () => {
      await insert('outer');
      await service.required('inner', true).catch(() => undefined);
      await insert('after the caught failure');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackOnlyError);
    expect((error as RollbackOnlyError).cause).toBeInstanceOf(Boom);
    expect((error as Error).message).toMatch(/a call that joined it failed \(failed after inner\) and the error was caught/);
    expect(await bodies()).toEqual([]);
  });

  it('refuses to commit a transaction that an earlier failed statement aborted', async () => {
    await insert('dup');
    const error = await withTransaction(async () => {
      await insert('fine');
      await insert('dup').catch((e: unknown) => expect(e).toBeInstanceOf(UniqueViolationError));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackOnlyError);
    expect((error as Error).message).toMatch(/PostgreSQL rolled it back at COMMIT/);
    expect(await bodies()).toEqual(['dup']);
  });

  it('refuses to join with a stricter isolation level than the outer one', async () => {
    const error = await withTransaction(async () => withTransaction(async () => 1, { isolation: 'SERIALIZABLE' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompatibleTransactionError);
    expect((error as Error).message).toMatch(/asks for isolation SERIALIZABLE, but it joins transaction \d+, which runs at READ COMMITTED/);
  });
});

describe('@Transactional REQUIRES_NEW', () => {
  it('commits the inner work when the outer rolls back', async () => {
    await expect(
      withTransaction(async () => {
        await insert('outer');
        await service.requiresNew('audit');
        throw new Boom('outer fails');
      }),
    ).rejects.toThrow(Boom);
    expect(await bodies()).toEqual(['audit']);
  });

  it('runs on another connection and suspends the outer transaction until it finishes', async () => {
    const seen = await withTransaction(async () => {
      await insert('outer');
      const outer = await identity();
      const inner = await withTransaction(async () => ({ ...(await identity()), info: currentTransaction() }), { propagation: 'REQUIRES_NEW' });
      const resumed = await identity();
      return { outer, inner, resumed, after: currentTransaction() };
    });
    expect(seen.inner.pid).not.toBe(seen.outer.pid);
    expect(seen.inner.info?.id).not.toBe(seen.after?.id);
    expect(seen.resumed).toEqual(seen.outer);
  });

  it('rolls back only the inner work when the inner one fails, and the outer can go on', async () => {
    await withTransaction(async () => {
      await insert('outer');
      await service.requiresNew('inner', true).catch(() => undefined);
    });
    expect(await bodies()).toEqual(['outer']);
  });
});

describe('@Transactional NESTED', () => {
  it('rolls back only its savepoint and keeps the outer work', async () => {
    await withTransaction(async () => {
      await insert('before');
      await expect(service.nested('nested', true)).rejects.toThrow(Boom);
      await insert('after');
    });
    expect(await bodies()).toEqual(['after', 'before']);
  });

  it('commits with the outer transaction, and rolls back with it', async () => {
    await withTransaction(async () => service.nested('kept'));
    await expect(
      withTransaction(async () => {
        await service.nested('lost');
        throw new Boom('outer fails');
      }),
    ).rejects.toThrow(Boom);
    expect(await bodies()).toEqual(['kept']);
  });

  it('runs in the same transaction one level deeper', async () => {
    const seen = await withTransaction(async () => {
      await insert('x');
      const outer = { ...(await identity()), info: currentTransaction() };
      const inner = await withTransaction(async () => ({ ...(await identity()), info: currentTransaction() }), { propagation: 'NESTED' });
      return { outer, inner };
    });
    expect(seen.inner.pid).toBe(seen.outer.pid);
    expect(seen.inner.txid).toBe(seen.outer.txid);
    expect(seen.outer.info?.depth).toBe(1);
    expect(seen.inner.info).toMatchObject({ id: seen.outer.info?.id, depth: 2 });
  });

  it('nests three deep, each level rolling back alone', async () => {
    await withTransaction(async () => {
      await insert('level-1');
      await withTransaction(
        async () => {
          await insert('level-2');
          await expect(
            withTransaction(
              async () => {
                expect(currentTransaction()?.depth).toBe(3);
                await insert('level-3');
                throw new Boom('level 3 fails');
              },
              { propagation: 'NESTED' },
            ),
          ).rejects.toThrow('level 3 fails');
          await insert('level-2b');
        },
        { propagation: 'NESTED' },
      );
    });
    expect(await bodies()).toEqual(['level-1', 'level-2', 'level-2b']);
  });

  it('recovers from a failed statement inside it (the savepoint undoes the abort)', async () => {
    await insert('dup');
    await withTransaction(async () => {
      await withTransaction(async () => insert('dup'), { propagation: 'NESTED' }).catch((e: unknown) =>
        expect(e).toBeInstanceOf(UniqueViolationError),
      );
      await insert('after');
    });
    expect(await bodies()).toEqual(['after', 'dup']);
  });

  it('lets concurrent NESTED calls take turns, so a failing one never undoes a sibling that succeeded', async () => {
    const results = await withTransaction(async () =>
      Promise.allSettled([
        withTransaction(
          async () => {
            await insert('sibling-a');
            await new Promise((resolve) => setTimeout(resolve, 20));
            throw new Boom('a fails after b started');
          },
          { propagation: 'NESTED' },
        ),
        withTransaction(async () => insert('sibling-b'), { propagation: 'NESTED' }),
      ]),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(await bodies()).toEqual(['sibling-b']);
  });

  it('starts a plain transaction when there is no outer one', async () => {
    await expect(service.nested('alone', true)).rejects.toThrow(Boom);
    await service.nested('alone');
    expect(await bodies()).toEqual(['alone']);
  });
});

describe('@Transactional MANDATORY, NEVER, SUPPORTS, NOT_SUPPORTED', () => {
  it('MANDATORY throws TransactionRequiredError with no transaction, and writes nothing', async () => {
    await expect(service.mandatory('x')).rejects.toThrow(TransactionRequiredError);
    await withTransaction(() => service.mandatory('joined'));
    expect(await bodies()).toEqual(['joined']);
  });

  it('NEVER throws TransactionNotAllowedError inside a transaction, and runs outside one', async () => {
    const error = await withTransaction(() => service.never('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionNotAllowedError);
    await service.never('outside');
    expect(await bodies()).toEqual(['outside']);
  });

  it('SUPPORTS joins a transaction when there is one and runs without one otherwise', async () => {
    expect(await service.supports()).toBeUndefined();
    const inside = await withTransaction(async () => ({ outer: currentTransaction(), seen: await service.supports() }));
    expect(inside.seen?.id).toBe(inside.outer?.id);
  });

  it('NOT_SUPPORTED runs on the pool outside the transaction, and its work survives the outer rollback', async () => {
    const seen = await withTransaction(async () => {
      await insert('outer');
      const outer = await identity();
      const inner = await service.notSupported('autocommitted');
      throw Object.assign(new Boom('outer fails'), { seen: { outer, inner } });
    }).catch((e: Boom & { seen: { outer: { pid: number }; inner: { inTransaction: boolean; pid: number } } }) => e.seen);
    expect(seen.inner.inTransaction).toBe(false);
    expect(seen.inner.pid).not.toBe(seen.outer.pid);
    expect(await bodies()).toEqual(['autocommitted']);
  });
});

describe('@Transactional before connect()', () => {
  it('rejects (never throws at the call site) when the database is not connected', async () => {
    class Early {
      @Transactional({ connection: 'not_connected_yet' })
      async run(): Promise<void> {}
    }
    let returned: Promise<void> | undefined;
    expect(() => {
      returned = new Early().run();
    }).not.toThrow();
    await expect(returned).rejects.toThrow("Database ('not_connected_yet') is not connected");
  });
});

describe('withTransaction', () => {
  it('hands the transaction\'s EntityManager to the function, and TypeORM persistence joins it', async () => {
    await expect(
      withTransaction(async (manager) => {
        await manager.save(manager.create(Note, { body: 'saved by TypeORM' }));
        expect(await bodies()).toEqual(['saved by TypeORM']);
        throw new Boom('roll back');
      }),
    ).rejects.toThrow(Boom);
    expect(await bodies()).toEqual([]);
  });

  it("makes TypeORM's own manager.transaction() a savepoint inside, never a second COMMIT", async () => {
    await expect(
      withTransaction(async (manager) => {
        await manager.transaction(async (inner) => {
          await inner.save(inner.create(Note, { body: 'typeorm inner' }));
        });
        throw new Boom('outer fails after the TypeORM transaction');
      }),
    ).rejects.toThrow(Boom);
    expect(await bodies()).toEqual([]);
  });

  it('returns the function\'s value and leaves no connection checked out', async () => {
    expect(await withTransaction(async () => 42)).toBe(42);
    const pool = database.poolSnapshot();
    expect(pool.total - pool.idle).toBe(0);
  });

  it('rejects unknown and invalid options by name before starting anything', async () => {
    await expect(withTransaction(async () => 1, { propagation: 'SOMETIMES' as 'REQUIRED', retries: -1, bogus: true } as never)).rejects.toThrow(
      /Invalid transaction options \(3 problems\):\n {2}- bogus: bogus is not a transaction option; expected one of propagation, isolation, readOnly, timeoutMs, retries, connection\n {2}- propagation: propagation must be one of REQUIRED, REQUIRES_NEW, NESTED, MANDATORY, NEVER, SUPPORTS, NOT_SUPPORTED, got "SOMETIMES"\n {2}- retries: retries must be an integer from 0 to 100, got -1/,
    );
  });
});
