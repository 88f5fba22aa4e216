import type { Redis } from 'ioredis';
import type { Logger } from '../../ports/logger.port.js';

export interface FailureCounterOptions {
  /** Failures per window an address may have; the next one blocks it until the window ends. */
  readonly limit: number;
  readonly windowMs: number;
  /** Shared counts across API replicas; without it (or while it fails) counts are per process. */
  readonly redis?: Redis;
  readonly redisPrefix?: string;
  /** Longest wait for Redis before counting in process instead. Default 200 ms. */
  readonly redisTimeoutMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** Entries kept in process (counts and blocks); the oldest go first beyond it. */
const MAX_TRACKED = 10_000;

/**
 * Fixed-window counter of failed authentications per source address. Counting is shared through
 * Redis (`<prefix>:authfail:<address>`, one key per failing address, expiring with its window);
 * the resulting block is remembered in process, so a blocked address costs no Redis call, and a
 * Redis that fails or does not answer in time falls back to counting in process (never fails open).
 */
export class FailureCounter {
  private readonly local = new Map<string, { count: number; resetAt: number }>();
  private readonly blocked = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: FailureCounterOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1)
      throw new Error(`FailureCounter: 'limit' must be a positive integer, got ${opts.limit}`);
    if (!Number.isInteger(opts.windowMs) || opts.windowMs < 1)
      throw new Error(`FailureCounter: 'windowMs' must be a positive integer, got ${opts.windowMs}`);
    this.now = opts.now ?? Date.now;
  }

  /** Seconds the address remains blocked (0 = not blocked). */
  blockedFor(address: string): number {
    const until = this.blocked.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left <= 0) {
      this.blocked.delete(address);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  /** Records one failure; returns the seconds the address is now blocked for (0 = still allowed). */
  async fail(address: string): Promise<number> {
    const { count, ttlMs } = (await this.countInRedis(address)) ?? this.countLocally(address);
    if (count <= this.opts.limit) return 0;
    const ttl = Math.max(1, ttlMs);
    remember(this.blocked, address, this.now() + ttl);
    return Math.ceil(ttl / 1000);
  }

  private countLocally(address: string): { count: number; ttlMs: number } {
    const now = this.now();
    const entry = this.local.get(address);
    if (!entry || entry.resetAt <= now) {
      remember(this.local, address, { count: 1, resetAt: now + this.opts.windowMs });
      return { count: 1, ttlMs: this.opts.windowMs };
    }
    entry.count++;
    return { count: entry.count, ttlMs: entry.resetAt - now };
  }

  private async countInRedis(address: string): Promise<{ count: number; ttlMs: number } | null> {
    const redis = this.opts.redis;
    if (!redis) return null;
    const key = `${this.opts.redisPrefix ?? 'jobplane'}:authfail:${address}`;
    let timer: NodeJS.Timeout | undefined;
    try {
      const res = await Promise.race([
        redis.multi().set(key, '0', 'PX', this.opts.windowMs, 'NX').incr(key).pttl(key).exec(),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), this.opts.redisTimeoutMs ?? 200);
        }),
      ]);
      if (!res) throw new Error('Redis did not answer in time');
      const [, [incrErr, count], [, ttl]] = res as [unknown, [Error | null, number], [unknown, number]];
      if (incrErr) throw incrErr;
      return { count, ttlMs: ttl > 0 ? ttl : this.opts.windowMs };
    } catch (err) {
      this.opts.logger?.warn(
        { err },
        'failed-authentication counter: Redis unavailable, counting in process',
      );
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
