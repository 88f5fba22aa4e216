import { describe, expect, it } from 'vitest';
import { publishInJobOrder } from '../../../src/application/deliver-events.use-case.js';
import type { OutboxEvent } from '../../../src/domain/events.js';

/** mulberry32, seeded: the delays are random but the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20261202;
const ev = (id: number, job: string): OutboxEvent => ({
  id: String(id),
  eventId: `e${id}`,
  topic: 'x',
  event: { subject: job },
});

function fakeBroker(random: () => number, failId: string | null) {
  const started: string[] = [];
  const acked: { id: string; job: string }[] = [];
  let open = 0;
  let maxOpen = 0;
  const publish = (e: OutboxEvent) => {
    started.push(e.id);
    open++;
    maxOpen = Math.max(maxOpen, open);
    // Acknowledged out of order: a later event may be acknowledged first.
    return new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        const later = () => {
          open--;
          if (e.id === failId) reject(new Error('nats down'));
          else {
            acked.push({ id: e.id, job: e.event.subject as string });
            resolve();
          }
        };
        if (random() < 0.5) setImmediate(later);
        else later();
      });
    });
  };
  return { publish, started, acked, maxOpen: () => maxOpen };
}

describe('publishInJobOrder', () => {
  const random = prng(SEED);
  const jobs = ['a', 'b', 'c', 'd', 'e'];
  const events = Array.from({ length: 200 }, (_, i) => ev(i + 1, jobs[Math.floor(random() * jobs.length)]!));

  it('acknowledges every event, each job in id order, with several in flight', async () => {
    const broker = fakeBroker(prng(SEED + 1), null);
    const out = await publishInJobOrder(events, broker.publish, 8);
    expect(out.failure).toBeNull();
    expect([...out.published].sort((x, y) => Number(x) - Number(y))).toEqual(events.map((e) => e.id));
    for (const job of jobs) {
      const ids = broker.acked.filter((a) => a.job === job).map((a) => Number(a.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    }
    expect(broker.maxOpen()).toBeGreaterThan(1);
    expect(broker.maxOpen()).toBeLessThanOrEqual(8);
  });

  it('stops at a failure: nothing after it of the same job is sent, the failed one is not published', async () => {
    const failed = events[60]!;
    const broker = fakeBroker(prng(SEED + 2), failed.id);
    const out = await publishInJobOrder(events, broker.publish, 8);
    expect((out.failure as Error).message).toBe('nats down');
    expect(out.published).not.toContain(failed.id);
    const job = failed.event.subject;
    const laterSameJob = events.filter((e) => Number(e.id) > Number(failed.id) && e.event.subject === job);
    for (const e of laterSameJob) expect(broker.started).not.toContain(e.id);
    // Everything before the failure of that job was acknowledged.
    for (const e of events.filter((x) => Number(x.id) < Number(failed.id) && x.event.subject === job))
      expect(out.published).toContain(e.id);
  });
});
