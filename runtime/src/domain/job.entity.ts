import type { JobState } from './job-state.js';

export type ExecutionMode = 'pooled' | 'isolated' | 'container';

export interface JobError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** The authoritative record of one unit of work (a row of `jobs`). */
export interface Job {
  readonly id: string;
  readonly clientId: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly state: JobState;
  readonly priority: number;
  readonly runAt: Date;
  /** Attempts started so far; never reset, also not by a redrive. */
  readonly attempts: number;
  /** The attempt after which the job is dead-lettered (a redrive raises it by the budget). */
  readonly maxAttempts: number;
  /** Attempts already used when the current budget began (0 until the first redrive). */
  readonly attemptBase?: number;
  /** Rolled up from a fan-out parent's children where the read computes it (GetJob). */
  readonly children?: ChildrenRollup;
  readonly progress: number;
  readonly progressMessage: string | null;
  readonly result: Record<string, unknown> | null;
  readonly error: JobError | null;
  readonly mode: ExecutionMode;
  readonly queue: string;
  readonly idempotencyKey: string;
  readonly parentId: string | null;
  readonly childIndex: number | null;
  /** Number of children a fan-out parent is waiting for; null when the job never fanned out. */
  readonly fanOutTotal: number | null;
  readonly requestId: string | null;
  /** The submission's concurrency key and limit (absent when it gave none). */
  readonly concurrencyKey?: string;
  readonly concurrencyLimit?: number;
  /** Resolved concurrency slot set (key and limit), absent when the job has none. */
  readonly flowKey?: string;
  readonly flowLimit?: number;
  readonly createTime: Date;
  readonly updateTime: Date;
  readonly startTime: Date | null;
  readonly finishTime: Date | null;
}

/** A fan-out parent's children, counted by state, with their mean progress. */
export interface ChildrenRollup {
  readonly total: number;
  readonly byState: Readonly<Partial<Record<JobState, number>>>;
  /** Mean progress of the children, terminal ones counting 100 (0–100, one decimal). */
  readonly percent: number;
}

/** One entry of a job's append-only history. */
export interface JobEvent {
  readonly id: string;
  readonly jobId: string;
  readonly fromState: JobState | null;
  readonly toState: JobState;
  readonly attempt: number;
  readonly reason: string;
  readonly details: Record<string, unknown> | null;
  readonly createTime: Date;
}

/** Idempotency keys: printable, bounded. They are never used raw in a Redis key. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** Why a key is refused, or null when it is acceptable. */
export function idempotencyKeyProblem(key: string): string | null {
  if (key.length === 0) return 'must not be empty';
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH)
    return `must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${key.length})`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) return 'must not contain control characters (C0, DEL, C1)';
  return null;
}
