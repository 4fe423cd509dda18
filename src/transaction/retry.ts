import { setTimeout as sleep } from 'node:timers/promises';
import { jitteredBackoffMs } from '../connection/backoff';
import { QueryError } from '../errors/bastion-error';
import type { Log } from '../logging/logger';

/** Re-runs wait 5–10 ms after the first failure, doubling up to 250–500 ms: conflicts clear in milliseconds. */
const BASE_DELAY_MS = 10;
const MAX_DELAY_MS = 500;

/** Whether re-running the whole transaction may succeed: serialization failure (40001) or deadlock (40P01). */
export function isRetryable(error: unknown): boolean {
  return error instanceof QueryError && error.retryable;
}

/**
 * Runs `attempt(n)` and re-runs it after a retryable failure, up to `retries` more times, logging each retry.
 * Only outermost transactions come here: a joined call's failure belongs to the transaction it joined.
 */
export async function retrying<R>(log: Log, retries: number, attempt: (n: number) => Promise<R>, onRetry: () => void): Promise<R> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n > retries || !isRetryable(error)) throw error;
      const delayMs = jitteredBackoffMs(n, BASE_DELAY_MS, MAX_DELAY_MS);
      onRetry();
      log.info('transaction retry', {
        attempt: n + 1,
        of: retries + 1,
        delayMs,
        code: (error as QueryError).code,
        error: (error as Error).message,
      });
      await sleep(delayMs);
    }
  }
}
