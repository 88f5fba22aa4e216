import { describe, expect, it } from 'vitest';
import { generateSecret, nextDeliveryAttempt, normalizeSecret } from '../../../src/domain/events.js';

describe('subscription secrets', () => {
  it('accepts whsec_ secrets of at least 32 bytes and wraps plain ones', () => {
    const s = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    expect(normalizeSecret(s)).toEqual({ secret: s });
    const plain = 'p'.repeat(32);
    expect(normalizeSecret(plain)).toEqual({ secret: `whsec_${Buffer.from(plain).toString('base64')}` });
  });

  it('refuses short or malformed secrets, naming the field', () => {
    expect(normalizeSecret('p'.repeat(31))).toEqual({ error: "'secret' must be at least 32 bytes (got 31)" });
    expect(normalizeSecret(`whsec_${Buffer.alloc(24).toString('base64')}`)).toEqual({
      error: "'secret' must be at least 32 bytes (got 24)",
    });
    expect(normalizeSecret('whsec_***')).toEqual({ error: "'secret' must be 'whsec_' followed by base64" });
  });

  it('generates 32 random bytes', () => {
    const a = generateSecret();
    expect(Buffer.from(a.slice(6), 'base64').length).toBe(32);
    expect(generateSecret()).not.toBe(a);
  });
});

describe('delivery backoff', () => {
  const policy = { baseMs: 5000, maxDelayMs: 3_600_000, giveUpSeconds: 86_400 };
  const t0 = new Date('2026-01-01T00:00:00Z');

  it('doubles with equal jitter, capped', () => {
    const at = (attempt: number, r: number) =>
      nextDeliveryAttempt(policy, attempt, t0, t0, r)!.getTime() - t0.getTime();
    expect(at(1, 0)).toBe(2500);
    expect(at(1, 0.999999)).toBeCloseTo(5000, -1);
    expect(at(3, 0)).toBe(10_000);
    expect(at(30, 0)).toBe(1_800_000);
    expect(at(30, 0.999999)).toBeCloseTo(3_600_000, -2);
  });

  it('retries for about a day, then gives up', () => {
    let now = t0;
    let attempts = 0;
    for (;;) {
      attempts++;
      const next = nextDeliveryAttempt(policy, attempts, t0, now, 0.5);
      if (!next) break;
      now = next;
    }
    const hours = (now.getTime() - t0.getTime()) / 3_600_000;
    expect(hours).toBeGreaterThan(22);
    expect(hours).toBeLessThanOrEqual(24);
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(60);
  });
});
