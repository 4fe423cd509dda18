import type { QueryRunner } from 'typeorm';
import { ConnectionError } from '../errors/connection-errors';
import { toBastionError } from '../errors/sqlstate';

/**
 * Returns a runner's connection to the pool, or discards it when `error` says the connection itself broke
 * (TypeORM's `release()` takes no error, so pg-pool would otherwise hand the dead socket to the next caller
 * before noticing it closed). Ending the client first makes pg-pool remove it instead of idling it.
 */
export async function releaseRunner(runner: QueryRunner, error?: unknown): Promise<void> {
  if (error !== undefined && !runner.isReleased && toBastionError(error) instanceof ConnectionError) {
    const client = (await runner.connect().catch(() => undefined)) as { end?: () => Promise<void> } | undefined;
    client?.end?.().catch(() => undefined);
  }
  await runner.release();
}

/** Runs `fn` with `runner`, then releases it, or discards its connection when `fn` failed because it broke. */
export async function usingRunner<R>(runner: QueryRunner, fn: (runner: QueryRunner) => Promise<R>): Promise<R> {
  let failure: unknown;
  try {
    return await fn(runner);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await releaseRunner(runner, failure);
  }
}
