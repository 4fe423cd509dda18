import type { EntityManager } from 'typeorm';
import { ambientTransaction } from '../context/transaction-context';
import { Database } from './database';

/**
 * The one answer to "which EntityManager does work on this database use right now?": the ambient transaction's
 * (bound to its connection) when the calling async flow runs inside one, else the pool's. Resolved on every call,
 * never cached, so a repository made at import time follows transactions, reconnects and named databases.
 * Throws `DatabaseNotConnectedError` when the database is not connected.
 */
export function currentManager(connectionName = 'default'): EntityManager {
  return ambientTransaction(connectionName)?.manager ?? Database.current(connectionName).dataSource.manager;
}
