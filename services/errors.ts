import { BastionError } from '../src';

/** The account does not hold enough money for the transfer; nothing was written. */
export class InsufficientFundsError extends BastionError {
  constructor(
    readonly accountId: number,
    readonly balance: string,
    readonly amount: string,
  ) {
    super(`Account ${accountId} holds ${balance}, which is less than the ${amount} to transfer; nothing was moved.`);
  }
}
