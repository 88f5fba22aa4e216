import { CONTAINER_FAILURE, containerJobName } from '../domain/container-run.js';
import { decideAfterFailure, type RandomSource } from '../domain/retry-policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { ContainerCatalog, ContainerJobs, ContainerStore } from '../ports/container.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ContainerObserver } from './observe-container-job.use-case.js';

export interface ReconcileContainerDeps {
  readonly store: ContainerStore;
  readonly jobs: ContainerJobs;
  readonly observer: ContainerObserver;
  readonly catalog: ContainerCatalog;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** Attempts started more recently are left alone (the launcher may be creating their Job). */
  readonly graceMs: number;
}

export interface ContainerReconcileReport {
  /** Running container jobs checked against Kubernetes. */
  readonly checked: number;
  /** Running attempts without a Job: failed with K8S.JOB_MISSING (retried within the budget). */
  readonly missing: number;
  /** Finished Jobs whose outcome had not been recorded, now recorded. */
  readonly recorded: number;
  /** Jobs of no active attempt (cancelled, superseded) deleted. */
  readonly deleted: number;
}

/**
 * Makes PostgreSQL and Kubernetes agree, on an interval and on demand. A watcher alone misses
 * transitions (a Job created and finished while it was down, a Job deleted by hand), so:
 * a running container job whose attempt has no Job fails with `K8S.JOB_MISSING` (retried within
 * its budget); a finished Job whose outcome was not recorded is recorded; an active Job of no
 * active attempt is deleted.
 */
export function createContainerReconciler(deps: ReconcileContainerDeps) {
  return async (): Promise<ContainerReconcileReport> => {
    // Kubernetes first: a Job created after this list belongs to an attempt younger than the grace.
    const views = await deps.jobs.list();
    const byName = new Map(views.map((v) => [v.name, v]));
    const running = await deps.store.running(deps.graceMs);
    let missing = 0;
    let recorded = 0;
    let deleted = 0;
    const expected = new Set<string>();
    for (const job of running) {
      const name = containerJobName(job.id, job.attempts, job.token);
      expected.add(name);
      const view = byName.get(name);
      if (!view) {
        const info = deps.catalog(job.type);
        const error = {
          code: CONTAINER_FAILURE.missing,
          message: `the Kubernetes Job ${name} of attempt ${job.attempts} does not exist (deleted, or never created)`,
          retryable: true,
        };
        const ref = { jobId: job.id, attempt: job.attempts, token: job.token };
        const decision = decideAfterFailure(
          job.attempts,
          job.maxAttempts,
          true,
          info?.retryPolicy ?? { baseDelayMs: 1000, maxDelayMs: 60_000 },
          deps.random,
        );
        const ok =
          decision.action === 'retry'
            ? await deps.store.failAndRetry(
                ref,
                error,
                new Date(deps.clock.now().getTime() + decision.delayMs),
              )
            : await deps.store.failAndDeadLetter(ref, error);
        if (ok) missing++;
        continue;
      }
      if (view.status !== 'active') {
        const o = await deps.observer.observe(view);
        if (o.outcome !== 'stale' && o.outcome !== 'pending') recorded++;
      }
    }
    const others = views.filter((v) => !expected.has(v.name) && v.status === 'active' && !v.deleting);
    const active = await deps.store.activeTokens([...new Set(others.map((v) => v.jobId))]);
    for (const v of others) {
      if (active.get(v.jobId) === v.token) continue; // younger than the grace: the watcher has it
      await deps.jobs.delete(v.name);
      deleted++;
    }
    const report = { checked: running.length, missing, recorded, deleted };
    if (missing + recorded + deleted > 0) deps.logger.warn(report, 'container reconciler repaired state');
    return report;
  };
}

export type ContainerReconciler = ReturnType<typeof createContainerReconciler>;
