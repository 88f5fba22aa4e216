import { Redis } from 'ioredis';
import type { CancelBus } from '../../ports/cancel-bus.port.js';
import type { HealthCheck } from '../../ports/health.port.js';

/** A connection suitable for BullMQ (blocking commands must not time out). */
export function createRedis(url: string, name: string, opts: { failFast?: boolean } = {}): Redis {
  const r = new Redis(url, {
    // Workers block on Redis and must wait it out; request paths (API) fail fast instead of hanging.
    maxRetriesPerRequest: opts.failFast ? 2 : null,
    enableReadyCheck: true,
    connectionName: name,
    lazyConnect: false,
  });
  r.on('error', () => undefined);
  return r;
}

/** Runs `fn`, or resolves `onTimeout` after `ms` (a dependency that hangs is not ready). */
export async function withTimeout<T>(fn: () => Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Redis must answer and must not evict keys: with any policy but `noeviction` Redis may silently
 * drop queued jobs under memory pressure (BullMQ "going to production").
 */
export function redisHealthCheck(redis: Redis): HealthCheck {
  return {
    name: 'redis',
    check: () => withTimeout(() => checkRedis(redis), 2000, 'no answer within 2 s'),
  };
}

async function checkRedis(redis: Redis): Promise<string | null> {
  const pong = await redis.ping();
  if (pong !== 'PONG') return `PING answered ${pong}`;
  const res = (await redis.config('GET', 'maxmemory-policy')) as string[];
  const policy = res[1];
  if (policy !== 'noeviction') return `maxmemory-policy is '${policy ?? 'unknown'}'; it must be 'noeviction'`;
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
