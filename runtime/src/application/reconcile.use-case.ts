import type { QueueMessage } from '../ports/job-queue.port.js';
import type { JobQueue } from '../ports/job-queue.port.js';
import type { JobReconciliation } from '../ports/job-store.port.js';
import type { Logger } from '../ports/logger.port.js';

export interface ReconcileDeps {
  readonly store: JobReconciliation;
  readonly queue: JobQueue;
  readonly logger: Logger;
  /** Jobs changed more recently than this are left alone (the relay or a worker is on them). */
  readonly graceMs: number;
}

export interface ReconcileReport {
  readonly checked: number;
  readonly republished: number;
  readonly deadLettered: number;
}

const STALL_LIMIT = /stalled more than allowable limit|started more than allowable limit/;

/**
 * Makes Redis agree with PostgreSQL: every non-terminal job must have a live queue message.
 * Missing messages (Redis restarted empty, FLUSHALL) are re-published; a message the queue gave
 * up on because its worker kept dying is dead-lettered in PostgreSQL once its attempts are used up
 * (re-published otherwise); a stale finished message
 * is replaced. Fan-out parents whose children are all terminal get their aggregate step again.
 */
export function createReconciler(deps: ReconcileDeps): () => Promise<ReconcileReport> {
  return async () => {
    let checked = 0;
    let republished = 0;
    let deadLettered = 0;
    let after: string | null = null;
    for (;;) {
      const page = await deps.store.reconcileCandidates(deps.graceMs, after, 500);
      if (page.length === 0) break;
      const toPublish: QueueMessage[] = [];
      for (const { job, childrenDone, traceparent } of page) {
        checked++;
        after = job.id;
        // A running container job's message completed when its Kubernetes Job was created: the
        // launcher's reconciler owns it from there.
        if (job.mode === 'container' && job.state === 'running') continue;
        const waitingForChildren = job.state === 'running' && job.fanOutTotal !== null;
        if (waitingForChildren && !childrenDone) continue;
        const kind = waitingForChildren ? 'aggregate' : 'run';
        const state = await deps.queue.inspect(job.queue, kind, job.id, job.attempts);
        if (state.present && !state.finished) continue;
        const gaveUp =
          state.present && state.finished && state.failedReason && STALL_LIMIT.test(state.failedReason);
        // BullMQ gives up after MAX_STALLED_COUNT stalls, which may include jobs that merely shared a
        // worker with a crashing one; PostgreSQL's attempt budget decides: re-publish while attempts
        // remain (the next start is a take-over), dead-letter when they are used up.
        if (gaveUp && job.state === 'running' && job.attempts >= job.maxAttempts) {
          const dead = await deps.store.deadLetterAbandoned(job.id, {
            code: 'JOB.STALLED',
            message: `the queue gave up on the job: ${state.failedReason}`,
            retryable: false,
          });
          if (dead) {
            deadLettered++;
            continue;
          }
        }
        toPublish.push({
          jobId: job.id,
          queue: job.queue,
          kind,
          attempt: job.attempts,
          priority: job.priority,
          runAt: job.runAt,
          requestId: job.requestId,
          replace: state.present,
          type: job.type,
          clientId: job.clientId,
          ...(job.flowKey !== undefined ? { flowKey: job.flowKey } : {}),
          ...(job.flowLimit !== undefined ? { flowLimit: job.flowLimit } : {}),
          traceparent: traceparent ?? null,
        });
      }
      if (toPublish.length > 0) {
        await deps.queue.publish(toPublish);
        republished += toPublish.length;
      }
      if (page.length < 500) break;
    }
    if (republished > 0 || deadLettered > 0) {
      deps.logger.warn({ checked, republished, deadLettered }, 'reconciler repaired the queue');
    }
    return { checked, republished, deadLettered };
  };
}
