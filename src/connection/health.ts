import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PoolSnapshot } from '../errors/connection-errors';
import type { TunnelHealth } from './transport';

/** What `db.health()` returns: never throws, so it can back a liveness probe. */
export interface HealthReport {
  /** A round trip to PostgreSQL succeeded. */
  readonly ok: boolean;
  /** Time for that round trip, including waiting for a pooled connection. */
  readonly latencyMs: number;
  readonly pool: PoolSnapshot;
  /** Absent when the database is reached without an SSH tunnel. */
  readonly tunnel: TunnelHealth | undefined;
  /** `user@host:port/name`, never with the password. */
  readonly target: string;
  /** Why `ok` is false. */
  readonly error?: string;
}

/** The pg-pool under a TypeORM postgres DataSource (its `master` pool), once initialized. */
export function pgPool(dataSource: DataSource): Pool | undefined {
  return (dataSource.driver as { master?: Pool }).master;
}

/** Pool counters from pg-pool's public getters; zeros before the pool exists. */
export function poolSnapshot(dataSource: DataSource, max: number): PoolSnapshot {
  const pool = dataSource.isInitialized ? pgPool(dataSource) : undefined;
  return {
    max,
    total: pool?.totalCount ?? 0,
    idle: pool?.idleCount ?? 0,
    waiting: pool?.waitingCount ?? 0,
  };
}
