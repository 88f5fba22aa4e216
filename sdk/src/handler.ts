/**
 * What a job handler sees and may return. A handler is plain code: it gets a validated payload and
 * a context, and returns a JSON-serializable result or a fan-out request. The runtime owns
 * retries, state, fencing, timeouts and fan-out bookkeeping; handlers stay free of PostgreSQL,
 * Redis and HTTP.
 */

/** Structured logger; records already carry the job id, attempt, queue and request id. */
export interface JobLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** The context of one attempt of one job. */
export interface JobContext {
  readonly jobId: string;
  /** The job's type name, e.g. `media.thumbnail`. */
  readonly type: string;
  /**
   * Stable across every attempt of one job (retries, take-overs after a crash): use it as the
   * idempotency key of side effects (payments, emails, uploads) so a retried attempt does not
   * repeat them.
   */
  readonly executionKey: string;
  /** 1-based attempt number. */
  readonly attempt: number;
  /** The job's attempt budget. */
  readonly maxAttempts: number;
  readonly requestId?: string;
  /**
   * Fires on cancel, on timeout (`timeoutSeconds`) and when a worker's drain runs out of budget.
   * Pass it to every awaited I/O call and stop promptly when it fires.
   */
  readonly signal: AbortSignal;
  /** Bound to this job and attempt. */
  readonly logger: JobLogger;
  /**
   * Reports progress: `percent` is clamped to 0–100 and rounded; `message` is free text.
   * Throttled by the runtime (reports in between are dropped; the success write sets 100 %).
   */
  progress(percent: number, message?: string): Promise<void>;
}

/** A child job a fan-out parent asks the runtime to create. */
export interface ChildJob {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

/** Returned by a handler's `run` to fan out: the runtime creates the children, waits, then calls `aggregate`. */
export interface FanOut {
  readonly kind: 'fan-out';
  readonly children: readonly ChildJob[];
}

/** Makes the fan-out request `run` returns. The parent's job type must define `aggregate`. */
export function fanOut(children: readonly ChildJob[]): FanOut {
  return { kind: 'fan-out', children };
}

export function isFanOut(value: unknown): value is FanOut {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'fan-out' &&
    Array.isArray((value as { children?: unknown }).children)
  );
}

/** A finished child as seen by its parent's `aggregate` (children arrive in fan-out order). */
export interface ChildOutcome {
  readonly jobId: string;
  /** Position in the `fanOut` list, 0-based. */
  readonly index: number;
  readonly state: 'succeeded' | 'dead_lettered' | 'cancelled';
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Thrown by a handler when retrying cannot help (bad input discovered late, a permanent refusal
 * of a downstream service): the job is dead-lettered at once with `code` (`AREA.REASON`).
 * Any other error is retried within the job's attempt budget.
 */
export class UnrecoverableJobError extends Error {
  readonly code: string;
  constructor(message: string, code = 'HANDLER.UNRECOVERABLE') {
    super(message);
    // The runtime recognizes it by name, so a second copy of the SDK still works.
    this.name = 'UnrecoverableJobError';
    this.code = code;
  }
}

/** A handler as an object: `run`, plus `aggregate` for fan-out parents. */
export interface JobHandlerObject<P = unknown, R = unknown> {
  /** Does the work; returns the result or a fan-out request (`fanOut(children)`). */
  run(payload: P, ctx: JobContext): Promise<R | FanOut> | R | FanOut;
  /** Fan-out parents only: combines the finished children into the job's result. */
  aggregate?(payload: P, children: readonly ChildOutcome[], ctx: JobContext): Promise<R> | R;
}

/** A handler: a function `(payload, ctx) => result`, or an object with `run` (and `aggregate`). */
export type JobHandlerImpl<P = unknown, R = unknown> =
  ((payload: P, ctx: JobContext) => Promise<R | FanOut> | R | FanOut) | JobHandlerObject<P, R>;

/**
 * Normalizes what a `load()` resolved to: a handler, or a module whose default export (or export
 * `handler`) is one. Throws naming the job type when it is none of these.
 */
export function toHandlerObject<P, R>(type: string, loaded: unknown): JobHandlerObject<P, R> {
  const candidate = pickHandler(loaded);
  if (typeof candidate === 'function') {
    const fn = candidate as (payload: P, ctx: JobContext) => Promise<R | FanOut> | R | FanOut;
    return { run: (payload, ctx) => fn(payload, ctx) };
  }
  if (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof (candidate as { run?: unknown }).run === 'function'
  ) {
    const obj = candidate as JobHandlerObject<P, R>;
    const aggregate = (obj as { aggregate?: unknown }).aggregate;
    if (aggregate !== undefined && typeof aggregate !== 'function') {
      throw new TypeError(`handler of job type '${type}': 'aggregate' must be a function`);
    }
    return obj;
  }
  throw new TypeError(
    `load() of job type '${type}' must resolve to a handler function, an object with run(), ` +
      `or a module whose default export (or export 'handler') is one; got ${describe(loaded)}`,
  );
}

function pickHandler(loaded: unknown): unknown {
  if (typeof loaded === 'function') return loaded;
  if (typeof loaded !== 'object' || loaded === null) return loaded;
  if (typeof (loaded as { run?: unknown }).run === 'function') return loaded;
  const mod = loaded as { default?: unknown; handler?: unknown };
  if (mod.default !== undefined) return mod.default;
  return mod.handler;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).slice(0, 5).join(', ')}]`;
  return typeof value;
}
