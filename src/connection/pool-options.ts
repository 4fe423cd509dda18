import type { Duplex } from 'node:stream';
import type { ClientBase, PoolConfig } from 'pg';
import type { DatabaseConfig } from '../config/load-config';

/** Makes the socket of one new pooled connection (the SSH tunnel hands out its channels this way). */
export type StreamFactory = () => Duplex;

/**
 * The node-postgres pool options (TypeORM's `extra`) for a configuration: every pool knob, and the session
 * settings that travel in the startup packet (no extra round trip) or run once per new connection.
 */
export function poolOptions(config: DatabaseConfig, stream?: StreamFactory): PoolConfig {
  const { pool, session } = config;
  const options: PoolConfig = {
    max: pool.max,
    min: pool.min,
    idleTimeoutMillis: pool.idleTimeoutMs,
    connectionTimeoutMillis: pool.connectionTimeoutMs,
    maxUses: pool.maxUses === 0 ? Infinity : pool.maxUses,
    maxLifetimeSeconds: pool.maxLifetimeSeconds,
    application_name: session.applicationName,
    keepAlive: true,
  };
  if (session.statementTimeoutMs > 0) options.statement_timeout = session.statementTimeoutMs;
  if (session.lockTimeoutMs > 0) options.lock_timeout = session.lockTimeoutMs;
  if (session.idleInTransactionTimeoutMs > 0) {
    options.idle_in_transaction_session_timeout = session.idleInTransactionTimeoutMs;
  }
  const sessionSql = session.sessionSql;
  if (sessionSql !== undefined) {
    // pg-pool runs this before handing the new connection out; if it fails, the acquire fails with its error.
    options.onConnect = (client: ClientBase) => client.query(sessionSql).then(() => undefined);
  }
  if (stream) options.stream = stream;
  return options;
}
