import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { FairShare } from './fair-share.js';
import type {
  JobQueue,
  QueueMessage,
  QueueMessageKind,
  QueueMessageState,
} from '../../ports/job-queue.port.js';
import { startPublishSpans } from '../tracing/job-spans.js';

/** BullMQ job data: ids, and what flow control needs (docs/flow-control.md). PostgreSQL holds the payload and the state. */
export interface MessageData {
  readonly jobId: string;
  readonly kind: QueueMessageKind;
  readonly attempt: number;
  readonly requestId: string | null;
  /** Flow control (docs/flow-control.md): absent on messages of jobs without it. */
  readonly type?: string;
  readonly clientId?: string;
  readonly flowKey?: string;
  readonly flowLimit?: number;
  /** W3C trace context of the relay's publish span; the worker's attempt span is its child. */
  readonly traceparent?: string | null;
}

/** Custom backoff type; the worker's strategy reads the delay the retry policy chose. */
export const BACKOFF_TYPE = 'jobplane';
/**
 * BullMQ's attempt counter is not the budget (PostgreSQL's is): the processor dead-letters with
 * an UnrecoverableError. This only has to stay above any real attempt count.
 */
export const BULLMQ_ATTEMPTS = 10_000;

/**
 * Queue job id. A run message uses the job id itself so re-publishing is a no-op; an aggregate
 * step has its own id per parent attempt. Job ids are UUIDs: never all digits, never a colon.
 */
export function bullJobId(kind: QueueMessageKind, jobId: string, attempt: number): string {
  return kind === 'run' ? jobId : `${jobId}-agg-${attempt}`;
}

/** Jobplane priority (-1000..1000, higher first) → BullMQ priority (1..2001, lower first). */
export function bullPriority(priority: number): number {
  return 1001 - Math.max(-1000, Math.min(1000, priority));
}

export interface BullMqQueueOptions {
  readonly connection: Redis;
  readonly prefix: string;
  readonly retentionCount: number;
  /** Queues whose jobs are ordered by fair share between clients instead of priority. */
  readonly fairQueues?: ReadonlySet<string>;
}

export class BullMqJobQueue implements JobQueue {
  private readonly queues = new Map<string, Queue>();
  private readonly fair: FairShare;

  constructor(private readonly opts: BullMqQueueOptions) {
    this.fair = new FairShare(opts.connection, opts.prefix);
  }

  /** Fair-share tags of a fair queue's messages (null for other queues). */
  private async fairTags(name: string, list: readonly QueueMessage[]): Promise<number[] | null> {
    if (!this.opts.fairQueues?.has(name)) return null;
    const c = await this.queue(name).getJobCounts('waiting', 'prioritized', 'delayed');
    const empty = (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) === 0;
    return this.fair.tags(
      name,
      list.map((m) => m.clientId ?? ''),
      empty,
    );
  }

  queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.opts.connection, prefix: this.opts.prefix });
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  async publish(messages: readonly QueueMessage[]): Promise<void> {
    const byQueue = new Map<string, QueueMessage[]>();
    for (const m of messages) {
      const list = byQueue.get(m.queue) ?? [];
      list.push(m);
      byQueue.set(m.queue, list);
    }
    const now = Date.now();
    for (const [name, list] of byQueue) {
      const q = this.queue(name);
      const tags = await this.fairTags(name, list);
      const spans = startPublishSpans(name, list);
      await spans.run(async () => {
        for (const m of list.filter((x) => x.replace)) {
          // A re-run (RetryJob, reconciler) must not be swallowed by a finished message with the same id.
          const old = await q.getJob(bullJobId(m.kind, m.jobId, m.attempt));
          if (old && ((await old.isCompleted()) || (await old.isFailed())))
            await old.remove().catch(() => undefined);
        }
        await q.addBulk(
          list.map((m, i) => {
            const traceparent = spans.traceparents[i];
            const data: MessageData = {
              jobId: m.jobId,
              kind: m.kind,
              attempt: m.attempt,
              requestId: m.requestId,
              ...(m.type !== undefined ? { type: m.type } : {}),
              ...(m.clientId !== undefined ? { clientId: m.clientId } : {}),
              ...(m.flowKey !== undefined ? { flowKey: m.flowKey } : {}),
              ...(m.flowLimit !== undefined ? { flowLimit: m.flowLimit } : {}),
              ...(traceparent ? { traceparent } : {}),
            };
            const opts: JobsOptions = {
              jobId: bullJobId(m.kind, m.jobId, m.attempt),
              delay: Math.max(0, m.runAt.getTime() - now),
              priority: tags ? tags[i]! : bullPriority(m.priority),
              attempts: BULLMQ_ATTEMPTS,
              backoff: { type: BACKOFF_TYPE },
              removeOnComplete: { count: this.opts.retentionCount },
              removeOnFail: { count: this.opts.retentionCount },
            };
            return { name: m.kind, data, opts };
          }),
        );
      });
    }
  }

  async inspect(
    queue: string,
    kind: QueueMessageKind,
    jobId: string,
    attempt: number,
  ): Promise<QueueMessageState> {
    const q = this.queue(queue);
    const id = bullJobId(kind, jobId, attempt);
    const state = await q.getJobState(id);
    if (state === 'unknown') return { present: false };
    if (state === 'completed' || state === 'failed') {
      const job = await q.getJob(id);
      return { present: true, finished: true, failedReason: job?.failedReason ?? null };
    }
    return { present: true, finished: false };
  }

  async discard(queue: string, jobId: string): Promise<void> {
    const job = await this.queue(queue).getJob(jobId);
    if (job && ((await job.isWaiting()) || (await job.isDelayed())))
      await job.remove().catch(() => undefined);
  }

  /** Waiting + prioritized + delayed + active counts (used by tests and health). */
  async counts(queue: string): Promise<Record<string, number>> {
    return this.queue(queue).getJobCounts(
      'waiting',
      'prioritized',
      'delayed',
      'active',
      'completed',
      'failed',
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

/**
 * Queue depths refreshed in the background (one Redis round trip per queue per interval), so the
 * submit path reads a number instead of calling Redis.
 */
export class CachedBacklog {
  private readonly depths = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly queue: BullMqJobQueue,
    private readonly queues: readonly string[],
    private readonly intervalMs = 1000,
  ) {}

  depth(name: string): number | null {
    return this.depths.get(name) ?? null;
  }

  async refresh(): Promise<void> {
    for (const name of this.queues) {
      const c = await this.queue.queue(name).getJobCounts('waiting', 'prioritized', 'delayed');
      this.depths.set(name, (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0));
    }
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.refresh()
          .catch(() => undefined)
          .finally(() => {
            if (this.timer) tick();
          });
      }, this.intervalMs);
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
