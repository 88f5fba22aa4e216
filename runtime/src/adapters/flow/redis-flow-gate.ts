import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FlowGate, RateResult, SlotRequest, SlotResult } from '../../ports/flow-gate.port.js';

/**
 * FlowGate on Redis with atomic Lua scripts and Redis's own clock (TIME), so workers with skewed
 * clocks agree. A concurrency key is a sorted set of holders scored by lease expiry: expired
 * holders are dropped before every decision, which is how the slot of a `kill -9`ed worker comes
 * back. The queue cap is a second sorted set updated in the same script. Rate limits are a sliding
 * log of start times per key (exact: never more than N in any interval). Keys share one hash tag per prefix (one cluster slot).
 */

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: key set, queue set (or ''); ARGV: holder, limit, leaseMs, queueCap (0 = none). */
const ACQUIRE = `${NOW}
local holder, limit, lease, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if cap > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local held = redis.call('ZSCORE', KEYS[1], holder)
if not held then
  if redis.call('ZCARD', KEYS[1]) >= limit then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, 'key', tonumber(first[2]) - now}
  end
  if cap > 0 and redis.call('ZCARD', KEYS[2]) >= cap then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, 'queue', tonumber(first[2]) - now}
  end
end
local exp = now + lease
redis.call('ZADD', KEYS[1], exp, holder)
redis.call('PEXPIRE', KEYS[1], lease * 2)
if cap > 0 then
  redis.call('ZADD', KEYS[2], exp, holder)
  redis.call('PEXPIRE', KEYS[2], lease * 2)
end
return {1, 'ok', exp}`;

/** KEYS: key set, queue set (or ''); ARGV: holder, leaseMs, hasQueue. */
const RENEW = `${NOW}
local holder, lease = ARGV[1], tonumber(ARGV[2])
local s = redis.call('ZSCORE', KEYS[1], holder)
if (not s) or tonumber(s) <= now then
  redis.call('ZREM', KEYS[1], holder)
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + lease, holder)
redis.call('PEXPIRE', KEYS[1], lease * 2)
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[2], now + lease, holder)
  redis.call('PEXPIRE', KEYS[2], lease * 2)
end
return 1`;

/** KEYS: key set, queue set (or ''); ARGV: holder, hasQueue. */
const RELEASE = `redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1`;

/** Sliding log: exact "at most `limit` starts in any `intervalMs`". KEYS: log; ARGV: limit, intervalMs, id. */
const RATE = `${NOW}
local limit, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - interval)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) + interval - now + 1}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], interval + 1000)
return {1, now}`;

function check(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`'${name}' (${value}) must be an integer ≥ ${min}`);
}

export class RedisFlowGate implements FlowGate {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keyOf(key: string): string {
    return `{${this.prefix}:flow}:slot:${key}`;
  }

  private queueOf(queue: string | undefined): string {
    return queue ? `{${this.prefix}:flow}:queue:${queue}` : `{${this.prefix}:flow}:queue:`;
  }

  async acquire(req: SlotRequest): Promise<SlotResult> {
    check('limit', req.limit, 1);
    check('leaseMs', req.leaseMs, 1);
    const cap = req.queue && req.queueCap !== undefined ? req.queueCap : 0;
    if (req.queue && req.queueCap !== undefined) check('queueCap', req.queueCap, 1);
    const r = (await this.redis.eval(
      ACQUIRE,
      2,
      this.keyOf(req.key),
      this.queueOf(req.queue),
      req.holder,
      req.limit,
      req.leaseMs,
      cap,
    )) as [number, string, number];
    if (r[0] === 1) return { ok: true, expiresAt: Number(r[2]) };
    return { ok: false, reason: r[1] as 'key' | 'queue', retryAfterMs: Math.max(0, Number(r[2])) };
  }

  async renew(req: SlotRequest): Promise<boolean> {
    check('leaseMs', req.leaseMs, 1);
    const r = await this.redis.eval(
      RENEW,
      2,
      this.keyOf(req.key),
      this.queueOf(req.queue),
      req.holder,
      req.leaseMs,
      req.queue && req.queueCap !== undefined ? '1' : '0',
    );
    return Number(r) === 1;
  }

  async release(req: Pick<SlotRequest, 'key' | 'queue' | 'holder'>): Promise<void> {
    await this.redis.eval(
      RELEASE,
      2,
      this.keyOf(req.key),
      this.queueOf(req.queue),
      req.holder,
      req.queue ? '1' : '0',
    );
  }

  async takeRate(key: string, limit: number, intervalMs: number): Promise<RateResult> {
    check('limit', limit, 1);
    check('intervalMs', intervalMs, 1);
    const r = (await this.redis.eval(
      RATE,
      1,
      `{${this.prefix}:flow}:rate:${key}`,
      limit,
      intervalMs,
      randomUUID(),
    )) as [number, number];
    return r[0] === 1 ? { ok: true, at: Number(r[1]) } : { ok: false, retryAfterMs: Number(r[1]) };
  }
}
