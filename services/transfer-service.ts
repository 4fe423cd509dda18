import { Account, Currency } from '../entities/account';
import { Transfer } from '../entities/transfer';
import { AccountRepository } from '../repositories/account-repository';
import { TransferRepository } from '../repositories/transfer-repository';
import { DeadlockError, NotFoundError, runOnRollback, SerializationFailureError, Transactional, ValidationError } from '../src';
import { AuditService } from './audit-service';
import { InsufficientFundsError } from './errors';
import { assertAmount, toCents } from './money';

/** A request to move money. */
export interface TransferRequest {
  readonly from: number;
  readonly to: number;
  readonly amount: string;
  readonly actor?: string;
}

/** What became of each payout of a batch. */
export type PayoutResult = { readonly to: number; readonly ok: true; readonly transfer: Transfer } | { readonly to: number; readonly ok: false; readonly error: Error };

/** Moves money between accounts: every step of a transfer commits together or not at all. */
export class TransferService {
  constructor(
    private readonly accounts = new AccountRepository(),
    private readonly transfers = new TransferRepository(),
    private readonly audit = new AuditService(),
  ) {}

  /**
   * Debits, credits, records the Transfer and its AuditEvent atomically, at SERIALIZABLE, re-run on a
   * serialization failure or deadlock. Insufficient funds, an unknown account or a bad amount throw a typed error
   * and write nothing of the transfer; the failed attempt still leaves an audit event (REQUIRES_NEW, after the rollback).
   */
  @Transactional({ isolation: 'SERIALIZABLE', retries: 10 })
  async transfer(request: TransferRequest): Promise<Transfer> {
    try {
      return await this.move(request);
    } catch (error) {
      if (!(error instanceof SerializationFailureError || error instanceof DeadlockError)) {
        // Once the transaction has rolled back and its connection is free, the attempt is audited in a transaction
        // of its own (REQUIRES_NEW); a failing audit write is logged by the hook runner and never hides this error.
        runOnRollback(() =>
          this.audit.recordFailure(request.actor ?? 'system', 'transfer.failed', {
            from: request.from,
            to: request.to,
            amount: request.amount,
            reason: error instanceof Error ? error.name : 'unknown',
          }),
        );
      }
      throw error;
    }
  }

  /**
   * Pays several accounts from one: each payout runs in its own savepoint (NESTED), so a failing one (unknown
   * account, not enough money left) is rolled back alone and reported, and the others commit together.
   */
  @Transactional()
  async payMany(from: number, payouts: readonly { to: number; amount: string }[], actor = 'payroll'): Promise<PayoutResult[]> {
    const results: PayoutResult[] = [];
    for (const payout of payouts) {
      try {
        results.push({ to: payout.to, ok: true, transfer: await this.payout({ from, ...payout, actor }) });
      } catch (error) {
        results.push({ to: payout.to, ok: false, error: error as Error });
      }
    }
    await this.audit.record(actor, 'payouts.completed', { from, paid: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length });
    return results;
  }

  /** Opens an account with an opening balance, audited in the same transaction. */
  @Transactional()
  async openAccount(ownerId: number, currency: Currency, openingBalance = '0.00', actor = 'system'): Promise<Account> {
    const account = await this.accounts.create({ ownerId, currency, balance: openingBalance });
    await this.audit.record(actor, 'account.opened', { account: account.id, ownerId, currency, openingBalance });
    return account;
  }

  @Transactional({ propagation: 'NESTED' })
  private payout(request: TransferRequest): Promise<Transfer> {
    return this.move(request);
  }

  /** The steps of a transfer; runs in whatever transaction its caller opened. */
  private async move({ from, to, amount, actor = 'system' }: TransferRequest): Promise<Transfer> {
    assertAmount(amount);
    if (from === to) {
      throw new ValidationError('transfer', [{ property: 'to', constraints: { notSameAccount: 'to must be another account than from' } }]);
    }
    // Both rows locked in id order: transfers over the same accounts queue up instead of deadlocking.
    const locked = await this.accounts.lockInOrder([from, to]);
    const source = locked.find((a) => a.id === from);
    const target = locked.find((a) => a.id === to);
    if (!source) throw new NotFoundError('Account', from);
    if (!target) throw new NotFoundError('Account', to);
    if (source.currency !== target.currency) {
      throw new ValidationError('transfer', [
        { property: 'to', constraints: { sameCurrency: `to holds ${target.currency}, from holds ${source.currency}: convert first` } },
      ]);
    }
    if (toCents(source.balance) < toCents(amount)) throw new InsufficientFundsError(from, source.balance, amount);
    await this.accounts.adjustBalance(from, `-${amount}`);
    await this.accounts.adjustBalance(to, amount);
    const transfer = await this.transfers.create({ fromAccountId: from, toAccountId: to, amount });
    await this.audit.record(actor, 'transfer.completed', { transfer: transfer.id, from, to, amount });
    return transfer;
  }
}
