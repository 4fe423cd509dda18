import type { StreamFactory } from './pool-options';

/** The tunnel's lifecycle, as `health()` and the logs show it. */
export type TunnelState =
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'ready'; readonly since: Date }
  | { readonly state: 'reconnecting'; readonly attempt: number; readonly nextAttemptInMs: number }
  | { readonly state: 'closed' };

/** What `health()` reports about the SSH tunnel. */
export interface TunnelHealth {
  readonly status: TunnelState;
  readonly bastion: string;
  readonly reconnects: number;
  readonly openChannels: number;
  readonly lastError: string | undefined;
}

/**
 * How the pool's connections reach PostgreSQL: directly, or through the SSH tunnel. The data source opens it
 * before the pool and closes it after the pool, so nothing outlives the other.
 */
export interface Transport {
  /** Makes each pooled connection's socket; absent for a direct TCP connection. */
  readonly stream: StreamFactory | undefined;
  open(): Promise<void>;
  close(): Promise<void>;
  health(): TunnelHealth | undefined;
}

/** Plain TCP from the pool to the database. */
export const DIRECT_TRANSPORT: Transport = Object.freeze({
  stream: undefined,
  open: async () => undefined,
  close: async () => undefined,
  health: () => undefined,
});
