import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeasedRedisStore, maxLeaseSize } from '../../src/adapters/http/edge/leased-rate-store.js';
import { REDIS_URL } from '../support/edge-harness.js';

type Result = { current: number; ttl: number };

function incr(store: LeasedRedisStore, key: string, windowMs: number, max: number): Promise<Result> {
  return new Promise((resolve, reject) =>
    store.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), windowMs, max),
  );
}

/** Requests admitted: those whose token is within the limit, as @fastify/rate-limit decides. */
async function admitted(store: LeasedRedisStore, key: string, n: number, windowMs: number, max: number) {
  const results = await Promise.all(Array.from({ length: n }, () => incr(store, key, windowMs, max)));
  return results.filter((r) => r.current <= max).length;
}

describe('LeasedRedisStore: shared per-window counts, leased in chunks (real Redis)', () => {
  let redis: Redis;
  const prefix = `test-lease-${randomUUID()}:`;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('a quiet client costs one Redis call per request and is refused past the limit', async () => {
    const store = new LeasedRedisStore(redis, prefix);
    const seen: Result[] = [];
    for (let i = 0; i < 5; i++) seen.push(await incr(store, 'quiet', 60_000, 3));
    expect(seen.map((r) => r.current)).toEqual([1, 2, 3, 4, 4]);
    expect(seen.every((r) => r.ttl > 0 && r.ttl <= 60_000)).toBe(true);
    // Leases are capped at max/64 = 1 token: each of the first three requests leased one. Once
    // the process holds the limit's last token, it refuses without asking Redis.
    expect(store.calls).toBe(3);
    expect(Number(await redis.get(`${prefix}quiet`))).toBe(3);
  });

  it('a busy client leases growing chunks: far fewer Redis calls than requests', async () => {
    const store = new LeasedRedisStore(redis, prefix);
    const max = 64_000;
    expect(await admitted(store, 'busy', 2_000, 60_000, max)).toBe(2_000);
    expect(store.calls).toBeLessThan(20);
    expect(store.calls).toBeGreaterThan(1);
    expect(maxLeaseSize(max)).toBe(1_000);
  });

  it('replicas share one budget and never admit more than the limit together', async () => {
    const replicas = [1, 2, 3].map(() => new LeasedRedisStore(redis, prefix));
    const max = 640;
    const perReplica = await Promise.all(replicas.map((s) => admitted(s, 'shared', 400, 60_000, max)));
    const total = perReplica.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(max);
    // Tokens leased but not spent are the only loss: at most one lease (max / 64) per replica.
    expect(total).toBeGreaterThanOrEqual(max - replicas.length * maxLeaseSize(max));
    // A fourth replica that starts now is refused at once.
    const late = new LeasedRedisStore(redis, prefix);
    const r = await incr(late, 'shared', 60_000, max);
    expect(r.current).toBeGreaterThan(max);
  });

  it('a new window starts the count again, with small leases', async () => {
    let now = 1_000_000;
    const store = new LeasedRedisStore(redis, prefix, () => now);
    const key = 'window';
    for (let i = 0; i < 3; i++) await incr(store, key, 200, 3);
    expect((await incr(store, key, 200, 3)).current).toBeGreaterThan(3);
    // Let the Redis key expire (its PEXPIRE is real time) and the local window end.
    await new Promise((res) => setTimeout(res, 300));
    now += 300;
    expect((await incr(store, key, 200, 3)).current).toBe(1);
  });

  it('a Redis error fails the call (the plugin lets the request through) and the next one retries', async () => {
    const broken = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
    broken.disconnect();
    const store = new LeasedRedisStore(broken, prefix);
    await expect(incr(store, 'down', 60_000, 10)).rejects.toThrow();
    await expect(incr(store, 'down', 60_000, 10)).rejects.toThrow();
    expect(store.calls).toBe(2);
  });
});
