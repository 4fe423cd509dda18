import { BastionError, BastionErrorOptions, QueryError } from './bastion-error';

/** The SSH tunnel could not be opened, or broke and has not come back yet. */
export class TunnelError extends BastionError {}

/** The SSH server presented a host key that is not the pinned or known one; nothing was sent to it. */
export class HostKeyMismatchError extends TunnelError {
  /** The fingerprint the server presented, `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly presentedFingerprint: string;
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, presentedFingerprint: string, expected: string) {
    super(
      `Host key verification failed for ${host}:${port}: the server presented ${presentedFingerprint}, ` +
        `which does not match ${expected}. If you trust this server, pin it with ` +
        `SSH_HOST_KEY=${presentedFingerprint} (or add it to the SSH_KNOWN_HOSTS file); ` +
        `if you did not expect the key to change, do not connect.`,
    );
    this.presentedFingerprint = presentedFingerprint;
    this.host = host;
    this.port = port;
  }
}

/** `Database.current()` (or a repository) was used before `Database.connect()` resolved, or after `close()`. */
export class DatabaseNotConnectedError extends BastionError {
  constructor(name: string) {
    const which = name === 'default' ? '' : `('${name}')`;
    super(
      `Database${which ? ` ${which}` : ''} is not connected: call \`await Database.connect(${
        name === 'default' ? '' : `{ name: '${name}' }`
      })\` at startup, before using repositories, transactions or Database.current${which ? which : '()'}.`,
    );
  }
}

/** The database could not be reached, or the connection broke (SQLSTATE class 08, 57P01–57P03, socket errors). */
export class ConnectionError extends QueryError {}

/** Pool counters at the moment a request for a connection gave up. */
export interface PoolSnapshot {
  readonly max: number;
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** No pooled connection became free within the connection timeout; the request was not queued forever. */
export class PoolExhaustedError extends BastionError {
  readonly pool: PoolSnapshot | undefined;
  readonly timeoutMs: number | undefined;

  constructor(pool: PoolSnapshot | undefined, timeoutMs: number | undefined, options?: BastionErrorOptions) {
    const counts = pool
      ? `all ${pool.total} of ${pool.max} connections were busy and ${pool.waiting} other request(s) were waiting`
      : 'all connections were busy';
    const wait = timeoutMs === undefined ? '' : ` within ${timeoutMs} ms (DB_POOL_CONNECTION_TIMEOUT_MS)`;
    super(
      `No database connection became available${wait}: ${counts}. Raise DB_POOL_MAX, make transactions shorter, ` +
        `or look for connections that are never released (a REQUIRES_NEW call inside a transaction needs a second connection).`,
      options,
    );
    this.pool = pool;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The connection broke while COMMIT was in flight: the transaction may or may not have been committed.
 * Check the data (or use an idempotency key) before retrying.
 */
export class CommitUnknownError extends ConnectionError {
  constructor(options?: BastionErrorOptions) {
    super(
      'The connection was lost while the transaction was committing: it is unknown whether the commit took effect. ' +
        'Verify the outcome in the database (or make the operation idempotent) before retrying.',
      undefined,
      options,
    );
  }
}
