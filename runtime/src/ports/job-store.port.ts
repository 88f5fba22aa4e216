import type { Job, JobError, JobEvent } from '../domain/job.entity.js';
import type { JobState } from '../domain/job-state.js';
import type { QueueMessage } from './job-queue.port.js';

export interface NewJob {
  readonly id: string;
  readonly clientId: string;
  readonly idempotencyKey: string;
  readonly requestHash: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly priority: number;
  readonly runAt: Date;
  readonly maxAttempts: number;
  readonly mode: 'pooled' | 'isolated' | 'container';
  readonly queue: string;
  readonly requestId: string | null;
  /** Flow control as submitted (docs/flow-control.md); absent = none. */
  readonly concurrencyKey?: string;
  readonly concurrencyLimit?: number;
  /** The resolved slot set (type's `flow` + submission), carried in the queue message. */
  readonly flowKey?: string;
  readonly flowLimit?: number;
}

export interface InsertResult {
  readonly job: Job;
  /** False when the (client, idempotency key) already existed: `job` is the existing one. */
  readonly created: boolean;
  /** Stored request hash of the existing job (compare to detect key reuse). */
  readonly requestHash: string;
  /**
   * The outbox row written with a created job, for a publisher that sends it at once and then
   * deletes it (`deleteOutbox`). Absent on a replay.
   */
  readonly outbox?: OutboxEntry;
}

/** One outbox row: its id (a bigint, as a string) and the queue message it stands for. */
export interface OutboxEntry {
  readonly id: string;
  readonly message: QueueMessage;
}

export interface ListFilter {
  readonly state?: JobState;
  readonly type?: string;
  /** A fan-out parent's id (lower-case UUID): only its children. */
  readonly parentId?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export type StartResult =
  | { readonly status: 'started'; readonly job: Job; readonly token: string; readonly tookOver: boolean }
  | { readonly status: 'dead_lettered'; readonly job: Job }
  | { readonly status: 'skipped'; readonly reason: string };

export interface ChildRow {
  readonly jobId: string;
  readonly index: number;
  readonly state: JobState;
  readonly result: Record<string, unknown> | null;
  readonly error: JobError | null;
}

export interface ChildSpec {
  readonly id: string;
  readonly index: number;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly queue: string;
  readonly mode: 'pooled' | 'isolated' | 'container';
  readonly maxAttempts: number;
}

/** Messages waiting in the outbox, claimed by one relay pass. */
export interface OutboxBatch {
  readonly messages: readonly QueueMessage[];
  /** Deletes the claimed rows and commits; call after publishing. */
  ack(): Promise<void>;
  /** Releases the rows without deleting them. */
  release(): Promise<void>;
}

export interface CancelResult {
  readonly job: Job;
  /** False when the job was already terminal (nothing changed). */
  readonly changed: boolean;
  /** Children of a fan-out cancelled with it (their running handlers must be told). */
  readonly cancelledChildren: readonly string[];
}

/** A non-terminal job as the reconciler sees it. */
export interface ReconcileCandidate {
  readonly job: Job;
  /** For fan-out parents still running: whether every child is terminal. */
  readonly childrenDone: boolean | null;
  /** Trace context stored with the job (tracing): a re-published message joins the job's trace. */
  readonly traceparent?: string | null;
}

/**
 * Job state, split by concern: every state change appends a job event in the same transaction;
 * every write after an attempt start is fenced by the attempt token. `JobStore` is all of them
 * (the PostgreSQL store and the in-memory store implement it and pass one contract suite,
 * runtime/test/contract/job-store.contract.ts); each use case depends on the parts it uses.
 */

/** Submission: a job, its creation event and its outbox row, idempotent per (client, key). */
export interface JobSubmissions {
  /**
   * Job + outbox row + creation event in one transaction (no-op on an existing key). Concurrent
   * calls may share one transaction (group commit); each settles after its own row committed.
   */
  insert(job: NewJob): Promise<InsertResult>;
  /**
   * Many jobs in one transaction, one result per input in order; a (client, key) repeated inside
   * the batch is stored once and the later entries read as replays of the first.
   */
  insertMany(jobs: readonly NewJob[]): Promise<InsertResult[]>;
}

/** Reads, scoped to a client except `getAny` (internal callers). */
export interface JobReads {
  get(clientId: string, id: string): Promise<Job | null>;
  getAny(id: string): Promise<Job | null>;
  list(clientId: string, filter: ListFilter, pageSize: number, cursor: string | null): Promise<Page<Job>>;
  listEvents(jobId: string, pageSize: number, afterId: string | null): Promise<Page<JobEvent>>;
}

/** One attempt's life on a worker, fenced by its token. */
export interface JobAttempts {
  /** Starts a new attempt (queued → running, or a take-over of a running job) with a fresh token. */
  startAttempt(id: string, token: string, worker: string): Promise<StartResult>;
  /** Fenced progress write; false when the attempt was fenced out. */
  reportProgress(id: string, token: string, percent: number, message: string | null): Promise<boolean>;
  /** Fenced running → succeeded. Returns the job, or null when fenced out. */
  succeed(id: string, token: string, result: Record<string, unknown>): Promise<Job | null>;
  /** Fenced running → failed → queued with a new run_at. */
  failAndRetry(id: string, token: string, error: JobError, runAt: Date): Promise<Job | null>;
  /**
   * Fenced: puts a job whose type the worker does not know back (rolling deploys). With `release`
   * (a run delivery) running → queued with `runAt`, the attempt not counted; without (an aggregate
   * delivery) the job stays as it is. Either way appends an `unknown_type_deferred` event.
   */
  deferUnknownType(
    id: string,
    token: string,
    error: JobError,
    runAt: Date,
    release: boolean,
  ): Promise<boolean>;
  /** How many times the job was put back for an unknown type. */
  unknownTypeDeferrals(id: string): Promise<number>;
  /** Fenced running → failed → dead_lettered. */
  failAndDeadLetter(id: string, token: string, error: JobError): Promise<Job | null>;
  /** The attempt token of a running job (aggregate messages resume the attempt that fanned out). */
  currentToken(id: string, attempt: number): Promise<string | null>;
}

/** Fan-out: a running parent's children and, once all are terminal, its aggregate step. */
export interface JobFanOuts {
  /** Fenced: records a fan-out, creates the children idempotently (job + outbox + event each). */
  fanOut(id: string, token: string, children: readonly ChildSpec[]): Promise<boolean>;
  /** The children of a fan-out parent, ordered by index. */
  children(id: string): Promise<ChildRow[]>;
}

/** What a client may do to its own job. */
export interface JobCommands {
  /** queued | running → cancelled (children too). Returns the job, or null when not found. */
  cancel(clientId: string, id: string): Promise<CancelResult | null>;
  /**
   * failed | dead_lettered | cancelled → queued with the job's attempt budget granted again on
   * top of the attempts used (attempt numbers keep counting), and an outbox row.
   */
  retry(clientId: string, id: string): Promise<{ job: Job; changed: boolean } | null>;
}

/** The transactional outbox the relay drains. */
export interface JobOutbox {
  /**
   * Claims up to `limit` outbox rows, oldest first. Rows another claim holds are skipped, never
   * waited for: two relays never get the same row.
   */
  claimOutbox(limit: number): Promise<OutboxBatch>;
  /**
   * Deletes these outbox rows (already published by the caller); rows already gone are ignored. A
   * row a relay holds is deleted once the relay's claim ends.
   */
  deleteOutbox(ids: readonly string[]): Promise<void>;
  countOutbox(): Promise<number>;
  /** Wakes the relays now (rows left for them, e.g. when an eager publish failed). */
  wakeRelay(): Promise<void>;
}

/** What the reconciler walks and repairs. */
export interface JobReconciliation {
  /** Non-terminal jobs not updated for `olderThanMs`, keyset-paged by id. */
  reconcileCandidates(
    olderThanMs: number,
    afterId: string | null,
    limit: number,
  ): Promise<ReconcileCandidate[]>;
  /** Unfenced dead-letter of a non-terminal job (the queue gave up on it, e.g. too many stalls). */
  deadLetterAbandoned(id: string, error: JobError): Promise<Job | null>;
}

export interface JobStore
  extends JobSubmissions, JobReads, JobAttempts, JobFanOuts, JobCommands, JobOutbox, JobReconciliation {}
