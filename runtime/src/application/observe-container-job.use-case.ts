import { classifyFailedJob, CONTAINER_FAILURE, parseTerminationMessage } from '../domain/container-run.js';
import type { JobError } from '../domain/job.entity.js';
import { decideAfterFailure, type RandomSource } from '../domain/retry-policy.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  AttemptRef,
  ContainerCatalog,
  ContainerJobs,
  ContainerRunView,
  ContainerStore,
  PodSignal,
} from '../ports/container.port.js';
import type { Logger } from '../ports/logger.port.js';

export interface ObserveContainerDeps {
  readonly store: ContainerStore;
  readonly jobs: ContainerJobs;
  readonly catalog: ContainerCatalog;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** How long a pod may sit in ImagePullBackOff / ErrImagePull before the attempt fails. */
  readonly imagePullGraceMs: number;
}

/** What observing one Job did. */
export type Observation =
  | { readonly outcome: 'pending' }
  | { readonly outcome: 'succeeded' | 'retried' | 'dead_lettered' }
  /** The Job's attempt is not the job's active one (superseded, cancelled, finished): nothing written. */
  | { readonly outcome: 'stale'; readonly deleted: boolean };

/** `OOMKilled` → `k8s_oom_killed`, `ImagePullBackOff` → `k8s_image_pull_back_off`. */
export function signalEventReason(reason: string): string {
  return `k8s_${reason
    .replace(/OOM/g, 'Oom')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()}`;
}

const IMAGE_PULL = new Set(['ImagePullBackOff', 'ErrImagePull']);

/**
 * The watcher's (and the reconciler's) view of one attempt's Job → job events and the job's
 * state. Every write is fenced by the attempt's token: a Job of an old attempt never changes a
 * newer one; such a Job, still active, is deleted (cancelled or superseded attempts).
 *
 * - pod signals (Unschedulable, ImagePullBackOff, OOMKilled, Evicted, exit codes) → one event each;
 * - an image that cannot be pulled for `imagePullGraceMs` → the attempt fails (not retryable);
 * - Complete → the termination message is the result (checked against the type's schema);
 * - Failed → the failure is classified (timeout, OOM, exit code, non-retryable exit code) and the
 *   job retried after its backoff or dead-lettered.
 */
export function createContainerObserver(deps: ObserveContainerDeps) {
  const fail = async (ref: AttemptRef, type: string | undefined, error: JobError) => {
    const info = type ? deps.catalog(type) : undefined;
    const row = await deps.store.get(ref.jobId);
    if (!row || row.state !== 'running' || row.token !== ref.token) return null;
    const decision = decideAfterFailure(
      ref.attempt,
      row.maxAttempts,
      error.retryable,
      info?.retryPolicy ?? { baseDelayMs: 1000, maxDelayMs: 60_000 },
      deps.random,
    );
    if (decision.action === 'retry') {
      const ok = await deps.store.failAndRetry(
        ref,
        error,
        new Date(deps.clock.now().getTime() + decision.delayMs),
      );
      return ok ? ('retried' as const) : null;
    }
    return (await deps.store.failAndDeadLetter(ref, error)) ? ('dead_lettered' as const) : null;
  };

  const recordSignal = (ref: AttemptRef, s: PodSignal) =>
    deps.store.recordEvent(ref, signalEventReason(s.reason), {
      key: `${s.pod}/${s.reason}`,
      pod: s.pod,
      message: s.message,
      ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
    });

  return {
    async observe(view: ContainerRunView): Promise<Observation> {
      const ref: AttemptRef = { jobId: view.jobId, attempt: view.attempt, token: view.token };
      const row = await deps.store.get(view.jobId);
      if (!row || row.state !== 'running' || row.token !== view.token || row.attempts !== view.attempt) {
        // Cancelled, superseded or already recorded: an active Job of it must not keep running.
        if (view.status === 'active' && !view.deleting) {
          await deps.jobs.delete(view.name);
          deps.logger.info(
            { jobId: view.jobId, attempt: view.attempt, name: view.name },
            'deleted a stale Job',
          );
          return { outcome: 'stale', deleted: true };
        }
        return { outcome: 'stale', deleted: false };
      }
      for (const s of view.signals) await recordSignal(ref, s);
      const info = deps.catalog(row.type);
      if (view.status === 'active') {
        const now = deps.clock.now().getTime();
        const stuck = view.signals.find(
          (s) => IMAGE_PULL.has(s.reason) && now - s.since.getTime() >= deps.imagePullGraceMs,
        );
        if (!stuck) return { outcome: 'pending' };
        const outcome = await fail(ref, row.type, {
          code: CONTAINER_FAILURE.imagePull,
          message: `the image cannot be pulled (${stuck.reason} for ${Math.round(deps.imagePullGraceMs / 1000)} s): ${stuck.message}`,
          retryable: false,
        });
        await deps.jobs.delete(view.name);
        return outcome ? { outcome } : { outcome: 'stale', deleted: true };
      }
      if (view.status === 'succeeded') {
        const result = resultOf(view);
        if (!result.ok) {
          const outcome = await fail(ref, row.type, {
            code: CONTAINER_FAILURE.resultInvalid,
            message: result.problem,
            retryable: false,
          });
          return outcome ? { outcome } : { outcome: 'stale', deleted: false };
        }
        const checked = info?.parseResult(result.value) ?? { ok: true };
        if (!checked.ok) {
          const outcome = await fail(ref, row.type, {
            code: CONTAINER_FAILURE.resultInvalid,
            message: `the result of '${row.type}' does not match its result schema: ${checked.problems.join('; ')}`,
            retryable: false,
          });
          return outcome ? { outcome } : { outcome: 'stale', deleted: false };
        }
        return (await deps.store.succeed(ref, result.value))
          ? { outcome: 'succeeded' }
          : { outcome: 'stale', deleted: false };
      }
      const error = classifyFailedJob({
        reason: view.failedReason,
        message: view.failedMessage,
        lastExitCode: view.lastExitCode,
        lastTerminationReason: view.lastTerminationReason,
        timeoutSeconds: info?.timeoutSeconds ?? 0,
      });
      const outcome = await fail(ref, row.type, error);
      return outcome ? { outcome } : { outcome: 'stale', deleted: false };
    },
  };
}

export type ContainerObserver = ReturnType<typeof createContainerObserver>;

function resultOf(
  view: ContainerRunView,
): { ok: true; value: Record<string, unknown> } | { ok: false; problem: string } {
  if (!view.indexed) return parseTerminationMessage(view.messages.get(0));
  const results: Record<string, Record<string, unknown>> = {};
  for (const [index, message] of [...view.messages].sort(([a], [b]) => a - b)) {
    const parsed = parseTerminationMessage(message);
    if (!parsed.ok) return { ok: false, problem: `index ${index}: ${parsed.problem}` };
    results[String(index)] = parsed.value;
  }
  return {
    ok: true,
    value: {
      completedIndexes: view.completedIndexes ?? '',
      ...(view.failedIndexes ? { failedIndexes: view.failedIndexes } : {}),
      results,
    },
  };
}
