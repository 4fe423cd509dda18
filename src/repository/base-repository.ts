import type { EntityManager, EntityTarget, FindOptionsOrder, FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';
import { currentManager } from '../connection/current-manager';
import { Database, mapDatabaseError } from '../connection/database';
import { BastionError } from '../errors/bastion-error';
import { ConfigError, ConfigProblem } from '../errors/config-error';
import { NotFoundError, OptimisticLockError } from '../errors/domain-errors';
import { toBastionError } from '../errors/sqlstate';
import { insertRows } from './bulk-insert';
import { CursorCodec } from './cursor';
import { ColumnShape, entityShape, EntityShape } from './entity-shape';
import { FindManyQuery, findPage, Page, PageLimits } from './pagination';
import { Filter, guardId, guardWhere } from './query-guard';
import { encodeRow, hydrate, toParameter } from './row-codec';
import { runStatement } from './statement-runner';
import { deleteStatement, liveRowStatement, softDeleteStatement, updateStatement } from './statements';
import { validateConflictTarget, validateInsert, validateInserts, validatePatch } from './validation';

/** Settings of one repository; all optional. */
export interface RepositoryOptions {
  /** The named database it works on (`Database.connect({ name })`). Default: the unnamed one. */
  readonly database?: string;
  /** Page size when `findMany` is given no `limit`. Default 50. */
  readonly defaultLimit?: number;
  /** Largest page; a larger `limit` is capped to it. Default 1000. */
  readonly maxLimit?: number;
  /** Rows per INSERT statement when `createMany` does not COPY (see insert-path.ts). Default 5000. */
  readonly chunkSize?: number;
  /**
   * Key of the HMAC that makes `findMany` cursors tamper-proof. Default: a random key per process, so cursors are
   * valid for the life of the process; give every process the same secret when one client may page through several.
   */
  readonly cursorSecret?: string | Buffer;
}

/** A primary-key value: a number, a string (digits for integer keys, a UUID, …) or a bigint. */
export type EntityId = string | number | bigint;

/** The values a caller may give to `create`, `createMany` and `upsert`. */
export type NewEntity<T> = Partial<T>;

/** The changes `update` applies; `version` (on a versioned entity) is the version read, not a new value. */
export type EntityPatch<T> = Partial<T>;

const OPTION_KEYS = new Set(['database', 'defaultLimit', 'maxLimit', 'chunkSize', 'cursorSecret']);

/**
 * The base of every repository: `class AccountRepository extends BaseRepository<Account>`. Validated CRUD,
 * pagination and bulk insert for one entity with a single-column primary key, on the ambient transaction when
 * the caller runs inside one and on the pool otherwise. Every database error comes out as a typed bastion error.
 *
 * Writes validate before any SQL is sent and throw one `ValidationError` listing every problem: a caller may set
 * only columns, never the primary key when it is generated, the version column or the create/update/delete dates.
 * Filters and orders name columns by property and pass values as bind parameters only. A foreign key is set through
 * its column property, or through the relation when it has none (`{ shelf }` / `{ shelf: { id } }`); reads do not
 * load relations.
 *
 * Missing rows: `findById`/`findOne` return null; `getById` and `update` throw `NotFoundError`; `delete`,
 * `softDelete` and `restore` return false. A soft-deleted row counts as missing everywhere except `delete`
 * (which removes it for good) and `restore`.
 *
 * Writes are single SQL statements that return the stored row: they do not run TypeORM entity listeners or
 * subscribers' insert/update events (use database defaults, or set values before calling).
 */
export abstract class BaseRepository<T extends ObjectLiteral> {
  readonly #entity: EntityTarget<T>;
  readonly #database: string;
  readonly #limits: PageLimits;
  readonly #chunkRows: number;
  readonly #cursors: CursorCodec;

  constructor(entity: EntityTarget<T>, options: RepositoryOptions = {}) {
    checkOptions(options);
    this.#entity = entity;
    this.#database = options.database ?? 'default';
    this.#limits = { defaultLimit: options.defaultLimit ?? Math.min(50, options.maxLimit ?? 50), maxLimit: options.maxLimit ?? 1000 };
    this.#chunkRows = options.chunkSize ?? 5000;
    this.#cursors = new CursorCodec(options.cursorSecret);
  }

  /** The ambient transaction's EntityManager when the caller runs inside one, else the pool's. */
  protected get manager(): EntityManager {
    return currentManager(this.#database);
  }

  /** TypeORM's repository of this entity, bound to `manager` (so custom queries join the ambient transaction too). */
  protected get repository(): Repository<T> {
    return this.manager.getRepository(this.#entity);
  }

  /** Inserts one row and returns it with the columns the database filled in (id, defaults, version, dates). */
  create(data: NewEntity<T>): Promise<T> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      const values = await validateInsert(shape, data);
      const [created] = await insertRows<T>(manager, shape, [values], { chunkRows: 1 }, this.#log);
      return created!;
    });
  }

  /**
   * Inserts many rows: all are validated first, then written with one COPY, or with one INSERT statement per chunk
   * when COPY could not return what was stored (insert-path.ts), in one transaction (the ambient one, else its own),
   * so one failing row rolls back the whole call. Returns the rows in the given order, as stored.
   */
  createMany(rows: readonly NewEntity<T>[]): Promise<T[]> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      const values = await validateInserts(shape, rows);
      return insertRows<T>(manager, shape, values, { chunkRows: this.#chunkRows }, this.#log);
    });
  }

  /** The row with this primary key, or null (also when it is soft-deleted). */
  findById(id: EntityId): Promise<T | null> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      guardId(shape, id);
      const where = { [shape.primary.property]: toParameter(id) } as FindOptionsWhere<T>;
      return manager.getRepository(this.#entity).findOne({ where, loadEagerRelations: false });
    });
  }

  /** The row with this primary key; `NotFoundError` when there is none (or it is soft-deleted). */
  async getById(id: EntityId): Promise<T> {
    const found = await this.findById(id);
    if (found === null) throw new NotFoundError(this.#shape(this.manager).name, id);
    return found;
  }

  /** The first row (by primary key) matching a filter that names at least one column, or null. */
  findOne(where: Filter<T>): Promise<T | null> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      const guarded = guardWhere<T>(shape, where, `${shape.name} query`, 'condition');
      return manager.getRepository(this.#entity).findOne({ where: guarded, order: primaryOrder<T>(shape), loadEagerRelations: false });
    });
  }

  /**
   * One page of rows: `{ where, order, limit, offset }` (offset pages, with `total`) or `{ where, order, limit,
   * after }` (keyset pages from a `nextCursor`). `limit` defaults to 50 and is capped at `maxLimit`; the order
   * always ends with the primary key, so pages are stable.
   */
  findMany(query?: FindManyQuery<T>): Promise<Page<T>> {
    return this.run(async () => {
      const manager = this.manager;
      return findPage(manager.getRepository(this.#entity), this.#shape(manager), query, this.#limits, this.#cursors);
    });
  }

  /** How many rows match the filter (all rows without one). */
  count(where?: Filter<T>): Promise<number> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      return manager.getRepository(this.#entity).count({ where: guardWhere<T>(shape, where, `${shape.name} query`) });
    });
  }

  /** Whether any row matches the filter; `{}` asks whether there is any row at all (undefined is refused). */
  exists(where: Filter<T>): Promise<boolean> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      return manager.getRepository(this.#entity).exists({ where: guardWhere<T>(shape, where, `${shape.name} query`, 'object') });
    });
  }

  /**
   * Changes the columns the patch sets and returns the updated row; `NotFoundError` when the row does not exist
   * (or is soft-deleted). On an entity with a `@VersionColumn`, give the version you read as `patch.version`: the
   * row is updated only if it still has that version (one `UPDATE … WHERE id = $2 AND version = $3`), else
   * `OptimisticLockError` and nothing is written. Either way the version moves on by one.
   */
  update(id: EntityId, patch: EntityPatch<T>): Promise<T> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      guardId(shape, id);
      const { values, expectedVersion } = await validatePatch(shape, patch);
      const columns = [...values.keys()].map((property) => shape.columns.get(property) as ColumnShape);
      const json = JSON.stringify(encodeRow(shape, values));
      const parameter = toParameter(id);
      const { rows } = await runStatement(manager, updateStatement(shape, columns, json, parameter, expectedVersion));
      if (rows[0]) return hydrate<T>(shape, rows[0]);
      if (expectedVersion !== undefined && (await runStatement(manager, liveRowStatement(shape, parameter))).rows.length > 0) {
        throw new OptimisticLockError(shape.name, id, expectedVersion);
      }
      throw new NotFoundError(shape.name, id);
    });
  }

  /**
   * Inserts the row, or, when one with the same `conflictColumns` exists (they need a unique constraint), updates
   * that row with the other columns given. Returns the stored row. The version moves on when a row is updated; a
   * soft-deleted row that conflicts is updated and stays soft-deleted.
   */
  upsert(data: NewEntity<T>, conflictColumns: readonly (keyof T & string)[]): Promise<T> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      const values = await validateInsert(shape, data);
      const onConflict = validateConflictTarget(shape, conflictColumns, values);
      const [stored] = await insertRows<T>(manager, shape, [values], { chunkRows: 1, onConflict }, this.#log);
      return stored!;
    });
  }

  /** Deletes the row for good (soft-deleted or not); false when there was none. */
  delete(id: EntityId): Promise<boolean> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      guardId(shape, id);
      return (await runStatement(manager, deleteStatement(shape, toParameter(id)))).affected > 0;
    });
  }

  /** Marks the row deleted (`@DeleteDateColumn`); false when there is no such live row. */
  softDelete(id: EntityId): Promise<boolean> {
    return this.#setDeleted(id, true);
  }

  /** Brings a soft-deleted row back; false when there is no such soft-deleted row. */
  restore(id: EntityId): Promise<boolean> {
    return this.#setDeleted(id, false);
  }

  /**
   * Runs `work` (a custom query on `this.manager` or `this.repository`) and maps any database error to bastion's
   * typed errors, as every method of this class does.
   */
  protected async run<R>(work: () => Promise<R>): Promise<R> {
    try {
      return await work();
    } catch (error) {
      throw this.#mapError(error);
    }
  }

  #setDeleted(id: EntityId, deleted: boolean): Promise<boolean> {
    return this.run(async () => {
      const manager = this.manager;
      const shape = this.#shape(manager);
      if (!shape.deleteDate) {
        throw new BastionError(
          `${shape.name} has no @DeleteDateColumn, so it cannot be soft-deleted or restored; add one, or use delete().`,
        );
      }
      guardId(shape, id);
      const statement = softDeleteStatement(shape, shape.deleteDate, toParameter(id), deleted);
      return (await runStatement(manager, statement)).affected > 0;
    });
  }

  #shape(manager: EntityManager): EntityShape {
    const dataSource = manager.connection;
    if (!dataSource.hasMetadata(this.#entity)) {
      const name = typeof this.#entity === 'function' ? this.#entity.name : String(this.#entity);
      const which = this.#database === 'default' ? 'the database' : `database '${this.#database}'`;
      throw new ConfigError([
        { variable: 'entities', message: `${name} is not an entity of ${which}: list it in DatabaseOptions.entities (or DB_ENTITIES)` },
      ]);
    }
    return entityShape(dataSource.getMetadata(this.#entity));
  }

  get #log() {
    return Database.current(this.#database).log;
  }

  #mapError(error: unknown): unknown {
    let db: Database;
    try {
      db = Database.current(this.#database);
    } catch {
      return toBastionError(error);
    }
    return mapDatabaseError(db, error);
  }
}

function primaryOrder<T>(shape: EntityShape): FindOptionsOrder<T> {
  return { [shape.primary.property]: 'ASC' } as FindOptionsOrder<T>;
}

function checkOptions(options: RepositoryOptions): void {
  const problems: ConfigProblem[] = [];
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) problems.push({ variable: key, message: `is not a repository option (${[...OPTION_KEYS].join(', ')})` });
  }
  for (const key of ['defaultLimit', 'maxLimit', 'chunkSize'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      problems.push({ variable: key, message: `${JSON.stringify(value)} is not valid; expected a positive integer` });
    }
  }
  if (options.defaultLimit !== undefined && options.maxLimit !== undefined && options.defaultLimit > options.maxLimit) {
    problems.push({ variable: 'defaultLimit', message: `${options.defaultLimit} is larger than maxLimit (${options.maxLimit})` });
  }
  if (options.database !== undefined && !/^[A-Za-z][A-Za-z0-9_]*$/.test(options.database)) {
    problems.push({ variable: 'database', message: `${JSON.stringify(options.database)} is not a database name` });
  }
  if (options.cursorSecret !== undefined && Buffer.from(options.cursorSecret).length < 16) {
    problems.push({ variable: 'cursorSecret', message: 'must be at least 16 bytes' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
