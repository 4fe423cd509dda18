import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors/domain-errors';
import type { EntityShape } from './entity-shape';
import type { OrderKey } from './query-guard';

/** Values of the order keys of the last row of a page, as PostgreSQL prints them (`::text`), so nothing is rounded. */
export type CursorValues = readonly (string | null)[];

const MAX_CURSOR_LENGTH = 4096;
const MAC_BYTES = 16;
const CURSOR_FORMAT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Used when a repository sets no `cursorSecret`: cursors are then valid for the life of this process. */
const PROCESS_SECRET = randomBytes(32);

/**
 * Opaque, tamper-checked keyset cursors: the order-key values of the last row, bound by an HMAC to the entity and
 * the order they were made for. A cursor that was altered, truncated, made by another process (without a shared
 * secret) or reused with a different order is a ValidationError; its values only ever become bind parameters.
 */
export class CursorCodec {
  readonly #secret: Buffer;

  constructor(secret?: string | Buffer) {
    this.#secret = secret === undefined ? PROCESS_SECRET : Buffer.from(secret);
  }

  encode(shape: EntityShape, keys: readonly OrderKey[], values: CursorValues): string {
    const payload = Buffer.from(JSON.stringify({ s: scopeOf(shape, keys), k: values })).toString('base64url');
    return `${payload}.${this.#mac(payload).toString('base64url')}`;
  }

  decode(shape: EntityShape, keys: readonly OrderKey[], cursor: unknown, subject: string): CursorValues {
    const values = this.#open(shape, keys, cursor);
    if (values === undefined) {
      throw new ValidationError(subject, [
        {
          property: 'after',
          constraints: {
            isCursor: `after is not a cursor that findMany issued for ${shape.name} with this order (altered, truncated or from another query)`,
          },
        },
      ]);
    }
    return values;
  }

  #open(shape: EntityShape, keys: readonly OrderKey[], cursor: unknown): CursorValues | undefined {
    if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !CURSOR_FORMAT.test(cursor)) return undefined;
    const [payload, mac] = cursor.split('.') as [string, string];
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.#mac(payload))) return undefined;
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    const { s, k } = (decoded ?? {}) as { s?: unknown; k?: unknown };
    if (s !== scopeOf(shape, keys) || !Array.isArray(k) || k.length !== keys.length) return undefined;
    return k.every((v) => v === null || typeof v === 'string') ? (k as CursorValues) : undefined;
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#secret).update(payload).digest().subarray(0, MAC_BYTES);
  }
}

/** The condition "after this row" for the ORDER BY `keys` (ASC NULLS LAST / DESC NULLS FIRST), with named parameters. */
export function keysetCondition(
  alias: string,
  keys: readonly OrderKey[],
  values: CursorValues,
): { sql: string; parameters: Record<string, string> } {
  const parameters: Record<string, string> = {};
  const ref = (i: number) => `${alias}.${keys[i]!.column.sqlName}`;
  const param = (i: number) => {
    parameters[`keyset_${i}`] = values[i] as string;
    return `:keyset_${i}`;
  };
  const equal = (i: number) => (values[i] === null ? `${ref(i)} IS NULL` : `${ref(i)} = ${param(i)}`);
  const after = (i: number): string | undefined => {
    const { direction, column } = keys[i]!;
    if (values[i] === null) return direction === 'ASC' ? undefined : `${ref(i)} IS NOT NULL`;
    const beyond = `${ref(i)} ${direction === 'ASC' ? '>' : '<'} ${param(i)}`;
    return direction === 'ASC' && column.nullable ? `(${beyond} OR ${ref(i)} IS NULL)` : beyond;
  };
  const branches: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const tail = after(i);
    if (tail === undefined) continue;
    branches.push([...Array.from({ length: i }, (_, j) => equal(j)), tail].join(' AND '));
  }
  return { sql: branches.length === 0 ? 'FALSE' : `(${branches.map((b) => `(${b})`).join(' OR ')})`, parameters };
}

function scopeOf(shape: EntityShape, keys: readonly OrderKey[]): string {
  const scope = `${shape.name}|${keys.map((k) => `${k.column.databaseName} ${k.direction}`).join(',')}`;
  return createHash('sha256').update(scope).digest('base64url').slice(0, 16);
}
