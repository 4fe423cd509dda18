import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { pgPool } from './health';

/** The wire-protocol connection of a pg Client: enough to send a CancelRequest. */
interface ProtocolConnection {
  on(event: 'error', listener: () => void): void;
  once(event: 'connect', listener: () => void): void;
  connect(port: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
}

/**
 * Asks the server to cancel whatever statement the backend of `client` is running, with PostgreSQL's CancelRequest
 * on a separate connection made like the pool's (so it goes through the SSH tunnel too). It needs no pooled
 * connection, so it works when the pool is exhausted. The request may arrive after that statement ended and hit
 * the next one: the caller must not reuse the connection (the transaction engine discards it).
 */
export function cancelBackendQuery(dataSource: DataSource, client: unknown): void {
  const pool = pgPool(dataSource);
  const { processID, secretKey } = (client ?? {}) as { processID?: number; secretKey?: number };
  if (!pool || processID === undefined || secretKey === undefined) return;
  const canceller = new Client((pool as unknown as { options: ConstructorParameters<typeof Client>[0] }).options);
  const connection = (canceller as unknown as { connection: ProtocolConnection }).connection;
  // A failure (say, the tunnel is down) arrives as an event; it must never crash the process.
  connection.on('error', () => undefined);
  connection.once('connect', () => connection.cancel(processID, secretKey));
  const { host, port } = canceller as unknown as { host: string; port: number };
  if (host.startsWith('/')) connection.connect(`${host}/.s.PGSQL.${port}`);
  else connection.connect(port, host);
}
