import { Account } from '../entities/account';
import { Transfer } from '../entities/transfer';
import { AccountRepository } from '../repositories/account-repository';
import { TransferRepository } from '../repositories/transfer-repository';
import { Transactional } from '../src';
import { AuditService } from './audit-service';

/** One account's balance and latest movements, read from one snapshot. */
export interface Statement {
  readonly account: Account;
  readonly transfers: Transfer[];
}

/** Reads of the ledger. */
export class LedgerReports {
  constructor(
    private readonly accounts = new AccountRepository(),
    private readonly transfers = new TransferRepository(),
    private readonly audit = new AuditService(),
  ) {}

  /**
   * Balance and history from one consistent snapshot (READ ONLY, REPEATABLE READ); the view itself is audited
   * outside the read-only transaction (NOT_SUPPORTED).
   */
  @Transactional({ readOnly: true, isolation: 'REPEATABLE READ' })
  async statement(accountId: number, viewer = 'system'): Promise<Statement> {
    const account = await this.accounts.getById(accountId);
    const transfers = await this.transfers.historyOf(accountId, 20);
    await this.audit.recordAccess(viewer, 'statement.viewed', { account: accountId });
    return { account, transfers };
  }

  /** A balance as the caller's transaction sees it (SUPPORTS: joins one when there is one, else reads directly). */
  @Transactional({ propagation: 'SUPPORTS' })
  async balanceOf(accountId: number): Promise<string> {
    return (await this.accounts.getById(accountId)).balance;
  }

  /**
   * Totals per currency over committed data only: NEVER refuses to run inside a caller's unfinished transaction,
   * whose uncommitted moves would make the reconciliation lie.
   */
  @Transactional({ propagation: 'NEVER' })
  totals(): Promise<Record<string, string>> {
    return this.accounts.totals();
  }
}
