import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullmqQueueStats } from '../../src/adapters/metrics/bullmq-queue-stats.js';
import { PromMetrics } from '../../src/adapters/metrics/prom-metrics.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-metrics-${randomUUID().slice(0, 8)}`;
const connection = { url: REDIS_URL };

describe('BullmqQueueStats (real Redis)', () => {
  let q: Queue;
  let other: Queue;
  beforeAll(() => {
    q = new Queue('default', { connection, prefix });
    other = new Queue('backtest', { connection, prefix });
  });
  afterAll(async () => {
    await q.obliterate({ force: true });
    await other.obliterate({ force: true });
    await q.close();
    await other.close();
  });

  it('reports waiting, prioritized, delayed counts and the oldest waiting age per queue', async () => {
    const now = Date.now();
    await q.add('run', {}, { timestamp: now - 42_000 });
    await q.add('run', {});
    await q.add('run', {}, { priority: 5 });
    await q.add('run', {}, { delay: 60_000 });
    const stats = new BullmqQueueStats([q, other], { now: () => new Date(now) });
    const snap = await stats.snapshot();
    expect(snap).toEqual([
      {
        queue: 'default',
        waiting: 2,
        prioritized: 1,
        delayed: 1,
        active: 0,
        oldestWaitingSeconds: expect.closeTo(42, 0),
      },
      { queue: 'backtest', waiting: 0, prioritized: 0, delayed: 0, active: 0, oldestWaitingSeconds: 0 },
    ]);

    const m = new PromMetrics({ processDefaults: false, queueStats: stats });
    const body = (await m.exposition()).body;
    expect(body).toContain('jobplane_queue_jobs{queue="default",state="waiting"} 2');
    expect(body).toContain('jobplane_queue_jobs{queue="default",state="prioritized"} 1');
    expect(body).toContain('jobplane_queue_jobs{queue="default",state="delayed"} 1');
    expect(body).toContain('jobplane_queue_jobs{queue="backtest",state="active"} 0');
    expect(body).toMatch(/jobplane_queue_oldest_waiting_seconds\{queue="default"\} 4[12]/);
  });
});
