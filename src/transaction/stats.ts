import { Database } from '../connection/database';

/** Counters of the physical transactions a database has run since it connected. */
export interface TransactionStats {
  readonly committed: number;
  readonly rolledBack: number;
  /** Re-runs after a serialization failure or deadlock (each retry counts once; its attempt counts as rolled back). */
  readonly retries: number;
}

type Counters = { -readonly [K in keyof TransactionStats]: TransactionStats[K] };

const counters = new WeakMap<Database, Counters>();

function of(db: Database): Counters {
  let found = counters.get(db);
  if (!found) counters.set(db, (found = { committed: 0, rolledBack: 0, retries: 0 }));
  return found;
}

/** Counts one finished physical transaction. */
export function countTransaction(db: Database, committed: boolean): void {
  of(db)[committed ? 'committed' : 'rolledBack']++;
}

/** Counts one retry. */
export function countRetry(db: Database): void {
  of(db).retries++;
}

/** Transactions committed, rolled back and retried on a database (default: the unnamed one) since it connected. */
export function transactionStats(connection = 'default'): TransactionStats {
  return { ...of(Database.current(connection)) };
}
