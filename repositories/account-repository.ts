import { Account } from '../entities/account';
import { BaseRepository, NotFoundError, ValidationError } from '../src';

/** A signed amount with at most two decimals, as a string. */
const SIGNED_MONEY = /^-?\d{1,18}(\.\d{1,2})?$/;

/** Accounts. Custom queries: an atomic balance change, and the totals per currency. */
export class AccountRepository extends BaseRepository<Account> {
  constructor() {
    super(Account);
  }

  /**
   * Adds `delta` (a signed decimal string such as "-12.50") to the balance in one UPDATE and returns the new
   * balance; the version moves on. A balance that would go negative is refused by the database's CHECK
   * (`CheckViolationError`, nothing written); an unknown account is a `NotFoundError`.
   */
  async adjustBalance(id: number, delta: string): Promise<string> {
    if (!SIGNED_MONEY.test(delta)) {
      throw new ValidationError('Account balance change', [
        { property: 'delta', constraints: { isDecimal: 'delta must be a signed amount with at most 2 decimals, as a string' } },
      ]);
    }
    const result = await this.run(() =>
      this.repository
        .createQueryBuilder()
        .update()
        .set({ balance: () => 'balance + CAST(:delta AS numeric)' })
        .where('id = :id', { id, delta })
        .returning(['balance'])
        .execute(),
    );
    const row = (result.raw as { balance: string }[])[0];
    if (!row) throw new NotFoundError('Account', id);
    return row.balance;
  }

  /**
   * Locks the given accounts (SELECT … FOR UPDATE) in id order and returns them, so that transfers touching the
   * same accounts queue instead of deadlocking. Joins the ambient transaction, where the locks are held until it ends.
   */
  async lockInOrder(ids: readonly number[]): Promise<Account[]> {
    return this.run(() =>
      this.repository
        .createQueryBuilder('account')
        .setLock('pessimistic_write')
        .where('account.id IN (:...ids)', { ids: [...new Set(ids)] })
        .orderBy('account.id', 'ASC')
        .getMany(),
    );
  }

  /** The sum of all balances per currency, exact (numeric, summed by PostgreSQL). */
  async totals(): Promise<Record<string, string>> {
    const rows = await this.run(() =>
      this.manager.query<{ currency: string; total: string }[]>(
        'SELECT currency, sum(balance)::text AS total FROM accounts GROUP BY currency ORDER BY currency',
      ),
    );
    return Object.fromEntries(rows.map((r) => [r.currency, r.total]));
  }
}
