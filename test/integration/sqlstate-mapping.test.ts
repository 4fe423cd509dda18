import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseError } from 'pg';
import {
  CheckViolationError,
  ConnectionError,
  Database,
  DeadlockError,
  ForeignKeyViolationError,
  NotNullViolationError,
  PoolExhaustedError,
  QueryError,
  QueryTimeoutError,
  ReadOnlyTransactionError,
  SerializationFailureError,
  toBastionError,
  UniqueViolationError,
} from '../../src';
import { POOL_TIMEOUT_MESSAGE } from '../../src/errors/sqlstate';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';

let db: TestDatabase;
let database: Database;
beforeAll(async () => {
  db = await createTestDatabase();
  ({ database } = await connectTo(db, { env: { DB_POOL_MAX: '4' } }));
  await database.execute(`
    CREATE TABLE owners (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
    CREATE TABLE wallets (
      id serial PRIMARY KEY,
      owner_id int NOT NULL REFERENCES owners(id),
      balance numeric(12,2) NOT NULL CONSTRAINT wallets_balance_non_negative CHECK (balance >= 0)
    );
    INSERT INTO owners (email) VALUES ('ada@example.com'), ('grace@example.com');
    INSERT INTO wallets (owner_id, balance) VALUES (1, 10), (2, 20);
  `);
});
afterAll(async () => {
  await Database.closeAll();
  await db.drop();
});

async function failure(promise: Promise<unknown>): Promise<QueryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof QueryError)) throw new Error(`expected a QueryError, got ${String(error)}`);
  return error;
}

describe('SQLSTATE mapping on real violations', () => {
  it('maps 23505 to UniqueViolationError with constraint and columns, never the value', async () => {
    const error = await failure(database.execute('INSERT INTO owners (email) VALUES ($1)', ['ada@example.com']));
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ code: '23505', constraint: 'owners_email_key', table: 'owners', columns: ['email'] });
    expect(error.message).toBe('Unique constraint "owners_email_key" on owners (email) violated: a row with the same key already exists [23505].');
    expect(error.message).not.toContain('ada@example.com');
    expect(error.cause).toBeInstanceOf(DatabaseError);
    expect(JSON.stringify(Object.entries(error))).not.toContain('ada@example.com');
    expect(await database.query('SELECT count(*)::int AS n FROM owners')).toEqual([{ n: 2 }]);
  });

  it('maps 23503 to ForeignKeyViolationError', async () => {
    const error = await failure(database.execute('INSERT INTO wallets (owner_id, balance) VALUES ($1, 0)', [999]));
    expect(error).toBeInstanceOf(ForeignKeyViolationError);
    expect(error).toMatchObject({ code: '23503', constraint: 'wallets_owner_id_fkey', table: 'wallets', columns: ['owner_id'] });
    expect(error.message).not.toContain('999');
  });

  it('maps 23502 to NotNullViolationError naming the column', async () => {
    const error = await failure(database.execute('INSERT INTO owners (email) VALUES ($1)', [null]));
    expect(error).toBeInstanceOf(NotNullViolationError);
    expect(error).toMatchObject({ code: '23502', table: 'owners', columns: ['email'] });
    expect(error.message).toBe('Column owners.email must not be null [23502].');
  });

  it('maps 23514 to CheckViolationError and writes nothing', async () => {
    const error = await failure(database.execute('UPDATE wallets SET balance = balance - $1 WHERE id = 1', [50]));
    expect(error).toBeInstanceOf(CheckViolationError);
    expect(error).toMatchObject({ code: '23514', constraint: 'wallets_balance_non_negative', table: 'wallets' });
    expect(await database.query('SELECT balance FROM wallets WHERE id = 1')).toEqual([{ balance: '10.00' }]);
  });

  it('maps 40001 to SerializationFailureError, marked retryable', async () => {
    const error = await failure(
      database.withConnection(async (runner) => {
        await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        try {
          await runner.query('SELECT balance FROM wallets WHERE id = 2');
          await database.withConnection((other) => other.query('UPDATE wallets SET balance = balance + 1 WHERE id = 2'));
          await runner.query('UPDATE wallets SET balance = balance + 1 WHERE id = 2');
        } finally {
          await runner.query('ROLLBACK');
        }
      }),
    );
    expect(error).toBeInstanceOf(SerializationFailureError);
    expect(error.code).toBe('40001');
    expect(error.retryable).toBe(true);
  });

  it('maps 40P01 to DeadlockError, distinct from a serialization failure', async () => {
    const gate = { a: 0 };
    const run = (first: number, second: number) =>
      database.withConnection(async (runner) => {
        await runner.query("SET deadlock_timeout = '50ms'");
        await runner.query('BEGIN');
        try {
          await runner.query('SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE', [first]);
          gate.a++;
          while (gate.a < 2) await new Promise((r) => setImmediate(r));
          await runner.query('SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE', [second]);
        } finally {
          await runner.query('ROLLBACK');
        }
      });
    const results = await Promise.allSettled([run(1, 2), run(2, 1)]);
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as QueryError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DeadlockError);
    expect(errors[0]).not.toBeInstanceOf(SerializationFailureError);
    expect(errors[0]?.code).toBe('40P01');
    expect(errors[0]?.retryable).toBe(true);
  });

  it('maps 57014 to QueryTimeoutError', async () => {
    const error = await failure(
      database.withConnection(async (runner) => {
        await runner.query('BEGIN');
        try {
          await runner.query("SET LOCAL statement_timeout = '20ms'");
          await runner.query('SELECT pg_sleep(1)');
        } finally {
          await runner.query('ROLLBACK');
        }
      }),
    );
    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect(error.code).toBe('57014');
  });

  it('maps 25006 to ReadOnlyTransactionError', async () => {
    const error = await failure(
      database.withConnection(async (runner) => {
        await runner.query('START TRANSACTION READ ONLY');
        try {
          await runner.query('DELETE FROM wallets');
        } finally {
          await runner.query('ROLLBACK');
        }
      }),
    );
    expect(error).toBeInstanceOf(ReadOnlyTransactionError);
    expect(await database.query('SELECT count(*)::int AS n FROM wallets')).toEqual([{ n: 2 }]);
  });

  it('maps 57P01 (backend terminated) to ConnectionError', async () => {
    const error = await failure(
      database.withConnection((runner) => runner.query('SELECT pg_terminate_backend(pg_backend_pid())')),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe('57P01');
    expect(await database.query('SELECT 1 AS alive')).toEqual([{ alive: 1 }]);
  });

  it('keeps an unmapped SQLSTATE as a plain QueryError with its code', async () => {
    const error = await failure(database.query('SELECT * FROM no_such_table'));
    expect(error.constructor).toBe(QueryError);
    expect(error.code).toBe('42P01');
    expect(error.message).toBe('relation "no_such_table" does not exist [42P01]');
  });

  it('is idempotent and leaves foreign errors alone', async () => {
    const error = await failure(database.execute('INSERT INTO owners (email) VALUES ($1)', ['grace@example.com']));
    expect(toBastionError(error)).toBe(error);
    const plain = new TypeError('not a database error');
    expect(toBastionError(plain)).toBe(plain);
    expect(toBastionError('text')).toBe('text');
  });

  it('recognises pg-pool 3.14 connect timeout by its exact message', () => {
    const pkg = JSON.parse(readFileSync(join(dirname(require.resolve('pg-pool')), 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toMatch(/^3\.14\./);
    expect(readFileSync(require.resolve('pg-pool'), 'utf8')).toContain(`new Error('${POOL_TIMEOUT_MESSAGE}')`);
    const mapped = toBastionError(new Error(POOL_TIMEOUT_MESSAGE), { pool: { max: 2, total: 2, idle: 0, waiting: 3 }, connectionTimeoutMs: 900 });
    expect(mapped).toBeInstanceOf(PoolExhaustedError);
    expect((mapped as Error).message).toMatch(/^No database connection became available within 900 ms .*all 2 of 2 connections were busy and 3 other request\(s\) were waiting/);
  });
});
