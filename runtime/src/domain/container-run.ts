/**
 * Container jobs: the rules that do not depend on Kubernetes' client — the deterministic name of an
 * attempt's Job, and what a finished Job's failure means for the job (code, retryable).
 */
import type { JobError } from './job.entity.js';

/**
 * `jp-<job id>-<attempt>-<6 hex of the attempt token>`: the same attempt always gets the same name
 * (a second create is a 409 and adopts it), and a later attempt under the same number (one taken
 * over from a lost worker gets a new token) never collides with a Job still waiting for its TTL.
 * At most 52 characters.
 */
export function containerJobName(jobId: string, attempt: number, token: string): string {
  return `jp-${jobId}-${attempt}-${token.replace(/-/g, '').slice(0, 6)}`;
}

/** Kubernetes label keys on every Job, Secret and Pod the launcher creates. */
export const CONTAINER_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  installation: 'jobplane.dev/installation',
  jobId: 'jobplane.dev/job-id',
  attempt: 'jobplane.dev/attempt',
  token: 'jobplane.dev/fencing-token',
  jobType: 'jobplane.dev/job-type',
  run: 'jobplane.dev/run',
  kueueQueue: 'kueue.x-k8s.io/queue-name',
} as const;
export const MANAGED_BY = 'jobplane-launcher';

/** Job failure codes of container attempts (`job.error.code`). */
export const CONTAINER_FAILURE = {
  missing: 'K8S.JOB_MISSING',
  oomKilled: 'K8S.OOM_KILLED',
  exitCode: 'K8S.EXIT_CODE',
  nonRetryableExit: 'K8S.EXIT_NON_RETRYABLE',
  imagePull: 'K8S.IMAGE_PULL_FAILED',
  failed: 'K8S.JOB_FAILED',
  rejected: 'K8S.JOB_REJECTED',
  timeout: 'JOB.TIMEOUT',
  resultInvalid: 'HANDLER.RESULT_INVALID',
} as const;

export interface FailedJobFacts {
  /** The Job's `Failed` condition reason. */
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly lastExitCode: number | undefined;
  readonly lastTerminationReason: string | undefined;
  readonly timeoutSeconds: number;
}

/** What a failed Job means: DeadlineExceeded is a timeout, PodFailurePolicy a non-retryable exit code, … */
export function classifyFailedJob(f: FailedJobFacts): JobError {
  const exit = f.lastExitCode !== undefined ? ` (exit code ${f.lastExitCode})` : '';
  if (f.reason === 'DeadlineExceeded') {
    return {
      code: CONTAINER_FAILURE.timeout,
      message: `the attempt exceeded its deadline of ${f.timeoutSeconds} s (activeDeadlineSeconds)`,
      retryable: true,
    };
  }
  if (f.reason === 'PodFailurePolicy') {
    return {
      code: CONTAINER_FAILURE.nonRetryableExit,
      message: `the container exited with a non-retryable exit code${exit}: ${f.message ?? 'pod failure policy'}`,
      retryable: false,
    };
  }
  if (f.lastTerminationReason === 'OOMKilled') {
    return {
      code: CONTAINER_FAILURE.oomKilled,
      message: `the container was killed for exceeding its memory limit (OOMKilled)${exit}`,
      retryable: true,
    };
  }
  if (f.lastExitCode !== undefined) {
    return {
      code: CONTAINER_FAILURE.exitCode,
      message: `the container exited with code ${f.lastExitCode}${f.message ? `: ${f.message}` : ''}`,
      retryable: true,
    };
  }
  return {
    code: CONTAINER_FAILURE.failed,
    message: `the Kubernetes Job failed: ${f.reason ?? 'unknown reason'}${f.message ? `: ${f.message}` : ''}`,
    retryable: true,
  };
}

/** Parses a termination message into a result object, or says why it is not one. */
export function parseTerminationMessage(
  message: string | undefined,
): { ok: true; value: Record<string, unknown> } | { ok: false; problem: string } {
  const text = (message ?? '').trim();
  if (text === '') return { ok: true, value: {} };
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return { ok: true, value: v as Record<string, unknown> };
    return { ok: false, problem: 'the termination message is JSON but not an object' };
  } catch {
    return {
      ok: false,
      problem: `the termination message is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
    };
  }
}
