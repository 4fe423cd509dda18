import type { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';
import { ValidationError, ValidationIssue } from '../errors/domain-errors';
import { CursorCodec, CursorValues, keysetCondition } from './cursor';
import type { EntityShape } from './entity-shape';
import { Checked, checkOrder, checkWhere, Filter, Order, OrderKey } from './query-guard';

/**
 * One page of `findMany`. `total` counts every row matching the filter; it is given for offset pages (the first
 * page included) and left out for cursor pages (`after`), where counting on every page would cost a full scan.
 * `nextCursor` is present exactly when more rows follow; pass it as `after` to get them.
 */
export interface Page<T> {
  readonly items: T[];
  readonly total?: number;
  readonly nextCursor?: string;
}

/** Offset pagination: `limit` rows after skipping `offset`. */
export interface OffsetQuery<T> {
  readonly where?: Filter<T>;
  readonly order?: Order<T>;
  readonly limit?: number;
  readonly offset?: number;
}

/** Keyset pagination: `limit` rows after the row `after` points at (a `nextCursor` of the previous page). */
export interface CursorQuery<T> {
  readonly where?: Filter<T>;
  readonly order?: Order<T>;
  readonly limit?: number;
  readonly after?: string;
}

/** What `findMany` accepts: one of the two pagination styles. */
export type FindManyQuery<T> = OffsetQuery<T> | CursorQuery<T>;

/** Page sizes: `limit` defaults to `defaultLimit`; a larger one than `maxLimit` is capped to it. */
export interface PageLimits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

const ALIAS = 'entity';
const QUERY_KEYS = new Set(['where', 'order', 'limit', 'offset', 'after']);

/**
 * Reads one page. The order always ends with the primary key, so it is total and stable: offset pages do not
 * shuffle rows with equal sort values, and a cursor walk sees every row that existed when it started exactly once,
 * however many rows are inserted meanwhile. Rows are sorted ASC NULLS LAST / DESC NULLS FIRST.
 */
export async function findPage<T extends ObjectLiteral>(
  repository: Repository<T>,
  shape: EntityShape,
  query: unknown,
  limits: PageLimits,
  cursors: CursorCodec,
): Promise<Page<T>> {
  const subject = `${shape.name} query`;
  const { value: request, issues: queryIssues } = checkQuery(query);
  const where = checkWhere<T>(shape, request.where);
  const keys = checkOrder(shape, request.order);
  const limit = pageLimit(request.limit, limits);
  const offset = pageOffset(request.offset);
  const issues = [...queryIssues, ...where.issues, ...keys.issues, ...limit.issues, ...offset.issues];
  if (issues.length > 0) throw new ValidationError(subject, issues);
  const after = request.after === undefined ? undefined : cursors.decode(shape, keys.value, request.after, subject);
  return readPage(repository, shape, { where: where.value, keys: keys.value, limit: limit.value, offset: offset.value, after }, cursors);
}

interface PageSpec<T extends ObjectLiteral> {
  readonly where: FindOptionsWhere<T>;
  readonly keys: readonly OrderKey[];
  readonly limit: number;
  readonly offset: number;
  readonly after: CursorValues | undefined;
}

async function readPage<T extends ObjectLiteral>(
  repository: Repository<T>,
  shape: EntityShape,
  { where, keys, limit, offset, after }: PageSpec<T>,
  cursors: CursorCodec,
): Promise<Page<T>> {
  const escape = (name: string) => repository.manager.connection.driver.escape(name);
  const qb = repository.createQueryBuilder(ALIAS).setFindOptions({ where, loadEagerRelations: false });
  if (after !== undefined) {
    const keyset = keysetCondition(escape(ALIAS), keys, after);
    qb.andWhere(keyset.sql, keyset.parameters);
  }
  keys.forEach((key, i) => {
    qb.addOrderBy(`${ALIAS}.${key.column.property}`, key.direction, key.direction === 'ASC' ? 'NULLS LAST' : 'NULLS FIRST');
    qb.addSelect(`${escape(ALIAS)}.${key.column.sqlName}::text`, `cursor_${i}`);
  });
  qb.limit(limit + 1);
  if (offset > 0) qb.offset(offset);
  const { entities, raw } = await qb.getRawAndEntities();

  const items = entities.slice(0, limit);
  const more = entities.length > limit;
  const last = raw[items.length - 1] as Record<string, string | null> | undefined;
  const nextCursor = more && last ? cursors.encode(shape, keys, keys.map((_, i) => last[`cursor_${i}`] ?? null)) : undefined;
  if (after !== undefined) return nextCursor === undefined ? { items } : { items, nextCursor };
  const total = !more && (offset === 0 || items.length > 0) ? offset + items.length : await repository.count({ where });
  return nextCursor === undefined ? { items, total } : { items, total, nextCursor };
}

interface PageRequest {
  readonly where?: unknown;
  readonly order?: unknown;
  readonly limit?: unknown;
  readonly offset?: unknown;
  readonly after?: unknown;
}

function checkQuery(query: unknown): Checked<PageRequest> {
  if (query === undefined) return { value: {}, issues: [] };
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    return { value: {}, issues: [{ property: 'query', constraints: { isObject: 'the query must be an object' } }] };
  }
  const issues: ValidationIssue[] = Object.keys(query)
    .filter((key) => !QUERY_KEYS.has(key))
    .map((key) => ({ property: key, constraints: { isQueryOption: `${key} is not a findMany option (where, order, limit, offset, after)` } }));
  const request = query as PageRequest;
  if (request.offset !== undefined && request.after !== undefined) {
    issues.push({ property: 'after', constraints: { isExclusive: 'give offset or after, not both' } });
  }
  return { value: request, issues };
}

function pageLimit(limit: unknown, limits: PageLimits): Checked<number> {
  if (limit === undefined) return { value: limits.defaultLimit, issues: [] };
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    return { value: 0, issues: [{ property: 'limit', constraints: { isPositive: 'limit must be a positive integer' } }] };
  }
  return { value: Math.min(limit, limits.maxLimit), issues: [] };
}

function pageOffset(offset: unknown): Checked<number> {
  if (offset === undefined) return { value: 0, issues: [] };
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    return { value: 0, issues: [{ property: 'offset', constraints: { min: 'offset must be an integer >= 0' } }] };
  }
  return { value: offset, issues: [] };
}
