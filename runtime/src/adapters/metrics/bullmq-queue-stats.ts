import type { Queue } from 'bullmq';
import type pg from 'pg';
import type { Clock } from '../../ports/clock.port.js';
import type { QueueSnapshot, QueueStats } from '../../ports/queue-stats.port.js';

/** Age in seconds of the oldest waiting job per queue name (absent = none waiting). */
export type OldestWaiting = (queues: readonly string[]) => Promise<ReadonlyMap<string, number>>;

/**
 * Oldest waiting job per queue from PostgreSQL, the authoritative state: the earliest `run_at`
 * of queued jobs that are due. BullMQ cannot answer this cheaply: Jobplane publishes every job
 * with a priority, so waiting jobs sit in the `prioritized` sorted set ordered by priority, not age.
 * Uses the `jobs_active` partial index (queued/running rows only).
 */
export function postgresOldestWaiting(pool: pg.Pool): OldestWaiting {
  return async (queues) => {
    const res = await pool.query<{ queue: string; age: number }>(
      `SELECT queue, EXTRACT(EPOCH FROM (now() - min(run_at)))::float8 AS age
         FROM jobs
        WHERE state = 'queued' AND run_at <= now() AND queue = ANY($1::text[])
        GROUP BY queue`,
      [queues],
    );
    return new Map(res.rows.map((r) => [r.queue, Math.max(0, r.age)]));
  };
}

/**
 * Queue depth from BullMQ (`getJobCounts` for the four backlog states) and the oldest waiting
 * age from `oldestWaiting` when given, else from the head of BullMQ's waiting list (accurate only
 * for jobs published without a priority).
 */
export class BullmqQueueStats implements QueueStats {
  constructor(
    private readonly queues: readonly Queue[],
    private readonly clock: Clock,
    private readonly oldestWaiting?: OldestWaiting,
  ) {}

  async snapshot(): Promise<QueueSnapshot[]> {
    const [counts, ages] = await Promise.all([
      Promise.all(this.queues.map((q) => q.getJobCounts('waiting', 'prioritized', 'delayed', 'active'))),
      this.oldestWaiting
        ? this.oldestWaiting(this.queues.map((q) => q.name))
        : Promise.all(this.queues.map(async (q) => [q.name, await this.waitListAge(q)] as const)).then(
            (e) => new Map(e),
          ),
    ]);
    return this.queues.map((q, i) => {
      const c = counts[i] ?? {};
      return {
        queue: q.name,
        waiting: c.waiting ?? 0,
        prioritized: c.prioritized ?? 0,
        delayed: c.delayed ?? 0,
        active: c.active ?? 0,
        oldestWaitingSeconds: ages.get(q.name) ?? 0,
      };
    });
  }

  private async waitListAge(queue: Queue): Promise<number> {
    const [job] = await queue.getJobs(['waiting'], 0, 0, true);
    if (!job) return 0;
    // A delayed job enters the waiting list when its delay ends, not when it was added.
    return Math.max(0, (this.clock.now().getTime() - (job.timestamp + (job.delay ?? 0))) / 1000);
  }
}
