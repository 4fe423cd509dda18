import { performance } from 'node:perf_hooks';
import type { QueryRunner } from 'typeorm';
import type { DatabaseConfig } from '../config/load-config';
import { ambientTransaction, runAsWorker } from '../context/transaction-context';
import { DatabaseNotConnectedError, PoolSnapshot } from '../errors/connection-errors';
import { ValidationError } from '../errors/domain-errors';
import { toBastionError } from '../errors/sqlstate';
import type { Log } from '../logging/logger';
import {
  BastionDataSource,
  buildDataSource,
  DatabaseOptions,
  resolveDatabaseOptions,
  ResolvedDatabaseOptions,
} from './data-source';
import { HealthReport, pgPool, poolSnapshot } from './health';
import { usingRunner } from './release';

/** Per-call options of the raw query methods. */
export interface QueryOptions {
  /** Worker name shown in this query's log line (the seed's `worker`). */
  readonly worker?: string;
}

/** `executeQuery` operations: `fetch` returns rows; `execute` and `commit` return the affected row count. */
export type QueryOperation = 'fetch' | 'execute' | 'commit';

/** The result of `executeQuery` for each operation. */
export type OperationResult<O extends QueryOperation, T> = O extends 'fetch' ? T[] : number;

interface RawResult {
  readonly records: unknown[];
  readonly affected: number | undefined;
}

/**
 * The process-wide handle of one database: a TypeORM DataSource over a node-postgres pool, reached directly or
 * through the SSH tunnel. `Database.connect()` makes it once per name; every method joins the ambient
 * transaction of the calling async flow when there is one.
 */
export class Database {
  static readonly #pending = new Map<string, Promise<Database>>();
  static readonly #connected = new Map<string, Database>();

  /** `default` for the unnamed database. */
  readonly name: string;
  readonly config: DatabaseConfig;
  /** The initialized TypeORM DataSource (with the pool behind it). */
  readonly dataSource: BastionDataSource;
  readonly log: Log;
  #closing: Promise<void> | undefined;

  private constructor(resolved: ResolvedDatabaseOptions, dataSource: BastionDataSource) {
    this.name = resolved.name;
    this.config = resolved.config;
    this.log = resolved.log;
    this.dataSource = dataSource;
  }

  /**
   * Connects the process-wide database (or the named one). Concurrent calls share one initialization; a failed
   * one leaves no tunnel or pool open and the next call tries again; after `close()` a call starts afresh.
   */
  static connect(options: DatabaseOptions = {}): Promise<Database> {
    const name = options.name ?? 'default';
    const pending = Database.#pending.get(name);
    if (pending) return pending;
    const attempt = Database.#open(options);
    Database.#pending.set(name, attempt);
    attempt.catch(() => {
      if (Database.#pending.get(name) === attempt) Database.#pending.delete(name);
    });
    return attempt;
  }

  /** The connected database; throws `DatabaseNotConnectedError` before `connect()` resolved or after `close()`. */
  static current(name = 'default'): Database {
    const db = Database.#connected.get(name);
    if (!db) throw new DatabaseNotConnectedError(name);
    return db;
  }

  /** Closes the process-wide database (or the named one), if any; waits for a connect in flight first. */
  static async close(name = 'default'): Promise<void> {
    const pending = Database.#pending.get(name);
    if (!pending) return;
    const db = await pending.catch(() => undefined);
    await db?.close();
  }

  /** Closes every connected database. */
  static async closeAll(): Promise<void> {
    await Promise.all([...Database.#pending.keys()].map((name) => Database.close(name)));
  }

  static async #open(options: DatabaseOptions): Promise<Database> {
    const resolved = resolveDatabaseOptions(options);
    const dataSource = buildDataSource(resolved);
    const target = describeTarget(resolved.config);
    resolved.log.debug('connecting', { target, via: resolved.config.ssh ? 'ssh' : 'direct' });
    const started = performance.now();
    const db = new Database(resolved, dataSource);
    try {
      await dataSource.initialize();
      await db.#warmUp();
    } catch (error) {
      await dataSource.destroy().catch((closeError: unknown) => {
        resolved.log.warn('cleanup after a failed connect failed', { error: String(closeError) });
      });
      const mapped = db.#map(error);
      resolved.log.error('connect failed', { target, error: mapped instanceof Error ? mapped.message : String(mapped) });
      throw mapped;
    }
    Database.#connected.set(resolved.name, db);
    resolved.log.info('connected', {
      target,
      via: resolved.config.ssh ? `ssh ${resolved.config.ssh.user}@${resolved.config.ssh.host}:${resolved.config.ssh.port}` : 'direct',
      poolMax: resolved.config.pool.max,
      ms: Math.round(performance.now() - started),
    });
    return db;
  }

  /** Rows of a parameterized query, as plain objects. Joins the ambient transaction. */
  async query<T = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: QueryOptions = {},
  ): Promise<T[]> {
    const result = await this.#run(sql, params, options);
    return result.records as T[];
  }

  /** Affected row count of a parameterized statement. Joins the ambient transaction. */
  async execute(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<number> {
    const result = await this.#run(sql, params, options);
    return result.affected ?? 0;
  }

  /**
   * The seed's shape: `fetch` returns rows; `execute` and `commit` return the affected row count. `commit` does
   * not end an ambient transaction early: outside one, every statement commits on its own anyway.
   */
  async executeQuery<T = Record<string, unknown>, O extends QueryOperation = 'fetch'>(
    worker: string,
    sql: string,
    params: readonly unknown[] = [],
    operation: O = 'fetch' as O,
  ): Promise<OperationResult<O, T>> {
    switch (operation as QueryOperation) {
      case 'fetch':
        return (await this.query<T>(sql, params, { worker })) as OperationResult<O, T>;
      case 'execute':
      case 'commit':
        return (await this.execute(sql, params, { worker })) as OperationResult<O, T>;
      default:
        throw new ValidationError('executeQuery call', [
          {
            property: 'operation',
            constraints: { isIn: `operation must be 'fetch', 'execute' or 'commit', got ${JSON.stringify(operation)}` },
          },
        ]);
    }
  }

  /**
   * Runs `fn` with one connection: the ambient transaction's, else one from the pool that is always released,
   * whether `fn` resolves or throws.
   */
  async withConnection<R>(fn: (runner: QueryRunner) => Promise<R>): Promise<R> {
    const transaction = ambientTransaction(this.name);
    try {
      return await (transaction ? fn(transaction.queryRunner) : this.#withPooledRunner(fn));
    } catch (error) {
      throw this.#map(error);
    }
  }

  /** Round-trip latency, pool counters and tunnel state; reports a failure in `ok`/`error` instead of throwing. */
  async health(): Promise<HealthReport> {
    const started = performance.now();
    let error: string | undefined;
    try {
      await this.#withPooledRunner((runner) => runner.query('SELECT 1'));
    } catch (e) {
      const mapped = this.#map(e);
      error = mapped instanceof Error ? mapped.message : String(mapped);
    }
    const report: HealthReport = {
      ok: error === undefined,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      pool: this.poolSnapshot(),
      tunnel: this.dataSource.transport.health(),
      target: describeTarget(this.config),
      ...(error === undefined ? {} : { error }),
    };
    return report;
  }

  /** Pool counters right now. */
  poolSnapshot(): PoolSnapshot {
    return poolSnapshot(this.dataSource, this.config.pool.max);
  }

  /** Closes the pool, then the tunnel; the singleton is reset. Calling it again waits for the same close. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (Database.#connected.get(this.name) === this) {
      Database.#connected.delete(this.name);
      Database.#pending.delete(this.name);
    }
    await this.dataSource.destroy();
    this.log.info('closed', { target: describeTarget(this.config) });
  }

  async #run(sql: string, params: readonly unknown[], options: QueryOptions): Promise<RawResult> {
    assertStatement(sql, params);
    try {
      if (options.worker === undefined) return await this.#send(sql, params);
      return await runAsWorker(options.worker, () => this.#send(sql, params));
    } catch (error) {
      throw this.#map(error);
    }
  }

  /** On the ambient transaction's connection, else on a pooled one. pg only reads the parameter array. */
  #send(sql: string, params: readonly unknown[]): Promise<RawResult> {
    const values = params as unknown[];
    const transaction = ambientTransaction(this.name);
    if (transaction) return transaction.queryRunner.query(sql, values, true) as Promise<RawResult>;
    return this.#withPooledRunner((runner) => runner.query(sql, values, true) as Promise<RawResult>);
  }

  /** One pooled connection for `fn`; released afterwards, or discarded if the connection broke. */
  async #withPooledRunner<R>(fn: (runner: QueryRunner) => Promise<R>): Promise<R> {
    return usingRunner(await acquireRunner(this), fn);
  }

  /** Opens DB_POOL_MIN connections up front, as HikariCP's minimumIdle does; pg-pool then keeps them. */
  async #warmUp(): Promise<void> {
    const pool = pgPool(this.dataSource);
    const min = this.config.pool.min;
    if (!pool || min === 0) return;
    // Held at once, so the pool must open new ones instead of handing out the same idle connection again.
    const results = await Promise.allSettled(Array.from({ length: min }, () => pool.connect()));
    for (const result of results) if (result.status === 'fulfilled') result.value.release();
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  #map(error: unknown): unknown {
    return mapDatabaseError(this, error);
  }
}

/** bastion's typed error for anything thrown while using `db`, explaining a pool timeout with its counters. */
export function mapDatabaseError(db: Database, error: unknown): unknown {
  return toBastionError(error, { pool: db.poolSnapshot(), connectionTimeoutMs: db.config.pool.connectionTimeoutMs });
}

/** A QueryRunner holding a pooled connection; a failure to get one is mapped (PoolExhaustedError, ConnectionError). */
export async function acquireRunner(db: Database): Promise<QueryRunner> {
  const runner = db.dataSource.createQueryRunner();
  try {
    await runner.connect();
    return runner;
  } catch (error) {
    await runner.release().catch(() => undefined);
    throw mapDatabaseError(db, error);
  }
}

/** `user@host:port/name`: where a config points, safe to log. */
export function describeTarget(config: DatabaseConfig): string {
  const { user, host, port, name } = config.database;
  return `${user}@${host ?? '?'}:${port}/${name}`;
}

function assertStatement(sql: unknown, params: unknown): void {
  if (typeof sql === 'string' && /\S/.test(sql) && Array.isArray(params)) return;
  const issues = [];
  if (typeof sql !== 'string' || sql.trim() === '') {
    issues.push({ property: 'sql', constraints: { isNotEmpty: 'sql must be a non-empty string' } });
  }
  if (!Array.isArray(params)) {
    issues.push({
      property: 'params',
      constraints: { isArray: 'params must be an array of values for $1, $2, …; never build SQL from values' },
    });
  }
  if (issues.length > 0) throw new ValidationError('query', issues);
}
