import type { Redis } from 'ioredis';

/**
 * Fair share between the clients of a queue (docs/flow-control.md), as BullMQ priorities computed
 * by start-time fair queuing: every job gets a tag `max(last tag of its client, V) + 1`, where V,
 * the queue's virtual time, is the largest tag a worker has started. BullMQ runs the lowest tag
 * first, so each client's jobs stay in order, and a client arriving while another has a long
 * backlog is placed at the point being served: the two alternate instead of the newcomer waiting
 * for the whole backlog. One hash per queue holds V and the clients' last tags; it is cleared when
 * the queue has nothing waiting or delayed, which keeps tags small.
 */

/** BullMQ's largest priority; a tag beyond it is clamped (those jobs fall back to FIFO among themselves). */
export const MAX_FAIR_TAG = 2 ** 21 - 1;

/** KEYS: the queue's hash; ARGV: reset ('1' | '0'), then one client id per job, in order. */
const TAGS = `
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) end
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local last = {}
local out = {}
for i = 2, #ARGV do
  local c = ARGV[i]
  local prev = last[c]
  if prev == nil then prev = tonumber(redis.call('HGET', KEYS[1], 'c:' .. c) or '0') end
  local tag = math.max(prev, v) + 1
  last[c] = tag
  out[#out + 1] = tag
end
for c, tag in pairs(last) do redis.call('HSET', KEYS[1], 'c:' .. c, tag) end
return out`;

/** KEYS: the queue's hash; ARGV: the tag of a job that starts. */
const ADVANCE = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local t = tonumber(ARGV[1])
if t > v then redis.call('HSET', KEYS[1], 'v', t) end
return 1`;

export class FairShare {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keyOf(queue: string): string {
    return `{${this.prefix}:flow}:fair:${queue}`;
  }

  /** Tags (BullMQ priorities) for jobs of `clients`, in order. `reset`: the queue is empty. */
  async tags(queue: string, clients: readonly string[], reset: boolean): Promise<number[]> {
    if (clients.length === 0) return [];
    const out = (await this.redis.eval(
      TAGS,
      1,
      this.keyOf(queue),
      reset ? '1' : '0',
      ...clients,
    )) as number[];
    return out.map((t) => Math.min(MAX_FAIR_TAG, Number(t)));
  }

  /** A job with this tag started: the queue's virtual time moves up to it. */
  async advance(queue: string, tag: number): Promise<void> {
    if (!Number.isInteger(tag) || tag < 1) return;
    await this.redis.eval(ADVANCE, 1, this.keyOf(queue), tag);
  }
}
