import type { Redis } from 'ioredis';

/**
 * A store for @fastify/rate-limit whose counts live in Redis (one fixed window per key, shared by
 * every API replica) but which does not ask Redis on every request: each process leases tokens
 * from the shared counter (`INCRBY n`) and spends them locally.
 *
 * - A key's first lease in a window is 1 token, and each further lease in the same window doubles,
 *   up to `max / 64` (at least 1). A client sending a request now and then costs one Redis call
 *   per request, as before; a busy client one call per up to `max / 64` requests.
 * - Leased tokens are numbered by the shared counter: a request whose token is above `max` is
 *   refused, so all replicas together never admit more than `max` in a window. The price is the
 *   other direction: tokens a replica leased and did not spend before the window ends are lost,
 *   at most `replicas × max / 64` per window (1.6 % of the budget per replica).
 * - Once a lease comes back above `max`, the process refuses the key until the window ends
 *   without asking Redis again.
 * - A Redis error fails the request's `incr` (the plugin's `skipOnError` then lets it through, as
 *   with the plugin's own Redis store); the next request tries again.
 */
const LEASE_SCRIPT = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {current, ttl}
`;

const READ_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(current), ttl}
`;

/** Leases of one key in one process: tokens `next … last` of the shared counter are ours. */
interface Lease {
  /** When the shared window ends (epoch ms). */
  windowEnd: number;
  next: number;
  last: number;
  /** Size of the next lease. */
  size: number;
  /** A lease in flight: requests arriving meanwhile wait for it. */
  pending: Promise<void> | null;
}

type Result = { current: number; ttl: number };
type Callback = (err: Error | null, res?: Result) => void;

type LeaseRedis = Redis & {
  jobplaneRateLease(key: string, n: number, windowMs: number): Promise<[number, number]>;
  jobplaneRateRead(key: string): Promise<[number, number]>;
};

/** Most tokens one lease takes for a limit of `max` per window. */
export function maxLeaseSize(max: number): number {
  return Math.max(1, Math.floor(max / 64));
}

export class LeasedRedisStore {
  private readonly leases = new Map<string, Lease>();
  private readonly redis: LeaseRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {
    const r = redis as LeaseRedis;
    if (typeof r.jobplaneRateLease !== 'function') {
      redis.defineCommand('jobplaneRateLease', { numberOfKeys: 1, lua: LEASE_SCRIPT });
      redis.defineCommand('jobplaneRateRead', { numberOfKeys: 1, lua: READ_SCRIPT });
    }
    this.redis = r;
  }

  /** Redis calls made so far (tests). */
  calls = 0;

  incr(key: string, cb: Callback, timeWindow: number, max: number): void {
    this.take(key, timeWindow, max).then(
      (res) => cb(null, res),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  read(key: string, cb: Callback): void {
    this.calls++;
    this.redis.jobplaneRateRead(this.prefix + key).then(
      ([current, ttl]) => cb(null, { current: Number(current), ttl: Number(ttl) }),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** A route with its own limit counts under its own keys, as the plugin's stores do. */
  child(routeOptions: object): LeasedRedisStore {
    // The plugin passes the route's merged limit options with `routeInfo` (its typings say
    // RouteOptions); the plugin's own Redis store keys by the same method and URL.
    const info = (routeOptions as { routeInfo?: { method?: string; url?: string } }).routeInfo;
    return new LeasedRedisStore(
      this.redis,
      `${this.prefix}${info?.method ?? ''}${info?.url ?? ''}-`,
      this.now,
    );
  }

  private async take(key: string, timeWindow: number, max: number): Promise<Result> {
    for (;;) {
      const now = this.now();
      let lease = this.leases.get(key);
      if (lease && lease.windowEnd <= now && !lease.pending) {
        this.leases.delete(key);
        lease = undefined;
      }
      if (lease && lease.windowEnd > now) {
        if (lease.next <= lease.last) {
          const current = lease.next++;
          return { current, ttl: lease.windowEnd - now };
        }
        // Refused until the window ends: the shared counter is past the limit.
        if (lease.last >= max) return { current: lease.last + 1, ttl: lease.windowEnd - now };
      }
      if (lease?.pending) {
        await lease.pending;
        continue;
      }
      this.sweep(now);
      const entry: Lease = lease ?? { windowEnd: 0, next: 1, last: 0, size: 1, pending: null };
      const size = Math.min(entry.size, maxLeaseSize(max));
      entry.pending = this.lease(key, entry, size, timeWindow);
      this.leases.set(key, entry);
      try {
        await entry.pending;
      } finally {
        entry.pending = null;
      }
    }
  }

  private async lease(key: string, entry: Lease, size: number, timeWindow: number): Promise<void> {
    this.calls++;
    const [total, ttl] = await this.redis.jobplaneRateLease(this.prefix + key, size, timeWindow);
    entry.windowEnd = this.now() + Number(ttl);
    entry.next = Number(total) - size + 1;
    entry.last = Number(total);
    entry.size = Math.min(entry.size * 2, 1 << 20);
  }

  /** Forgets keys whose window is over, so idle clients do not accumulate (at most every 10 s). */
  private lastSweep = 0;
  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [k, l] of this.leases) if (l.windowEnd <= now && !l.pending) this.leases.delete(k);
  }
}

/** The constructor @fastify/rate-limit's `store` option takes (it calls `new Store(options)`). */
export function leasedRedisStore(redis: Redis, prefix: string): new () => LeasedRedisStore {
  return class extends LeasedRedisStore {
    constructor() {
      super(redis, prefix);
    }
  };
}
