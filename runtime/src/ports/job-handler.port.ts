/**
 * The contract between the runtime and job-type code (`runtime/src/handlers/`).
 * A handler is a payload validator plus an async function; the runtime owns retries, state,
 * fencing and fan-out bookkeeping. Handlers stay free of PostgreSQL, Redis and HTTP.
 */

/** Structured logger handed to handlers; records already carry jobId, attempt, queue and requestId. */
export interface HandlerLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

export interface HandlerContext {
  readonly jobId: string;
  /** Stable across retries of one job: use it to make side effects idempotent. */
  readonly executionKey: string;
  /** 1-based attempt number. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly requestId?: string;
  /** Fires on cancel, on timeout and when a drain runs out of budget. Handlers must stop promptly. */
  readonly signal: AbortSignal;
  readonly logger: HandlerLogger;
  /** Reports progress (0–100, clamped) with an optional message. */
  progress(percent: number, message?: string): Promise<void>;
}

/** Result of payload validation: either the typed payload or plain-English problems. */
export type PayloadCheck<P> = { ok: true; value: P } | { ok: false; problems: string[] };

/** A child job a fan-out parent asks the runtime to create. */
export interface ChildJobSpec {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

/** Returned by `run` to fan out: the runtime creates the children, waits, then calls `aggregate`. */
export interface FanOut {
  readonly kind: 'fan-out';
  readonly children: readonly ChildJobSpec[];
}

export function fanOut(children: readonly ChildJobSpec[]): FanOut {
  return { kind: 'fan-out', children };
}

export function isFanOut(value: unknown): value is FanOut {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'fan-out';
}

/** A finished child as seen by its parent's `aggregate`. */
export interface ChildOutcome {
  readonly jobId: string;
  readonly index: number;
  readonly state: 'succeeded' | 'dead_lettered' | 'cancelled';
  readonly result?: Record<string, unknown>;
  readonly error?: { code: string; message: string };
}

/** Thrown by a handler when retrying cannot help (bad input discovered late, etc.). */
export class UnrecoverableJobError extends Error {
  readonly code: string;
  constructor(message: string, code = 'HANDLER.UNRECOVERABLE') {
    super(message);
    this.name = 'UnrecoverableJobError';
    this.code = code;
  }
}

export interface JobHandler<P = unknown, R extends Record<string, unknown> = Record<string, unknown>> {
  readonly type: string;
  /** Validates and normalizes an untrusted payload (applies defaults). */
  parsePayload(input: unknown): PayloadCheck<P>;
  /** Does the work; returns a JSON-serializable result or a fan-out request. */
  run(payload: P, ctx: HandlerContext): Promise<R | FanOut>;
  /** Fan-out parents only: combines finished children into the job's result. */
  aggregate?(payload: P, children: readonly ChildOutcome[], ctx: HandlerContext): Promise<R>;
}

/** Looks handlers up by job type. */
export interface HandlerRegistry {
  get(type: string): JobHandler | undefined;
  types(): readonly string[];
}
