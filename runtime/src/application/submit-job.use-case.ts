import { createHash, randomUUID } from 'node:crypto';
import { DomainError, invalidRequest } from '../domain/errors.js';
import { idempotencyKeyProblem, type Job } from '../domain/job.entity.js';
import type { BacklogGauge } from '../ports/backlog.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { JobCatalog } from '../ports/job-catalog.port.js';
import type { JobStore } from '../ports/job-store.port.js';
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
}

export interface SubmitJobResult {
  readonly job: Job;
  /** False on an idempotent replay (same key, same request). */
  readonly created: boolean;
}

export const PRIORITY_RANGE = { min: -1000, max: 1000 } as const;
export const MAX_ATTEMPTS_LIMIT = 100;

export interface SubmitJobDeps {
  readonly store: JobStore;
  readonly catalog: JobCatalog;
  /** Listed in the JOB.UNKNOWN_TYPE message. */
  readonly submittableTypes: readonly string[];
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly newId?: () => string;
  /** With `maxDepth`: refuse new jobs (503 QUEUE.FULL) while a queue's backlog is above it. */
  readonly backlog?: BacklogGauge;
  readonly maxDepth?: number;
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
  });
  return createHash('sha256').update(material).digest('hex');
}

export type SubmitJob = (cmd: SubmitJobCommand) => Promise<SubmitJobResult>;

/**
 * Accepts a job: validates it, then stores row + outbox + event in one transaction. The same
 * (client, Idempotency-Key) returns the stored job when the request is the same, and fails with
 * IDEMPOTENCY.KEY_REUSED when it differs.
 */
export function createSubmitJob(deps: SubmitJobDeps): SubmitJob {
  const newId = deps.newId ?? randomUUID;
  return async (cmd) => {
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
    const depth = deps.backlog?.depth(info.queue) ?? null;
    if (depth !== null && deps.maxDepth !== undefined && depth >= deps.maxDepth) {
      throw new DomainError(
        'QUEUE.FULL',
        `queue '${info.queue}' has ${depth} jobs waiting (limit ${deps.maxDepth}); retry later`,
      );
    }
    const hash = requestHash(cmd);
    const now = deps.clock.now();
    const result = await deps.store.insert({
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
    });
    if (!result.created && result.requestHash !== hash) {
      throw new DomainError(
        'IDEMPOTENCY.KEY_REUSED',
        'this Idempotency-Key was already used with a different request',
        { jobId: result.job.id },
      );
    }
    if (result.created) deps.metrics.jobSubmitted(cmd.type);
    return { job: result.job, created: result.created };
  };
}
