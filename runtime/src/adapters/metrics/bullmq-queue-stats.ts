import type { Queue } from 'bullmq';
import type { Clock } from '../../ports/clock.port.js';
import type { QueueSnapshot, QueueStats } from '../../ports/queue-stats.port.js';

/**
 * Queue depth from BullMQ: `getJobCounts` for the four backlog states and the oldest entry of the
 * waiting list for its age. Prioritized jobs live in a sorted set ordered by priority, not age, so
 * the age covers the waiting list only (jobs submitted with priority 0 go there).
 */
export class BullmqQueueStats implements QueueStats {
  constructor(
    private readonly queues: readonly Queue[],
    private readonly clock: Clock,
  ) {}

  async snapshot(): Promise<QueueSnapshot[]> {
    return Promise.all(this.queues.map((q) => this.one(q)));
  }

  private async one(queue: Queue): Promise<QueueSnapshot> {
    const [counts, oldest] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
      queue.getJobs(['waiting'], 0, 0, true),
    ]);
    const job = oldest[0];
    // A delayed job enters the waiting list when its delay ends, not when it was added.
    const since = job ? job.timestamp + (job.delay ?? 0) : null;
    const age = since === null ? 0 : Math.max(0, (this.clock.now().getTime() - since) / 1000);
    return {
      queue: queue.name,
      waiting: counts.waiting ?? 0,
      prioritized: counts.prioritized ?? 0,
      delayed: counts.delayed ?? 0,
      active: counts.active ?? 0,
      oldestWaitingSeconds: age,
    };
  }
}
