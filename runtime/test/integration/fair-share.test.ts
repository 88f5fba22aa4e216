/**
 * The fair-share tags of a fair queue (docs/flow-control.md, Fairness) against real Redis: each
 * client's tags increase, a newcomer starts at the queue's virtual time, a reset clears the state,
 * and tags past BullMQ's largest priority are clamped.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { FairShare, MAX_FAIR_TAG } from '../../src/adapters/bullmq/fair-share.js';
import { REDIS_URL } from './helpers.js';

const prefix = `jpt-fair-${randomBytes(4).toString('hex')}`;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const fair = new FairShare(redis, prefix);

afterAll(async () => {
  const keys = await redis.keys(`{${prefix}:flow}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('FairShare', () => {
  it("keeps each client's order and starts a newcomer where the queue is being served", async () => {
    expect(await fair.tags('q', ['a', 'a', 'a', 'a'], true)).toEqual([1, 2, 3, 4]);
    // Workers started A's first two jobs.
    await fair.advance('q', 1);
    await fair.advance('q', 2);
    // A stale (lower) start never moves virtual time back.
    await fair.advance('q', 1);
    // B arrives: right after the served point, interleaved with A's remaining 3 and 4.
    expect(await fair.tags('q', ['b', 'b', 'a', 'b'], false)).toEqual([3, 4, 5, 5]);
    // Another queue has its own state.
    expect(await fair.tags('other', ['b'], false)).toEqual([1]);
  });

  it('starts over after a reset (the queue was empty)', async () => {
    await fair.advance('q', 50);
    expect(await fair.tags('q', ['c'], false)).toEqual([51]);
    expect(await fair.tags('q', ['a', 'c'], true)).toEqual([1, 1]);
  });

  it("clamps tags to BullMQ's largest priority", async () => {
    await fair.advance('big', MAX_FAIR_TAG + 10);
    expect(await fair.tags('big', ['a', 'a'], false)).toEqual([MAX_FAIR_TAG, MAX_FAIR_TAG]);
    expect(await fair.tags('big', [], false)).toEqual([]);
  });
});
