import { createHash } from 'node:crypto';
import { invalidRequest } from './errors.js';

/** A job type's flow control (the SDK's `flow`, see docs/flow-control.md). */
export interface JobTypeFlow {
  /** `key`: 'type', 'client' or 'payload.<path>'. */
  readonly concurrency?: { readonly limit: number; readonly key: string };
  readonly queueCap?: number;
  readonly rateLimit?: {
    readonly limit: number;
    readonly intervalMs: number;
    readonly key: 'type' | 'client' | 'concurrencyKey';
  };
  readonly fairness?: 'client';
}

/**
 * Flow control decided at submission (docs/flow-control.md): which concurrency slot set a job
 * belongs to and its limit. Stored with the job and carried in the queue message, so a worker
 * takes the slot without reading PostgreSQL.
 */
export const CONCURRENCY_KEY_MAX_LENGTH = 128;
/** Largest per-submission `concurrencyLimit` when the job type declares no limit of its own. */
export const MAX_SUBMISSION_CONCURRENCY_LIMIT = 100_000;

/** Why a submission's concurrency key is refused, or null. */
export function concurrencyKeyProblem(key: string): string | null {
  if (key.length === 0) return 'must not be empty';
  if (key.length > CONCURRENCY_KEY_MAX_LENGTH)
    return `must be at most ${CONCURRENCY_KEY_MAX_LENGTH} characters (got ${key.length})`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) return 'must not contain control characters (C0, DEL, C1)';
  return null;
}

/** The slot set one job's attempts count against. */
export interface FlowSlot {
  /** Resolved key, e.g. `type:media.thumbnail`, `client:<client>:<type>`, `key:<client>:<key>`. */
  readonly key: string;
  readonly limit: number;
}

export interface FlowSubmission {
  readonly type: string;
  readonly clientId: string;
  readonly payload: Record<string, unknown>;
  readonly concurrencyKey?: string | undefined;
  readonly concurrencyLimit?: number | undefined;
}

function show(v: unknown): string {
  return v === undefined ? 'undefined' : (JSON.stringify(v) ?? String(v)).slice(0, 60);
}

/** Reads `payload.a.b` from a payload; undefined when a step is missing. */
function atPath(payload: Record<string, unknown>, path: string): unknown {
  let cur: unknown = payload;
  for (const step of path.split('.').slice(1)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

/**
 * The job's slot set, or null when its type and the submission declare no concurrency. Throws a
 * REQUEST.INVALID DomainError naming the field for a bad key or limit.
 */
export function resolveFlowSlot(
  flow: JobTypeFlow | undefined,
  mode: string,
  sub: FlowSubmission,
): FlowSlot | null {
  const key = sub.concurrencyKey;
  const limit = sub.concurrencyLimit;
  if (key === undefined && limit === undefined) {
    const c = flow?.concurrency;
    if (!c) return null;
    return { key: declaredKey(c.key, sub), limit: c.limit };
  }
  if (mode !== 'pooled') {
    const field = key !== undefined ? 'concurrencyKey' : 'concurrencyLimit';
    throw invalidRequest(
      `'${field}' applies to pooled job types only; job type '${sub.type}' runs in mode '${mode}'`,
    );
  }
  if (key !== undefined) {
    const problem = typeof key === 'string' ? concurrencyKeyProblem(key) : 'must be a string';
    if (problem) throw invalidRequest(`'concurrencyKey' (${show(key)}) ${problem}`);
  }
  const declared = flow?.concurrency?.limit;
  const max = declared ?? MAX_SUBMISSION_CONCURRENCY_LIMIT;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > max)) {
    throw invalidRequest(
      declared !== undefined
        ? `'concurrencyLimit' (${show(limit)}) must be an integer from 1 to ${max} (job type '${sub.type}' allows at most ${max} per key)`
        : `'concurrencyLimit' (${show(limit)}) must be an integer from 1 to ${max}`,
    );
  }
  const effective = limit ?? declared;
  if (effective === undefined) {
    throw invalidRequest(
      `'concurrencyKey' (${show(key)}) needs a limit: job type '${sub.type}' declares no flow.concurrency; set 'concurrencyLimit'`,
    );
  }
  if (key !== undefined) return { key: `key:${sub.clientId}:${key}`, limit: effective };
  if (!flow?.concurrency) {
    throw invalidRequest(
      `'concurrencyLimit' (${show(limit)}) needs a 'concurrencyKey': job type '${sub.type}' declares no flow.concurrency`,
    );
  }
  return { key: declaredKey(flow.concurrency.key, sub), limit: effective };
}

function declaredKey(kind: string, sub: FlowSubmission): string {
  if (kind === 'client') return `client:${sub.clientId}:${sub.type}`;
  if (kind.startsWith('payload.')) {
    const v = atPath(sub.payload, kind);
    if (!(typeof v === 'string' && v.length > 0) && !(typeof v === 'number' && Number.isFinite(v))) {
      throw invalidRequest(
        `'${kind}' (${show(v)}) must be a non-empty string or a number: job type '${sub.type}' keys its concurrency on it`,
      );
    }
    const text = String(v);
    const problem = concurrencyKeyProblem(text);
    if (problem) throw invalidRequest(`'${kind}' (${show(v)}) ${problem}`);
    return `payload:${sub.type}:${kind}=${text}`;
  }
  return `type:${sub.type}`;
}

/** What a worker needs to gate one delivery, carried in the queue message. */
export interface FlowTicket {
  readonly type: string;
  readonly clientId: string;
  readonly slot: FlowSlot | null;
}

/**
 * A resolved key as the gate's key name: hashed (the gate adds `{<prefix>:flow}:slot:` or
 * `:rate:`), so client-chosen text never lands raw in a Redis key.
 */
export function redisFlowKey(kind: 'slot' | 'rate', key: string): string {
  return createHash('sha256').update(`${kind}\u0000${key}`).digest('hex').slice(0, 40);
}

/** The rate-limit key of one start, or null when the type has no rate limit. */
export function rateKeyOf(flow: JobTypeFlow | undefined, ticket: FlowTicket): string | null {
  const r = flow?.rateLimit;
  if (!r) return null;
  if (r.key === 'client') return `client:${ticket.clientId}:${ticket.type}`;
  if (r.key === 'concurrencyKey' && ticket.slot) return `slot:${ticket.slot.key}`;
  return `type:${ticket.type}`;
}
