import type { StreamFactory } from './pool-options';

/**
 * The tunnel's lifecycle, as `health()` and the logs show it. `connecting` is an SSH handshake in progress
 * (attempt 1 at `open()`, later attempts after a drop); `reconnecting` is the backoff wait before the next attempt;
 * `failed` means the bastion refused us for good (authentication, host key) and the tunnel stopped retrying.
 */
export type TunnelState =
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'ready'; readonly since: Date }
  | { readonly state: 'reconnecting'; readonly attempt: number; readonly nextAttemptInMs: number }
  | { readonly state: 'failed'; readonly since: Date; readonly reason: string }
  | { readonly state: 'closed' };

/** What `health()` reports about the SSH tunnel. */
export interface TunnelHealth {
  readonly status: TunnelState;
  readonly bastion: string;
  /** Successful reconnections since `open()`. */
  readonly reconnects: number;
  /** Forwarded channels open now: one per pooled connection. */
  readonly openChannels: number;
  /** The most recent SSH failure (kept after recovery), never containing a secret. */
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
