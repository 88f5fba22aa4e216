import type { ChildrenRollup, Job } from '../domain/job.entity.js';
import type { JobState } from '../domain/job-state.js';
import type { Page } from './job-store.port.js';

/**
 * Who is looking: one API client (sees only its own jobs) or the operator holding the admin key
 * (sees every client's jobs, and may narrow to one with `clientId`).
 */
export type ConsoleScope =
  { readonly kind: 'client'; readonly clientId: string } | { readonly kind: 'admin' };

/** Filters of the console's job list; every one optional, all combined with AND. */
export interface ConsoleJobFilter {
  readonly state?: JobState;
  readonly type?: string;
  readonly queue?: string;
  readonly parentId?: string;
  /** Admin scope only: one client's jobs. */
  readonly clientId?: string;
  /** create_time ≥ from. */
  readonly createdFrom?: Date;
  /** create_time < to. */
  readonly createdTo?: Date;
  /** A job id, or an idempotency key. */
  readonly search?: string;
}

/** A fan-out parent's children, rolled up (the same figures GetJob reports). */
export type ChildrenSummary = ChildrenRollup;

/** One queue as the console shows it: depth by state from PostgreSQL, last hour's outcomes. */
export interface ConsoleQueueRow {
  readonly queue: string;
  /** Queued and due now. */
  readonly ready: number;
  /** Queued with a run_at in the future (scheduled or backing off). */
  readonly scheduled: number;
  readonly running: number;
  /** Age of the oldest queued, due job; null when none waits. */
  readonly oldestWaitingSeconds: number | null;
  /** Attempts that ended in the last hour, by outcome. */
  readonly lastHour: {
    readonly succeeded: number;
    readonly failed: number;
    readonly deadLettered: number;
    readonly cancelled: number;
  };
}

export interface ChildOutcomeRow {
  readonly index: number;
  readonly state: JobState;
  readonly result: Record<string, unknown> | null;
}

/** Read side of the console (PostgreSQL): scoped, keyset-paged, index-backed. */
export interface ConsoleRead {
  listJobs(
    scope: ConsoleScope,
    filter: ConsoleJobFilter,
    pageSize: number,
    cursor: string | null,
  ): Promise<Page<Job>>;
  getJob(scope: ConsoleScope, id: string): Promise<Job | null>;
  childrenSummary(parentId: string): Promise<ChildrenSummary | null>;
  /** Children by index (keyset after `afterIndex`). */
  listChildren(parentId: string, pageSize: number, afterIndex: number | null): Promise<Page<Job>>;
  /** Children's outcomes (for result views), at most `limit`. */
  childOutcomes(parentId: string, limit: number): Promise<ChildOutcomeRow[]>;
  queues(scope: ConsoleScope, queueNames: readonly string[]): Promise<ConsoleQueueRow[]>;
}
