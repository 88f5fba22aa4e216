import { randomUUID } from 'node:crypto';
import { CONTAINER_FAILURE, containerJobName } from '../domain/container-run.js';
import type { ContainerJobs, ContainerStore } from '../ports/container.port.js';
import { KubeApiError } from '../ports/container.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Delivery, ProcessOutcome } from './process-job.use-case.js';

export interface LaunchContainerDeps {
  readonly store: ContainerStore;
  readonly jobs: ContainerJobs;
  readonly logger: Logger;
  readonly workerId: string;
  /** Tries of one create (500s, timeouts, network errors), waiting `retryDelayMs · 2^(n-1)` between. */
  readonly createTries?: number;
  readonly retryDelayMs?: number;
  /** Delay before the queue re-delivers a launch whose creates all failed. */
  readonly redeliverDelayMs?: number;
  readonly newToken?: () => string;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One queue delivery of a container job → exactly one Kubernetes Job for its attempt.
 *
 * A queued job starts a new attempt in PostgreSQL first (fresh fencing token), then the Job is
 * created under the attempt's deterministic name. A delivery of a job that is already running
 * (the launcher died between the start and the queue acknowledgement, or a create failed) re-uses
 * the running attempt and its token: the create either makes the missing Job or gets a 409 and
 * adopts the one that exists. The queue message completes once the Job exists; from then on the
 * watcher and the reconciler drive the job.
 */
export function createContainerLauncher(deps: LaunchContainerDeps) {
  const tries = deps.createTries ?? 4;
  const baseDelay = deps.retryDelayMs ?? 200;
  const sleep = deps.sleep ?? defaultSleep;
  const newToken = deps.newToken ?? randomUUID;
  return {
    async process(delivery: Delivery): Promise<ProcessOutcome> {
      const row = await deps.store.get(delivery.jobId);
      if (!row) return { action: 'ack', reason: 'job not found' };
      if (row.mode !== 'container') return { action: 'ack', reason: `not a container job (${row.mode})` };
      let attempt: number;
      let token: string;
      let resumed = false;
      if (row.state === 'queued') {
        const started = await deps.store.start(row.id, newToken(), deps.workerId);
        if (started.status === 'skipped') return { action: 'ack', reason: started.reason };
        attempt = started.attempt;
        token = started.token;
      } else if (row.state === 'running' && row.token) {
        attempt = row.attempts;
        token = row.token;
        resumed = true;
      } else {
        return { action: 'ack', reason: `job is ${row.state}` };
      }
      const name = containerJobName(row.id, attempt, token);
      const ref = { jobId: row.id, attempt, token };
      let lastError: unknown;
      for (let n = 1; n <= tries; n++) {
        try {
          const { adopted } = await deps.jobs.launch({
            ...ref,
            name,
            type: row.type,
            payloadJson: JSON.stringify(row.payload),
          });
          await deps.store.recordEvent(ref, adopted ? 'k8s_job_adopted' : 'k8s_job_created', {
            key: name,
            name,
            resumed,
          });
          deps.logger.info({ jobId: row.id, attempt, name, adopted, resumed }, 'container job launched');
          return { action: 'ack', reason: adopted ? 'adopted' : 'created' };
        } catch (err) {
          lastError = err;
          const retryable =
            !(err instanceof KubeApiError) ||
            err.status === 'timeout' ||
            err.status === 'network' ||
            (typeof err.status === 'number' && (err.status >= 500 || err.status === 429));
          deps.logger.warn(
            { jobId: row.id, attempt, name, err, try: n },
            'creating the Kubernetes Job failed',
          );
          if (!retryable) break;
          if (n < tries) await sleep(baseDelay * 2 ** (n - 1));
        }
      }
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      if (
        lastError instanceof KubeApiError &&
        typeof lastError.status === 'number' &&
        lastError.status < 500 &&
        lastError.status !== 429
      ) {
        // Kubernetes refuses the Job itself (invalid, forbidden): retrying cannot help.
        await deps.store.failAndDeadLetter(ref, {
          code: CONTAINER_FAILURE.rejected,
          message: `Kubernetes refused the Job (${lastError.status}): ${reason}`,
          retryable: false,
        });
        return { action: 'ack', reason: `rejected: ${reason}` };
      }
      // The attempt stays running with its token; the re-delivery creates or adopts the same Job.
      return { action: 'retry', delayMs: deps.redeliverDelayMs ?? 1000, reason: `create failed: ${reason}` };
    },
  };
}

export type ContainerLauncher = ReturnType<typeof createContainerLauncher>;
