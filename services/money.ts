import { ValidationError } from '../src';

/** A positive amount with at most two decimals, as a string ("12.50"): money never travels as a float. */
const AMOUNT = /^\d{1,18}(\.\d{1,2})?$/;

/** Cents of a decimal string, exactly. */
export function toCents(amount: string): bigint {
  const [whole, fraction = ''] = amount.replace(/^-/, '').split('.');
  const cents = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
  return amount.startsWith('-') ? -cents : cents;
}

/** A decimal string of cents: 1250n → "12.50". */
export function fromCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Checks an amount given by a caller: positive, at most two decimals, a string. */
export function assertAmount(amount: unknown, property = 'amount'): asserts amount is string {
  if (typeof amount !== 'string' || !AMOUNT.test(amount) || toCents(amount) <= 0n) {
    throw new ValidationError('transfer', [
      { property, constraints: { isPositiveAmount: `${property} must be a positive amount with at most 2 decimals, as a string such as "12.50"` } },
    ]);
  }
}
