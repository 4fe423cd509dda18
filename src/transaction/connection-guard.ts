import type { AfterQueryEvent, BeforeQueryEvent, DataSource, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { QueryTimeoutError } from '../errors/query-errors';
import { UnawaitedWorkError } from '../errors/transaction-errors';
import type { PhysicalTransaction } from './transaction-scope';

const transactions = new WeakMap<QueryRunner, PhysicalTransaction>();
const guarded = new WeakSet<DataSource>();

/**
 * A TypeORM subscriber that sees every query of a transaction's connection before and after it runs: it counts
 * queries in flight (so un-awaited work is detected when the function returns), refuses work once the transaction
 * is finishing or timed out, and records the command tag of our own COMMIT. No TypeORM code is patched.
 */
class QueryGuard implements EntitySubscriberInterface {
  beforeQuery(event: BeforeQueryEvent): void {
    const tx = event.queryRunner ? transactions.get(event.queryRunner) : undefined;
    if (!tx || event.query === tx.internalStatement) return;
    if (tx.phase !== 'active') {
      throw new UnawaitedWorkError(
        `A query was issued on transaction ${tx.id} after its function returned; it was refused and did not run. ` +
          'Await every query inside the transactional function.',
      );
    }
    if (tx.timedOut) {
      throw new QueryTimeoutError(`Transaction ${tx.id} ran past its timeout and is being rolled back; no further work runs in it.`, '57014');
    }
    tx.inFlight++;
  }

  afterQuery(event: AfterQueryEvent): void {
    const tx = event.queryRunner ? transactions.get(event.queryRunner) : undefined;
    if (!tx) return;
    if (event.query === tx.internalStatement) {
      tx.lastCommand = (event.rawResults as { command?: string } | undefined)?.command;
      return;
    }
    tx.inFlight--;
  }
}

/** Watches `tx`'s connection until `release` is called; installs the guard on its data source once. */
export function guard(dataSource: DataSource, tx: PhysicalTransaction): () => void {
  if (!guarded.has(dataSource)) {
    guarded.add(dataSource);
    dataSource.subscribers.push(new QueryGuard());
  }
  transactions.set(tx.runner, tx);
  return () => {
    transactions.delete(tx.runner);
  };
}
