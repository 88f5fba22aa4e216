import { Redis } from 'ioredis';
import type { CancelBus } from '../../ports/cancel-bus.port.js';
import type { HealthCheck } from '../../ports/health.port.js';

/** A connection suitable for BullMQ (blocking commands must not time out). */
export function createRedis(url: string, name: string): Redis {
  const r = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    lazyConnect: false,
  });
  r.on('error', () => undefined);
  return r;
}

/**
 * Redis must answer and must not evict keys: with any policy but `noeviction` Redis may silently
 * drop queued jobs under memory pressure (BullMQ "going to production").
 */
export function redisHealthCheck(redis: Redis): HealthCheck {
  return {
    name: 'redis',
    async check() {
      const pong = await redis.ping();
      if (pong !== 'PONG') return `PING answered ${pong}`;
      const res = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const policy = res[1];
      if (policy !== 'noeviction')
        return `maxmemory-policy is '${policy ?? 'unknown'}'; it must be 'noeviction'`;
      return null;
    },
  };
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
