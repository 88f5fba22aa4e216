import { Redis } from 'ioredis';
import type { CancelBus } from '../../ports/cancel-bus.port.js';
import { withTimeout, type HealthCheck } from '../../ports/health.port.js';

/** Command timeout of fail-fast connections when none is given (REDIS_COMMAND_TIMEOUT_MS's default). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;

export interface RedisOptions {
  /** Request paths (API): give up on a command instead of waiting for Redis to come back. */
  readonly failFast?: boolean;
  /** With `failFast`: reject any command not answered within this many ms (a frozen Redis). */
  readonly commandTimeoutMs?: number;
  /** Connection errors are reported here, at most one every 10 s. */
  readonly onError?: (err: Error) => void;
}

/** A connection suitable for BullMQ (blocking commands must not time out). */
export function createRedis(url: string, name: string, opts: RedisOptions = {}): Redis {
  const r = new Redis(url, {
    // Workers block on Redis and must wait it out; request paths (API) fail fast instead of hanging:
    // a few reconnect retries for a dropped connection, a command timeout for a silent server.
    maxRetriesPerRequest: opts.failFast ? 2 : null,
    ...(opts.failFast ? { commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS } : {}),
    enableReadyCheck: true,
    connectionName: name,
    lazyConnect: false,
  });
  // ioredis emits `error` on every failed reconnect: report the first of a burst, not each one.
  let lastLogged = 0;
  r.on('error', (err: Error) => {
    const now = Date.now();
    if (!opts.onError || now - lastLogged < 10_000) return;
    lastLogged = now;
    opts.onError(err);
  });
  return r;
}

/**
 * Redis must answer within `timeoutMs`, must not evict keys (with any policy but `noeviction` Redis
 * may silently drop queued jobs under memory pressure: BullMQ "going to production") and must have
 * memory left: at `maxmemory` with `noeviction` every write fails, so no job can be enqueued or
 * started although Redis still answers PING.
 */
export function redisHealthCheck(redis: Redis, timeoutMs = 1500): HealthCheck {
  return {
    name: 'redis',
    check: () =>
      withTimeout(
        () =>
          checkRedis(redis).catch((err: unknown) => {
            // a fail-fast connection's own command timeout fired first: the same finding
            if (err instanceof Error && err.message === 'Command timed out') {
              return `no answer within ${redis.options.commandTimeout ?? timeoutMs} ms`;
            }
            throw err;
          }),
        timeoutMs,
        `no answer within ${timeoutMs} ms`,
      ),
  };
}

/** `field:value` lines of an INFO section. */
function infoField(info: string, field: string): number | null {
  const m = new RegExp(`^${field}:(\\d+)\\s*$`, 'm').exec(info);
  return m?.[1] === undefined ? null : Number(m[1]);
}

async function checkRedis(redis: Redis): Promise<string | null> {
  const [pong, res, info] = await Promise.all([
    redis.ping(),
    redis.config('GET', 'maxmemory-policy') as Promise<string[]>,
    redis.info('memory'),
  ]);
  if (pong !== 'PONG') return `PING answered ${pong}`;
  const policy = res[1];
  if (policy !== 'noeviction') return `maxmemory-policy is '${policy ?? 'unknown'}'; it must be 'noeviction'`;
  const used = infoField(info, 'used_memory');
  const max = infoField(info, 'maxmemory');
  if (used !== null && max !== null && max > 0 && used >= max)
    return `out of memory: used_memory ${used} ≥ maxmemory ${max} with noeviction; no job can be enqueued`;
  return null;
}

/** The eviction-policy problem of a reachable Redis (null when fine or unreachable). */
export async function redisPolicyProblem(redis: Redis, ms = 3000): Promise<string | null> {
  return withTimeout(
    async () => {
      const res = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const policy = res[1];
      return policy === undefined || policy === 'noeviction'
        ? null
        : `Redis maxmemory-policy is '${policy}'; it must be 'noeviction' (BullMQ loses jobs under eviction)`;
    },
    ms,
    null,
  ).catch(() => null);
}

/** Cancel notifications over Redis pub/sub; the channel is namespaced by the queue prefix. */
export class RedisCancelBus implements CancelBus {
  private readonly channel: string;

  constructor(
    private readonly publisher: Redis,
    private readonly url: string,
    prefix: string,
  ) {
    this.channel = `${prefix}:jobplane:cancel`;
  }

  async publish(jobId: string): Promise<void> {
    await this.publisher.publish(this.channel, jobId);
  }

  async subscribe(listener: (jobId: string) => void): Promise<() => Promise<void>> {
    const sub = new Redis(this.url, { connectionName: 'jobplane-cancel-sub' });
    sub.on('error', () => undefined);
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) listener(message);
    });
    await sub.subscribe(this.channel);
    return async () => {
      await sub.quit().catch(() => undefined);
    };
  }
}
