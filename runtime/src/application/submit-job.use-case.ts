import { createHash, randomUUID } from 'node:crypto';
import { DomainError, invalidRequest } from '../domain/errors.js';
import { resolveFlowSlot } from '../domain/flow.js';
import { idempotencyKeyProblem, type Job } from '../domain/job.entity.js';
import type { BacklogGauge } from '../ports/backlog.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { JobCatalog } from '../ports/job-catalog.port.js';
import type { InsertResult, JobSubmissions, NewJob, OutboxEntry } from '../ports/job-store.port.js';
import type { Metrics } from '../ports/metrics.port.js';

export interface SubmitJobCommand {
  readonly clientId: string;
  readonly idempotencyKey: string | undefined;
  readonly requestId: string | null;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly priority: number;
  readonly runAt: Date | null;
  /** 0 = the job type's default. */
  readonly maxAttempts: number;
  /** Flow control (docs/flow-control.md): the slot set to count against, and a lower limit for it. */
  readonly concurrencyKey?: string | undefined;
  readonly concurrencyLimit?: number | undefined;
}

export interface SubmitJobResult {
  readonly job: Job;
  /** False on an idempotent replay (same key, same request). */
  readonly created: boolean;
}

export const PRIORITY_RANGE = { min: -1000, max: 1000 } as const;
export const MAX_ATTEMPTS_LIMIT = 100;

export interface SubmitJobDeps {
  readonly store: JobSubmissions;
  readonly catalog: JobCatalog;
  /** Listed in the JOB.UNKNOWN_TYPE message. */
  readonly submittableTypes: readonly string[];
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly newId?: () => string;
  /** With `maxDepth`: refuse new jobs (503 QUEUE.FULL) while a queue's backlog is above it. */
  readonly backlog?: BacklogGauge;
  readonly maxDepth?: number;
  /**
   * Called with the outbox entries of the jobs a call created, once they committed (the API's eager
   * publisher, publish-submitted.use-case.ts). Without it the relays publish them.
   */
  readonly afterCommit?: (outbox: readonly OutboxEntry[]) => void;
}

/** Stable JSON (sorted keys) so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(cmd: SubmitJobCommand): string {
  const material = canonicalJson({
    type: cmd.type,
    payload: cmd.payload,
    priority: cmd.priority,
    runAt: cmd.runAt?.toISOString() ?? null,
    maxAttempts: cmd.maxAttempts,
    // Only when given, so hashes of submissions without flow fields stay what they were.
    concurrencyKey: cmd.concurrencyKey,
    concurrencyLimit: cmd.concurrencyLimit,
  });
  return createHash('sha256').update(material).digest('hex');
}

export type SubmitJob = (cmd: SubmitJobCommand) => Promise<SubmitJobResult>;

/** Most jobs one SubmitJobs call (`POST /v1/jobs:batch`) may carry. */
export const MAX_BATCH_JOBS = 1000;

/** One entry of a batch: the same command as a single submit, its key in the body. */
export type SubmitJobsItem = Omit<SubmitJobCommand, 'clientId' | 'requestId'>;

export interface SubmitJobsCommand {
  readonly clientId: string;
  readonly requestId: string | null;
  readonly jobs: readonly SubmitJobsItem[];
}

/** Per entry, in order: the job (new or replayed), or why its key could not be used. */
export type SubmitJobsItemResult =
  | { readonly ok: true; readonly job: Job; readonly created: boolean }
  | { readonly ok: false; readonly error: DomainError };

export type SubmitJobs = (cmd: SubmitJobsCommand) => Promise<SubmitJobsItemResult[]>;

interface Prepared {
  readonly row: NewJob;
  readonly hash: string;
  readonly type: string;
}

/** Validates one command into the row to store; throws the DomainError a single submit answers. */
function prepare(deps: SubmitJobDeps, newId: () => string, cmd: SubmitJobCommand): Prepared {
  const key = cmd.idempotencyKey;
  if (key === undefined) {
    throw new DomainError('IDEMPOTENCY.KEY_MISSING', 'the Idempotency-Key header is required');
  }
  const keyProblem = idempotencyKeyProblem(key);
  if (keyProblem) throw new DomainError('IDEMPOTENCY.KEY_INVALID', `Idempotency-Key ${keyProblem}`);
  const info = deps.catalog(cmd.type);
  if (!info || !info.submittable) {
    throw new DomainError(
      'JOB.UNKNOWN_TYPE',
      `job type '${cmd.type}' is not submittable (known: ${deps.submittableTypes.join(', ')})`,
    );
  }
  if (
    !Number.isInteger(cmd.priority) ||
    cmd.priority < PRIORITY_RANGE.min ||
    cmd.priority > PRIORITY_RANGE.max
  ) {
    throw invalidRequest(
      `'priority' (${cmd.priority}) must be an integer from ${PRIORITY_RANGE.min} to ${PRIORITY_RANGE.max}`,
    );
  }
  if (!Number.isInteger(cmd.maxAttempts) || cmd.maxAttempts < 0 || cmd.maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw invalidRequest(
      `'maxAttempts' (${cmd.maxAttempts}) must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT} (0 = default)`,
    );
  }
  // The catalog's schemas validate the payload: the API never loads handler code.
  const parsed = info.parsePayload(cmd.payload);
  if (!parsed.ok) {
    throw new DomainError(
      'JOB.PAYLOAD_INVALID',
      `payload of '${cmd.type}' is invalid: ${parsed.problems.join('; ')}`,
      {
        problems: parsed.problems,
      },
    );
  }
  if (info.maxPayloadBytes !== undefined) {
    // A container job's payload travels in a Secret: bounded.
    const bytes = Buffer.byteLength(JSON.stringify(parsed.value), 'utf8');
    if (bytes > info.maxPayloadBytes) {
      throw new DomainError(
        'JOB.PAYLOAD_TOO_LARGE',
        `payload of '${cmd.type}' is ${bytes} bytes of JSON; this container job type takes at most ${info.maxPayloadBytes}`,
      );
    }
  }
  const slot = resolveFlowSlot(info.flow, info.mode, {
    type: cmd.type,
    clientId: cmd.clientId,
    payload: parsed.value as Record<string, unknown>,
    concurrencyKey: cmd.concurrencyKey,
    concurrencyLimit: cmd.concurrencyLimit,
  });
  const depth = deps.backlog?.depth(info.queue) ?? null;
  if (depth !== null && deps.maxDepth !== undefined && depth >= deps.maxDepth) {
    throw new DomainError(
      'QUEUE.FULL',
      `queue '${info.queue}' has ${depth} jobs waiting (limit ${deps.maxDepth}); retry later`,
    );
  }
  const hash = requestHash(cmd);
  const now = deps.clock.now();
  return {
    hash,
    type: cmd.type,
    row: {
      id: newId(),
      clientId: cmd.clientId,
      idempotencyKey: key,
      requestHash: hash,
      type: cmd.type,
      payload: parsed.value as Record<string, unknown>,
      priority: cmd.priority,
      runAt: cmd.runAt && cmd.runAt > now ? cmd.runAt : now,
      maxAttempts: cmd.maxAttempts === 0 ? info.maxAttempts : cmd.maxAttempts,
      mode: info.mode,
      queue: info.queue,
      requestId: cmd.requestId,
      ...(cmd.concurrencyKey !== undefined ? { concurrencyKey: cmd.concurrencyKey } : {}),
      ...(cmd.concurrencyLimit !== undefined ? { concurrencyLimit: cmd.concurrencyLimit } : {}),
      ...(slot ? { flowKey: slot.key, flowLimit: slot.limit } : {}),
    },
  };
}

/** The stored outcome of one prepared job: the job, or IDEMPOTENCY.KEY_REUSED. */
function outcome(deps: SubmitJobDeps, p: Prepared, result: InsertResult): SubmitJobsItemResult {
  if (!result.created && result.requestHash !== p.hash) {
    return {
      ok: false,
      error: new DomainError(
        'IDEMPOTENCY.KEY_REUSED',
        'this Idempotency-Key was already used with a different request',
        { jobId: result.job.id },
      ),
    };
  }
  if (result.created) deps.metrics.jobSubmitted(p.type);
  return { ok: true, job: result.job, created: result.created };
}

/**
 * Accepts a job: validates it, then stores row + outbox + event in one transaction (shared with
 * concurrent submissions by the store's group commit). The same (client, Idempotency-Key) returns
 * the stored job when the request is the same, and fails with IDEMPOTENCY.KEY_REUSED when it
 * differs.
 */
export function createSubmitJob(deps: SubmitJobDeps): SubmitJob {
  const newId = deps.newId ?? randomUUID;
  return async (cmd) => {
    const p = prepare(deps, newId, cmd);
    const stored = await deps.store.insert(p.row);
    if (stored.outbox) deps.afterCommit?.([stored.outbox]);
    const out = outcome(deps, p, stored);
    if (!out.ok) throw out.error;
    return { job: out.job, created: out.created };
  };
}

/**
 * Accepts up to MAX_BATCH_JOBS jobs in one transaction. Validation is all or nothing: one invalid
 * entry refuses the whole call (REQUEST.INVALID listing `jobs[i]` problems) and nothing is stored.
 * Then each entry gets its own result: created, an idempotent replay, or IDEMPOTENCY.KEY_REUSED
 * (its key was used before, or earlier in this batch, with a different request).
 */
export function createSubmitJobs(deps: SubmitJobDeps): SubmitJobs {
  const newId = deps.newId ?? randomUUID;
  return async (cmd) => {
    if (cmd.jobs.length === 0)
      throw invalidRequest(`'jobs' must hold 1 to ${MAX_BATCH_JOBS} entries (got 0)`);
    if (cmd.jobs.length > MAX_BATCH_JOBS) {
      throw invalidRequest(`'jobs' must hold 1 to ${MAX_BATCH_JOBS} entries (got ${cmd.jobs.length})`);
    }
    const prepared: Prepared[] = [];
    const problems: string[] = [];
    let queueFull: DomainError | null = null;
    cmd.jobs.forEach((item, i) => {
      if (!item.idempotencyKey) {
        problems.push(`jobs[${i}]: IDEMPOTENCY.KEY_MISSING: 'idempotencyKey' is required`);
        return;
      }
      try {
        prepared.push(prepare(deps, newId, { ...item, clientId: cmd.clientId, requestId: cmd.requestId }));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        if (err.code === 'QUEUE.FULL') queueFull ??= err;
        else problems.push(`jobs[${i}]: ${err.code}: ${err.message}`);
      }
    });
    if (problems.length > 0) {
      throw invalidRequest(
        `${problems.length} of ${cmd.jobs.length} jobs are invalid; none was stored: ${problems.join(' | ')}`,
        problems,
      );
    }
    if (queueFull) throw queueFull;
    const stored = await deps.store.insertMany(prepared.map((p) => p.row));
    if (deps.afterCommit) {
      const entries = stored.flatMap((r) => (r.outbox ? [r.outbox] : []));
      if (entries.length > 0) deps.afterCommit(entries);
    }
    return prepared.map((p, i) => outcome(deps, p, stored[i]!));
  };
}
