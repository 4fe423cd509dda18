import { Transfer } from '../entities/transfer';
import { BaseRepository } from '../src';

/** Transfers. Custom query: an account's history, in either direction, newest first. */
export class TransferRepository extends BaseRepository<Transfer> {
  constructor() {
    super(Transfer);
  }

  /** The latest transfers from or to an account, newest first. */
  historyOf(accountId: number, limit = 50): Promise<Transfer[]> {
    return this.run(() =>
      this.repository
        .createQueryBuilder('transfer')
        .where('transfer.fromAccountId = :accountId OR transfer.toAccountId = :accountId', { accountId })
        .orderBy('transfer.createdAt', 'DESC')
        .addOrderBy('transfer.id', 'DESC')
        .limit(Math.min(Math.max(Math.trunc(limit), 1), 500))
        .getMany(),
    );
  }
}
