import { invalidState, jobNotFound } from '../domain/errors.js';
import type { Job } from '../domain/job.entity.js';
import { ACTIVE_STATES, RETRYABLE_BY_CLIENT } from '../domain/job-state.js';
import type { CancelBus } from '../ports/cancel-bus.port.js';
import type { JobQueue } from '../ports/job-queue.port.js';
import type { JobCommands } from '../ports/job-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import { isJobId } from './query-jobs.use-case.js';

export interface JobControls {
  /** queued | running → cancelled; a running handler's abort signal fires. Idempotent on cancelled jobs. */
  cancel(clientId: string, id: string): Promise<Job>;
  /** failed | dead_lettered | cancelled → queued with a fresh attempt budget. */
  retry(clientId: string, id: string): Promise<Job>;
}

export interface JobControlDeps {
  readonly store: JobCommands;
  readonly cancelBus: CancelBus;
  readonly queue: JobQueue | null;
  readonly logger: Logger;
}

export function createJobControls(deps: JobControlDeps): JobControls {
  return {
    async cancel(clientId, id) {
      const res = isJobId(id) ? await deps.store.cancel(clientId, id) : null;
      if (!res) throw jobNotFound(id);
      if (!res.changed && res.job.state !== 'cancelled')
        throw invalidState(id, res.job.state, 'cancel', ACTIVE_STATES);
      if (res.changed) {
        // The PostgreSQL write already fenced the attempt; the signal makes the handler stop early.
        for (const jobId of [id, ...res.cancelledChildren]) {
          await deps.cancelBus.publish(jobId).catch((err: unknown) => {
            deps.logger.warn(
              { err, jobId },
              'cancel notification failed; the handler runs until its next write',
            );
          });
        }
        await deps.queue?.discard(res.job.queue, id).catch(() => undefined);
      }
      return res.job;
    },
    async retry(clientId, id) {
      const res = isJobId(id) ? await deps.store.retry(clientId, id) : null;
      if (!res) throw jobNotFound(id);
      if (!res.changed) throw invalidState(id, res.job.state, 'retry', RETRYABLE_BY_CLIENT);
      return res.job;
    },
  };
}
