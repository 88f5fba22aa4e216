import { describe, expect, it } from 'vitest';
import { backoffDelayMs, decideAfterFailure } from '../../../src/domain/retry-policy.js';

const policy = { baseDelayMs: 1000, maxDelayMs: 10_000 };

describe('retry policy', () => {
  it('caps the delay at base·2^(attempt-1) with full jitter', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(1, policy, () => 0.999999)).toBe(1000);
    expect(backoffDelayMs(2, policy, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(2000);
  });

  it('never exceeds maxDelayMs', () => {
    expect(backoffDelayMs(30, policy, () => 0.9999999)).toBeLessThanOrEqual(10_000);
    expect(backoffDelayMs(10_000, policy, () => 0.9999999)).toBeLessThanOrEqual(10_000);
  });

  it('is deterministic for a given random source', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const a = [1, 2, 3, 4].map((n) => backoffDelayMs(n, policy, rnd));
    seed = 42;
    const b = [1, 2, 3, 4].map((n) => backoffDelayMs(n, policy, rnd));
    expect(a).toEqual(b);
  });

  it('clamps out-of-range random values', () => {
    expect(backoffDelayMs(1, policy, () => -1)).toBe(0);
    expect(backoffDelayMs(1, policy, () => 5)).toBe(1000);
  });

  it('rejects a non-positive attempt', () => {
    expect(() => backoffDelayMs(0, policy, () => 0)).toThrow(/'attempt' \(0\) must be an integer ≥ 1/);
  });

  it('retries while attempts remain and the error is retryable', () => {
    expect(decideAfterFailure(1, 3, true, policy, () => 0.5)).toEqual({ action: 'retry', delayMs: 500 });
    expect(decideAfterFailure(3, 3, true, policy, () => 0.5)).toEqual({ action: 'dead_letter' });
    expect(decideAfterFailure(1, 3, false, policy, () => 0.5)).toEqual({ action: 'dead_letter' });
  });
});
