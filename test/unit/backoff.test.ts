import { RECONNECT_BASE_DELAY_MS, reconnectDelayMs } from '../../src/connection/backoff';

describe('SSH tunnel: reconnect backoff', () => {
  it('doubles from the base delay and never exceeds the cap', () => {
    const top = (attempt: number, cap = 30_000) => reconnectDelayMs(attempt, cap, () => 1);
    expect([1, 2, 3, 4, 5].map((a) => top(a))).toEqual([1, 2, 4, 8, 16].map((f) => f * RECONNECT_BASE_DELAY_MS));
    expect(top(30)).toBe(30_000);
    expect(top(1000, 5000)).toBe(5000);
  });

  it('jitters each delay between half and all of its ceiling', () => {
    expect(reconnectDelayMs(3, 30_000, () => 0)).toBe(2 * RECONNECT_BASE_DELAY_MS);
    expect(reconnectDelayMs(3, 30_000, () => 0.5)).toBe(3 * RECONNECT_BASE_DELAY_MS);
    const delays = Array.from({ length: 200 }, () => reconnectDelayMs(20, 10_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(10_000);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });
});
