import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { FailureCounter } from '../../../src/adapters/http/failure-counter.js';

/** A Redis whose MULTI never answers (a frozen server), or fails. */
function brokenRedis(mode: 'frozen' | 'error'): Redis {
  const chain = {
    set: () => chain,
    incr: () => chain,
    pttl: () => chain,
    exec: () =>
      mode === 'frozen' ? new Promise(() => undefined) : Promise.reject(new Error('ECONNREFUSED')),
  };
  return { multi: () => chain } as unknown as Redis;
}

describe('FailureCounter', () => {
  it('blocks an address after `limit` failures until the window ends; other addresses are not affected', async () => {
    let now = 1_000_000;
    const c = new FailureCounter({ limit: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) expect(await c.fail('a')).toBe(0);
    expect(c.blockedFor('a')).toBe(0);
    expect(await c.fail('a')).toBe(60);
    expect(c.blockedFor('a')).toBe(60);
    expect(c.blockedFor('b')).toBe(0);
    now += 30_000;
    expect(c.blockedFor('a')).toBe(30);
    now += 30_001;
    expect(c.blockedFor('a')).toBe(0);
    // a new window starts from zero
    expect(await c.fail('a')).toBe(0);
  });

  it.each(['frozen', 'error'] as const)(
    'counts in process when Redis is %s (never fails open)',
    async (mode) => {
      const c = new FailureCounter({
        limit: 2,
        windowMs: 60_000,
        redis: brokenRedis(mode),
        redisTimeoutMs: 20,
      });
      expect(await c.fail('x')).toBe(0);
      expect(await c.fail('x')).toBe(0);
      expect(await c.fail('x')).toBeGreaterThan(0);
      expect(c.blockedFor('x')).toBeGreaterThan(0);
      // a frozen Redis would leave these awaits pending forever: the timeout is what lets them resolve
    },
  );

  it('keeps a bounded number of addresses in memory', async () => {
    const c = new FailureCounter({ limit: 1, windowMs: 60_000 });
    for (let i = 0; i < 10_050; i++) await c.fail(`10.0.${i >> 8}.${i & 255}`);
    const local = (c as unknown as { local: Map<string, unknown> }).local;
    expect(local.size).toBeLessThanOrEqual(10_000);
  });

  it('refuses invalid settings, naming them', () => {
    expect(() => new FailureCounter({ limit: 0, windowMs: 1 })).toThrow(/'limit'.*0/);
    expect(() => new FailureCounter({ limit: 1, windowMs: 1.5 })).toThrow(/'windowMs'.*1.5/);
  });
});
