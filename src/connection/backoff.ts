/** The first reconnect waits about this long; each failed attempt doubles it, up to the cap. */
export const RECONNECT_BASE_DELAY_MS = 200;

/**
 * Delay before reconnect attempt `attempt` (1, 2, …): exponential, capped at `maxDelayMs`, with "equal jitter"
 * (half fixed, half random) so a fleet of processes that lost the same bastion does not come back in lockstep,
 * while no attempt ever follows the previous one immediately.
 */
export function reconnectDelayMs(attempt: number, maxDelayMs: number, random: () => number = Math.random): number {
  return jitteredBackoffMs(attempt, RECONNECT_BASE_DELAY_MS, maxDelayMs, random);
}

/** Exponential backoff from `baseMs`, doubling per attempt up to `maxMs`, with equal jitter (between half and all of it). */
export function jitteredBackoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
