import { BastionError, QueryError } from './bastion-error';
import { ConnectionError, PoolExhaustedError, PoolSnapshot, TunnelError } from './connection-errors';
import {
  CheckViolationError,
  ConstraintInfo,
  DeadlockError,
  ForeignKeyViolationError,
  NotNullViolationError,
  QueryTimeoutError,
  ReadOnlyTransactionError,
  SerializationFailureError,
  UniqueViolationError,
} from './query-errors';

/** What the caller knows about the pool when the error happened; used to explain a pool timeout. */
export interface ErrorContext {
  readonly pool?: PoolSnapshot;
  readonly connectionTimeoutMs?: number;
}

/** The fields of a node-postgres `DatabaseError` (or a socket error) that the mapping reads. */
interface DriverErrorFields {
  readonly message: string;
  readonly code?: unknown;
  readonly severity?: unknown;
  readonly constraint?: unknown;
  readonly table?: unknown;
  readonly column?: unknown;
  readonly detail?: unknown;
  readonly hint?: unknown;
}

/** pg-pool 3.x rejects a waiting `connect()` with exactly this message when `connectionTimeoutMillis` passes. */
export const POOL_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';
/** pg-pool 3.x: a new connection's handshake took longer than `connectionTimeoutMillis` (server slow or unreachable). */
export const CONNECT_TIMEOUT_MESSAGE = 'Connection terminated due to connection timeout';

const SOCKET_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/**
 * Maps any error thrown by TypeORM, pg or pg-pool to bastion's typed errors, keeping the driver error as `cause`.
 * Idempotent: a bastion error comes back unchanged, and so does anything that is not a database error.
 */
export function toBastionError(error: unknown, context: ErrorContext = {}): unknown {
  if (error instanceof BastionError || !isErrorLike(error)) return error;
  const driverError = unwrapDriverError(error);
  const fields = driverError as DriverErrorFields;
  const code = typeof fields.code === 'string' ? fields.code : undefined;

  if (code !== undefined && isSqlState(code) && typeof fields.severity === 'string') {
    return fromSqlState(code, fields, driverError);
  }
  if (driverError.message === POOL_TIMEOUT_MESSAGE) {
    return new PoolExhaustedError(context.pool, context.connectionTimeoutMs, { cause: driverError });
  }
  if (driverError.message === CONNECT_TIMEOUT_MESSAGE) {
    // The new connection waited for the SSH tunnel (reconnecting, or the bastion could not reach the database).
    const cause = (driverError as { cause?: unknown }).cause;
    if (cause instanceof TunnelError) {
      return new TunnelError(
        `No connection through the SSH tunnel within ${context.connectionTimeoutMs ?? 'the'} ms connection timeout ` +
          `(DB_POOL_CONNECTION_TIMEOUT_MS): ${cause.message}`,
        { cause: driverError },
      );
    }
    return new ConnectionError(
      `Could not connect to PostgreSQL within ${context.connectionTimeoutMs ?? 'the'} ms connection timeout: ` +
        'the server (or the SSH tunnel to it) is unreachable or too slow. Check DB_HOST/DB_PORT and the network, ' +
        'or raise DB_POOL_CONNECTION_TIMEOUT_MS.',
      'ETIMEDOUT',
      { cause: driverError },
    );
  }
  if (code !== undefined && SOCKET_ERROR_CODES.has(code)) {
    return new ConnectionError(`Could not reach PostgreSQL (${code}): ${driverError.message}`, code, {
      cause: driverError,
    });
  }
  if (driverError.name === 'QueryRunnerAlreadyReleasedError') {
    // TypeORM releases a runner by itself when its connection emits an error (the backend died, the network broke).
    return new ConnectionError(
      'The connection this work was using is gone: it broke and was discarded, so the query was not sent. ' +
        'A transaction on it did not commit.',
      undefined,
      { cause: driverError },
    );
  }
  if (/^Connection terminated/.test(driverError.message)) {
    return new ConnectionError(
      `The database connection was closed while in use (${driverError.message}); the server restarted, ` +
        'the network or tunnel broke, or the backend was terminated.',
      undefined,
      { cause: driverError },
    );
  }
  if (driverError !== error) {
    // A TypeORM QueryFailedError around something else: keep the driver's error, drop the parameters it carries.
    return new QueryError(driverError.message, code, { cause: driverError });
  }
  return error;
}

/** TypeORM wraps driver errors in `QueryFailedError` (which also carries the parameters we must not keep). */
function unwrapDriverError(error: Error): Error {
  const inner = (error as { driverError?: unknown }).driverError;
  return isErrorLike(inner) ? inner : error;
}

/** Socket errors come from Node's own realm, where `instanceof Error` fails inside vm sandboxes (jest). */
function isErrorLike(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

function isSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code);
}

/**
 * The driver's message, minus the values it echoes: data exceptions (SQLSTATE class 22) quote the offending input
 * ("invalid input syntax for type integer: \"…\""), which is a query parameter and may be anything, a secret
 * included. Identifiers and type names elsewhere stay.
 */
export function withoutEchoedValues(code: string | undefined, message: string): string {
  return code?.startsWith('22') ? message.replace(/"(?:[^"]|"")*"/g, '(value withheld)') : message;
}

function fromSqlState(code: string, fields: DriverErrorFields, cause: Error): QueryError {
  fields = { ...fields, message: withoutEchoedValues(code, fields.message) };
  const info = constraintInfo(fields);
  const where = describeConstraint(info);
  const options = { cause };
  switch (code) {
    case '23505':
      return new UniqueViolationError(
        `Unique constraint ${where} violated: a row with the same key already exists [23505].`,
        code,
        info,
        options,
      );
    case '23503':
      return new ForeignKeyViolationError(
        `Foreign key ${where} violated: the referenced row does not exist, or it is still referenced [23503].`,
        code,
        info,
        options,
      );
    case '23502':
      return new NotNullViolationError(
        `Column ${info.table ? `${info.table}.` : ''}${info.columns[0] ?? '?'} must not be null [23502].`,
        code,
        info,
        options,
      );
    case '23514':
      return new CheckViolationError(`Check constraint ${where} rejected the row [23514].`, code, info, options);
    case '40001':
      return new SerializationFailureError(
        `Could not serialize access due to concurrent updates [40001]; re-run the transaction (TransactionOptions.retries).`,
        code,
        options,
      );
    case '40P01':
      return new DeadlockError(
        `Deadlock detected; PostgreSQL aborted this transaction [40P01]. Re-run it (TransactionOptions.retries), ` +
          'and take locks in a consistent order.',
        code,
        options,
      );
    case '57014':
      return new QueryTimeoutError(
        `The statement was cancelled (${fields.message}) [57014]: it ran longer than the statement or transaction ` +
          'timeout (DB_STATEMENT_TIMEOUT_MS, TransactionOptions.timeoutMs), or it was cancelled.',
        code,
        options,
      );
    case '25006':
      return new ReadOnlyTransactionError(
        `Cannot write in a read-only transaction (${fields.message}) [25006]; drop readOnly: true for this work.`,
        code,
        options,
      );
    case '57P01':
    case '57P02':
    case '57P03':
      return new ConnectionError(
        `The database server is shutting down, restarting or not accepting connections yet (${fields.message}) [${code}].`,
        code,
        options,
      );
    case '53300':
      return new ConnectionError(
        `The database server has no free connection slots (${fields.message}) [53300]: lower DB_POOL_MAX across ` +
          'processes or raise max_connections.',
        code,
        options,
      );
    case '28P01':
    case '28000':
      return new ConnectionError(
        `PostgreSQL refused the login (${fields.message}) [${code}]: check DB_USER and DB_PASSWORD (or DATABASE_URL).`,
        code,
        options,
      );
    case '3D000':
      return new ConnectionError(
        `${fields.message} [3D000]: create it, or fix DB_NAME (or the path of DATABASE_URL).`,
        code,
        options,
      );
    default:
      if (code.startsWith('08')) {
        return new ConnectionError(`Connection failure (${fields.message}) [${code}].`, code, options);
      }
      return new QueryError(`${fields.message} [${code}]${typeof fields.hint === 'string' ? ` Hint: ${fields.hint}` : ''}`, code, options);
  }
}

function constraintInfo(fields: DriverErrorFields): ConstraintInfo {
  const constraint = typeof fields.constraint === 'string' ? fields.constraint : undefined;
  const table = typeof fields.table === 'string' ? fields.table : undefined;
  const columns: string[] = [];
  if (typeof fields.column === 'string') columns.push(fields.column);
  // "Key (a, b)=(…) already exists." — only the column list is kept, never the values.
  const keyColumns = typeof fields.detail === 'string' ? /^Key \(([^)]*)\)=/.exec(fields.detail) : null;
  if (keyColumns?.[1]) columns.push(...keyColumns[1].split(',').map((c) => c.trim().replace(/^"|"$/g, '')));
  return { constraint, table, columns };
}

function describeConstraint(info: ConstraintInfo): string {
  const name = info.constraint ? `"${info.constraint}"` : '(unnamed)';
  const on = info.table ? ` on ${info.table}${info.columns.length ? ` (${info.columns.join(', ')})` : ''}` : '';
  return `${name}${on}`;
}
