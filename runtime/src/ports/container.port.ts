/**
 * Ports of the container launcher (`jobplane launcher`): the Kubernetes Jobs it creates, watches
 * and deletes, and the PostgreSQL queries it needs beyond the JobStore. See docs/container-jobs.md.
 */
import type { JobError } from '../domain/job.entity.js';
import type { JobState } from '../domain/job-state.js';
import type { RetryPolicy } from '../domain/retry-policy.js';

/** The attempt a Kubernetes Job belongs to (from its labels). */
export interface AttemptRef {
  readonly jobId: string;
  readonly attempt: number;
  readonly token: string;
}

/** What the launcher asks for: one attempt of one container job. */
export interface ContainerLaunch extends AttemptRef {
  readonly name: string;
  readonly type: string;
  readonly payloadJson: string;
}

/** A pod-level signal worth an event (each recorded once per attempt). */
export interface PodSignal {
  /** `Unschedulable`, `ImagePullBackOff`, `ErrImagePull`, `OOMKilled`, `Evicted`, `ExitCode`, … */
  readonly reason: string;
  readonly message: string;
  readonly pod: string;
  /** When the signal was first seen (image pull waits are bounded from it). */
  readonly since: Date;
  readonly exitCode?: number;
}

/** One attempt's Job as Kubernetes shows it, with the pods' signals folded in. */
export interface ContainerRunView extends AttemptRef {
  readonly name: string;
  readonly status: 'active' | 'succeeded' | 'failed';
  /** Failed Jobs: the Job condition's reason (`BackoffLimitExceeded`, `DeadlineExceeded`, `PodFailurePolicy`, …). */
  readonly failedReason?: string;
  readonly failedMessage?: string;
  /** Succeeded Jobs: the termination message of each succeeded pod, by completion index (0 when not indexed). */
  readonly messages: ReadonlyMap<number, string>;
  readonly indexed: boolean;
  readonly completedIndexes?: string;
  readonly failedIndexes?: string;
  /** Exit code of the last terminated container of a failed pod, when known. */
  readonly lastExitCode?: number;
  readonly lastTerminationReason?: string;
  readonly signals: readonly PodSignal[];
  /** Being deleted (deletionTimestamp set). */
  readonly deleting: boolean;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number | 'timeout' | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** The Jobs of this installation in the jobs namespace. */
export interface ContainerJobs {
  /** Creates the Job and its payload Secret; `adopted` when a Job of that name already existed (409). */
  launch(launch: ContainerLaunch): Promise<{ readonly adopted: boolean }>;
  /** Deletes a Job with background propagation (its pods and the owned Secret follow); absent is fine. */
  delete(name: string): Promise<void>;
  /** A fresh list of every Job of this installation (the reconciler's view). */
  list(): Promise<readonly ContainerRunView[]>;
}

/** A running container job as PostgreSQL holds it. */
export interface RunningContainerJob {
  readonly id: string;
  readonly type: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly token: string;
  readonly startTime: Date;
}

export interface ContainerJobRow {
  readonly id: string;
  readonly type: string;
  readonly state: JobState;
  readonly mode: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly token: string | null;
  readonly payload: Record<string, unknown>;
}

export type StartContainerResult =
  | {
      readonly status: 'started';
      readonly attempt: number;
      readonly token: string;
      readonly job: ContainerJobRow;
    }
  | { readonly status: 'skipped'; readonly reason: string };

/** Launcher queries; every write after a start is fenced by the attempt token. */
export interface ContainerStore {
  get(id: string): Promise<ContainerJobRow | null>;
  /** queued → running with a fresh token (never a take-over: a running job keeps its attempt). */
  start(id: string, token: string, worker: string): Promise<StartContainerResult>;
  /** Fenced event without a state change, recorded at most once per (attempt, reason, key). */
  recordEvent(ref: AttemptRef, reason: string, details: Record<string, unknown>): Promise<boolean>;
  /** Fenced running → succeeded. */
  succeed(ref: AttemptRef, result: Record<string, unknown>): Promise<boolean>;
  /** Fenced running → failed → queued at `runAt`, with an outbox row so the launcher gets it again. */
  failAndRetry(ref: AttemptRef, error: JobError, runAt: Date): Promise<boolean>;
  /** Fenced running → failed → dead_lettered. */
  failAndDeadLetter(ref: AttemptRef, error: JobError): Promise<boolean>;
  /** Running container jobs whose attempt started before `startedBeforeMs` ago. */
  running(startedBeforeMs: number): Promise<readonly RunningContainerJob[]>;
  /** Which of these attempts are still the active one (running with that token). */
  activeTokens(jobIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** What the launcher needs of a container job type (built from the catalog in main/). */
export interface ContainerTypeInfo {
  readonly timeoutSeconds: number;
  readonly retryPolicy: RetryPolicy;
  /** Checks a result against the type's `result` schema (identity when it has none). */
  parseResult(value: Record<string, unknown>): { ok: true } | { ok: false; problems: readonly string[] };
}

export type ContainerCatalog = (type: string) => ContainerTypeInfo | undefined;
