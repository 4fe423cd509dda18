import { createHash } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import type { Output } from './output';

/** A session-level advisory lock that serializes migration runners of one database (and migrations table). */
export interface MigrationLock {
  /** Waits for the lock; calls `onWait` once with the holder's pid if another runner has it. */
  acquire(onWait: (holderPid: number | undefined) => void): Promise<void>;
  release(): Promise<void>;
}

/** The lock's 64-bit key: derived from the migrations table's name, so the stock TypeORM table and ours agree. */
export function migrationLockKey(migrationsTable: string): string {
  const digest = createHash('sha256').update(`bastion:migrations:${migrationsTable}`).digest();
  return (digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn).toString(); // non-negative: pg_locks shows it as two oids
}

/** The lock, held on `runner`'s session (the same connection that then runs the migrations). */
export function migrationLock(runner: QueryRunner, migrationsTable: string): MigrationLock {
  const key = migrationLockKey(migrationsTable);
  return {
    async acquire(onWait) {
      const [tried] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key])) as { locked: boolean }[];
      if (tried?.locked) return;
      const [holder] = (await runner.query(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
        [key],
      )) as { pid: number }[];
      onWait(holder?.pid);
      await runner.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    },
    async release() {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    },
  };
}

/**
 * Runs `work` and then releases `lock`. A failure to release never replaces the work's own error: it is reported,
 * and the lock goes away anyway when the CLI's connection closes.
 */
export async function withLockHeld<R>(lock: MigrationLock, out: Output, work: () => Promise<R>): Promise<R> {
  let result: R;
  try {
    result = await work();
  } catch (error) {
    await lock.release().catch((releaseError: unknown) => out.warn(`Could not release the migration lock: ${String(releaseError)}`));
    throw error;
  }
  await lock.release();
  return result;
}
