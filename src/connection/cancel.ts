import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { pgPool } from './health';

/** The part of a node-postgres client a cancel request needs. */
interface CancellableClient {
  readonly activeQuery: unknown;
  readonly processID: number;
}

/**
 * Asks the server to cancel the statement `client` is running, with PostgreSQL's CancelRequest on a separate
 * connection made like the pool's (so it goes through the SSH tunnel too). It needs no pooled connection, so it
 * works when the pool is exhausted. Returns false when nothing was running.
 */
export function cancelActiveQuery(dataSource: DataSource, client: unknown): boolean {
  const target = client as CancellableClient & Client;
  const pool = pgPool(dataSource);
  if (!pool || !target || !target.activeQuery) return false;
  const canceller = new Client((pool as unknown as { options: ConstructorParameters<typeof Client>[0] }).options);
  // The cancel connection reports a failure (say, the tunnel is down) as an event; it must never crash the process.
  (canceller as unknown as { connection: NodeJS.EventEmitter }).connection.on('error', () => undefined);
  (canceller as unknown as { cancel(client: Client, query: unknown): void }).cancel(target, target.activeQuery);
  return true;
}
