/**
 * `defineJobType`: a job type as pure data (name, queue, limits), zod schemas and a lazy loader of
 * its handler. Importing a definition never imports handler code, so the API and the constructs
 * can read a catalog without the handlers' dependencies.
 */
import type { z } from 'zod';
import { JOB_TYPE_PATTERN, MAX_QUEUE_NAME_LENGTH, QUEUE_NAME_PATTERN } from './contract/names.js';
import type { JobHandlerImpl } from './handler.js';
import type { LoadedResultView } from './result-view.js';

import type { ContainerSpec } from './container-spec.js';

/**
 * `pooled`: long-lived workers. `isolated`: one Kubernetes Job running the runtime's `run-one` per
 * job. `container`: any image, one Kubernetes Job per attempt created by the launcher
 * (`defineContainerJobType`, see docs/container-jobs.md).
 */
export type ExecutionMode = 'pooled' | 'isolated' | 'container';
export const EXECUTION_MODES: readonly ExecutionMode[] = ['pooled', 'isolated', 'container'];

/** Delay between attempts. `exponential`: full jitter, uniform in [0, min(maxDelayMs, delayMs · 2^(attempt-1))]. */
export interface BackoffSpec {
  readonly type: 'exponential' | 'fixed';
  /** First delay cap (exponential) or the delay (fixed), in ms. */
  readonly delayMs: number;
  /** Exponential only: upper bound on any delay, in ms (default 60 000). */
  readonly maxDelayMs?: number;
}

/**
 * Which jobs share one concurrency slot set (docs/flow-control.md): `type` (default) all jobs of
 * the type, `client` each client's jobs of the type, `payload.<path>` the jobs whose payload has
 * the same value at `<path>` (a string or number, e.g. `payload.tenantId`). A submission's
 * `concurrencyKey` replaces the declared key (scoped to the submitting client).
 */
export type FlowConcurrencyKey = 'type' | 'client' | `payload.${string}`;

/** Whose starts one rate limit counts: the type's (default), each client's, or each concurrency key's. */
export type FlowRateKey = 'type' | 'client' | 'concurrencyKey';

/** Flow control of a pooled job type, enforced by every worker together (docs/flow-control.md). */
export interface FlowSpec {
  /** At most `limit` attempts of one key run at once across all workers. */
  readonly concurrency?: { readonly limit: number; readonly key?: FlowConcurrencyKey };
  /** At most this many attempts of the queue's flow-controlled types run at once (types of a queue agree). */
  readonly queueCap?: number;
  /** At most `limit` starts in any `intervalMs` window; over it, jobs wait (never fail). */
  readonly rateLimit?: { readonly limit: number; readonly intervalMs: number; readonly key?: FlowRateKey };
  /** `client`: fair share between the clients of the queue (types of a queue agree). Absent: FIFO by priority. */
  readonly fairness?: 'client';
}

export const MAX_FLOW_LIMIT = 100_000;
/** Longest rate-limit window: one day. */
export const MAX_RATE_INTERVAL_MS = 86_400_000;
export const FLOW_PAYLOAD_PATH_PATTERN = /^payload(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,8}$/;

/** What `load()` may resolve to: a handler, or a module whose default export (or `handler`) is one. */
export type LoadedHandler<P, R> =
  | JobHandlerImpl<P, R>
  | { readonly default: JobHandlerImpl<P, R> }
  | { readonly handler: JobHandlerImpl<P, R> };

/** A validated job type. `P` is the payload after parsing (defaults applied), `R` the result, `I` the payload clients send. */
export interface JobTypeDefinition<P = unknown, R = unknown, I = unknown> {
  /** Lowercase dotted name, e.g. `media.thumbnail`. */
  readonly type: string;
  /** DNS-label-like queue name, e.g. `media`; one BullMQ queue (and one worker pool or ScaledJob). */
  readonly queue: string;
  /** `pooled`: long-lived workers consume the queue. `isolated`: one Kubernetes Job per queued job. */
  readonly mode: ExecutionMode;
  /** Upper bound on one attempt; the handler's abort signal fires when it is exceeded. Input of the drain contract. */
  readonly timeoutSeconds: number;
  /** Default attempt budget when a submission does not set one. */
  readonly maxAttempts: number;
  /** Delay between attempts; absent: the runtime's RETRY_BASE_DELAY_MS / RETRY_MAX_DELAY_MS (exponential). */
  readonly backoff?: BackoffSpec;
  /** Per-worker concurrency of the type's queue (absent: the runtime's WORKER_CONCURRENCY). */
  readonly concurrency?: number;
  /** False: child-only types (created by a fan-out parent), refused by the submit API. */
  readonly submittable: boolean;
  /** Concurrency keys, queue cap, rate limit and fairness across workers (pooled types only). */
  readonly flow?: FlowSpec;
  readonly description?: string;
  readonly payload: z.ZodType<P, I>;
  /** When given, the runtime validates every result against it (`HANDLER.RESULT_INVALID` when it does not match). */
  readonly result?: z.ZodType<R>;
  /** A valid payload, shown in the OpenAPI document (checked against `payload` by `defineJobType`). */
  readonly example?: I;
  /** Rules spanning several fields, run on a well-typed payload; each problem is a complete sentence. */
  readonly checks?: (payload: P) => readonly string[];
  /** Imports the handler: called by a worker the first time it runs this type, never by the API. */
  readonly load: () => Promise<LoadedHandler<P, R>>;
  /** Mode `container` only: the image and how its Kubernetes Job is built (`defineContainerJobType`). */
  readonly container?: ContainerSpec;
  /** Imports the console's result view of a finished job (see result-view.ts); called by the API on first use. */
  readonly view?: () => Promise<LoadedResultView>;
}

/** Any job type, whatever its payload and result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobType = JobTypeDefinition<any, any, any>;

/** The parsed payload type of a job type. */
export type PayloadOf<D> = D extends JobTypeDefinition<infer P, unknown, unknown> ? P : never;
/** The payload type a client submits (before defaults). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PayloadInputOf<D> = D extends JobTypeDefinition<any, any, infer I> ? I : never;
/** The result type of a job type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResultOf<D> = D extends JobTypeDefinition<any, infer R, any> ? R : never;
/**
 * The handler type of a job type, for code that is not what its `load()` imports (tests, wrappers).
 * A handler module itself should use the schemas' types (`JobHandlerImpl<z.output<typeof payload>, …>`):
 * the definition's type depends on what `load()` imports, so `typeof definition` there is circular.
 */
export type Handler<D> = JobHandlerImpl<PayloadOf<D>, ResultOf<D>>;

/** Options of `defineJobType`; everything but `type`, `queue`, `timeoutSeconds`, `payload` and `load` has a default. */
export interface JobTypeOptions<S extends z.ZodType, RS extends z.ZodType> {
  readonly type: string;
  readonly queue: string;
  /** Default `pooled`. */
  readonly mode?: ExecutionMode;
  readonly timeoutSeconds: number;
  /** Default 3. */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffSpec;
  readonly concurrency?: number;
  /** Default true. */
  readonly submittable?: boolean;
  /** Flow control across workers (docs/flow-control.md); pooled types only. */
  readonly flow?: FlowSpec;
  readonly description?: string;
  readonly payload: S;
  readonly result?: RS;
  readonly example?: z.input<S>;
  readonly checks?: (payload: z.output<S>) => readonly string[];
  readonly load: () => Promise<LoadedHandler<z.output<S>, z.output<RS>>>;
  /** The console's result view, e.g. `() => import('./my-type.view.js')`. */
  readonly view?: () => Promise<LoadedResultView>;
}

export { JOB_TYPE_PATTERN, MAX_QUEUE_NAME_LENGTH, QUEUE_NAME_PATTERN };
export const MAX_JOB_TYPE_LENGTH = 128;
/** One attempt may last at most a day: the drain contract makes pods wait this long on shutdown. */
export const MAX_TIMEOUT_SECONDS = 86_400;
export const MAX_ATTEMPTS = 100;
export const MAX_CONCURRENCY = 1000;
/** Longest backoff delay: one day. */
export const MAX_BACKOFF_MS = 86_400_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MAX_DELAY_MS = 60_000;

/** Thrown by `defineJobType` / `defineCatalog`; the message names the field and the value. */
export class JobTypeDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobTypeDefinitionError';
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

/** Problem of a job type name, or undefined when it is valid. */
export function jobTypeNameProblem(name: unknown): string | undefined {
  if (typeof name === 'string' && name.length > MAX_JOB_TYPE_LENGTH) {
    return `must be at most ${MAX_JOB_TYPE_LENGTH} characters`;
  }
  if (typeof name !== 'string' || !JOB_TYPE_PATTERN.test(name)) {
    return `must be lowercase dotted words of [a-z0-9_-], each starting with a letter, e.g. 'media.thumbnail'`;
  }
  return undefined;
}

/** Problem of a queue name, or undefined when it is valid. */
export function queueNameProblem(name: unknown): string | undefined {
  if (typeof name === 'string' && name.length > MAX_QUEUE_NAME_LENGTH) {
    return `must be at most ${MAX_QUEUE_NAME_LENGTH} characters`;
  }
  if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
    return `must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit, e.g. 'media'`;
  }
  return undefined;
}

function isZodSchema(value: unknown): value is z.ZodType {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function' &&
    typeof (value as { _zod?: unknown })._zod === 'object'
  );
}

function intIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Declares a job type. Validates every field and throws a `JobTypeDefinitionError` naming the field
 * and the value, e.g. `job type 'Media': 'type' ("Media") must be lowercase dotted …`.
 */
export function defineJobType<S extends z.ZodType, RS extends z.ZodType = z.ZodType<Record<string, unknown>>>(
  options: JobTypeOptions<S, RS>,
): JobTypeDefinition<z.output<S>, z.output<RS>, z.input<S>> {
  const o = options as JobTypeOptions<S, RS> & Record<string, unknown> & { [CONTAINER_SPEC]?: unknown };
  if (typeof o !== 'object' || o === null)
    throw new JobTypeDefinitionError('defineJobType needs an options object');
  const label = typeof o.type === 'string' ? `job type '${o.type}'` : 'job type';
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new JobTypeDefinitionError(`${label}: '${field}' (${show(value)}) ${rule}`);
  };
  const typeProblem = jobTypeNameProblem(o.type);
  if (typeProblem) fail('type', o.type, typeProblem);
  const queueProblem = queueNameProblem(o.queue);
  if (queueProblem) fail('queue', o.queue, queueProblem);
  const mode = o.mode ?? 'pooled';
  if (!EXECUTION_MODES.includes(mode) || (mode === 'container') !== (o[CONTAINER_SPEC] !== undefined)) {
    fail(
      'mode',
      o.mode,
      `must be one of 'pooled', 'isolated' (container job types are declared with defineContainerJobType)`,
    );
  }
  if (!intIn(o.timeoutSeconds, 1, MAX_TIMEOUT_SECONDS)) {
    fail('timeoutSeconds', o.timeoutSeconds, `must be an integer from 1 to ${MAX_TIMEOUT_SECONDS}`);
  }
  const maxAttempts = o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!intIn(maxAttempts, 1, MAX_ATTEMPTS)) {
    fail('maxAttempts', o.maxAttempts, `must be an integer from 1 to ${MAX_ATTEMPTS}`);
  }
  const backoff = o.backoff === undefined ? undefined : checkBackoff(o.backoff, fail);
  if (o.concurrency !== undefined && !intIn(o.concurrency, 1, MAX_CONCURRENCY)) {
    fail('concurrency', o.concurrency, `must be an integer from 1 to ${MAX_CONCURRENCY}`);
  }
  if (o.submittable !== undefined && typeof o.submittable !== 'boolean') {
    fail('submittable', o.submittable, 'must be a boolean');
  }
  const flow = o.flow === undefined ? undefined : checkFlow(o.flow, mode, fail);
  if (o.description !== undefined && (typeof o.description !== 'string' || o.description.length > 2000)) {
    fail('description', o.description, 'must be a string of at most 2000 characters');
  }
  if (!isZodSchema(o.payload)) fail('payload', o.payload, 'must be a zod schema');
  if (o.result !== undefined && !isZodSchema(o.result)) fail('result', o.result, 'must be a zod schema');
  if (o.checks !== undefined && typeof o.checks !== 'function')
    fail('checks', o.checks, 'must be a function');
  if (typeof o.load !== 'function') {
    fail(
      'load',
      o.load,
      "must be a function returning a promise of the handler, e.g. () => import('./handler.js')",
    );
  }
  if (o.view !== undefined && typeof o.view !== 'function') {
    fail(
      'view',
      o.view,
      "must be a function returning a promise of the view, e.g. () => import('./view.js')",
    );
  }
  if (o.example !== undefined) {
    const parsed = o.payload.safeParse(o.example);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      fail(
        'example',
        o.example,
        `does not match 'payload': ${first?.path.join('.') || 'payload'}: ${first?.message}`,
      );
    }
    const problems = parsed.success && o.checks ? o.checks(parsed.data) : [];
    if (problems.length > 0) fail('example', o.example, `does not pass 'checks': ${problems.join('; ')}`);
  }
  const def = {
    type: o.type,
    queue: o.queue,
    mode,
    timeoutSeconds: o.timeoutSeconds,
    maxAttempts,
    ...(backoff ? { backoff } : {}),
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    submittable: o.submittable ?? true,
    ...(flow ? { flow } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    payload: o.payload,
    ...(o.result !== undefined ? { result: o.result } : {}),
    ...(o.example !== undefined ? { example: o.example } : {}),
    ...(o.checks !== undefined ? { checks: o.checks } : {}),
    load: o.load,
    ...(o[CONTAINER_SPEC] !== undefined ? { container: o[CONTAINER_SPEC] as ContainerSpec } : {}),
    ...(o.view !== undefined ? { view: o.view } : {}),
  };
  Object.defineProperty(def, JOB_TYPE_BRAND, { value: 1 });
  return Object.freeze(def) as JobTypeDefinition<z.output<S>, z.output<RS>, z.input<S>>;
}

const JOB_TYPE_BRAND = Symbol.for('jobplane.jobType');
/** Where `defineContainerJobType` passes its validated spec (not an option of `defineJobType`). */
export const CONTAINER_SPEC = Symbol.for('jobplane.containerSpec');

/** Whether `value` was made by `defineJobType` (of this or another copy of the SDK). */
export function isJobType(value: unknown): value is AnyJobType {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_TYPE_BRAND] === 1
  );
}

function checkBackoff(
  backoff: unknown,
  fail: (field: string, value: unknown, rule: string) => never,
): BackoffSpec {
  if (typeof backoff !== 'object' || backoff === null) return fail('backoff', backoff, 'must be an object');
  const b = backoff as Record<string, unknown>;
  if (b.type !== 'exponential' && b.type !== 'fixed') {
    fail('backoff.type', b.type, `must be one of 'exponential', 'fixed'`);
  }
  if (!intIn(b.delayMs, 0, MAX_BACKOFF_MS)) {
    fail('backoff.delayMs', b.delayMs, `must be an integer from 0 to ${MAX_BACKOFF_MS}`);
  }
  const delayMs = b.delayMs as number;
  if (b.maxDelayMs !== undefined) {
    if (b.type === 'fixed') fail('backoff.maxDelayMs', b.maxDelayMs, "applies to 'exponential' only");
    if (!intIn(b.maxDelayMs, delayMs, MAX_BACKOFF_MS)) {
      fail(
        'backoff.maxDelayMs',
        b.maxDelayMs,
        `must be an integer from 'backoff.delayMs' (${delayMs}) to ${MAX_BACKOFF_MS}`,
      );
    }
  }
  for (const key of Object.keys(b)) {
    if (!['type', 'delayMs', 'maxDelayMs'].includes(key))
      fail(`backoff.${key}`, b[key], 'is not a known field');
  }
  return Object.freeze(
    b.type === 'fixed'
      ? { type: 'fixed' as const, delayMs }
      : {
          type: 'exponential' as const,
          delayMs,
          maxDelayMs: (b.maxDelayMs as number | undefined) ?? Math.max(delayMs, DEFAULT_BACKOFF_MAX_DELAY_MS),
        },
  );
}

function checkFlow(
  flow: unknown,
  mode: ExecutionMode,
  fail: (field: string, value: unknown, rule: string) => never,
): FlowSpec {
  if (typeof flow !== 'object' || flow === null || Array.isArray(flow))
    return fail('flow', flow, 'must be an object');
  if (mode !== 'pooled') fail('flow', flow, "applies to mode 'pooled' only");
  const f = flow as Record<string, unknown>;
  const limitRule = `must be an integer from 1 to ${MAX_FLOW_LIMIT}`;
  const knownOnly = (obj: Record<string, unknown>, field: string, known: readonly string[]) => {
    for (const key of Object.keys(obj))
      if (!known.includes(key)) fail(field ? `${field}.${key}` : key, obj[key], 'is not a known field');
  };
  knownOnly(f, 'flow', ['concurrency', 'queueCap', 'rateLimit', 'fairness']);
  let concurrency: FlowSpec['concurrency'];
  if (f.concurrency !== undefined) {
    const c = f.concurrency as Record<string, unknown>;
    if (typeof c !== 'object' || c === null) fail('flow.concurrency', c, 'must be an object');
    knownOnly(c, 'flow.concurrency', ['limit', 'key']);
    if (!intIn(c.limit, 1, MAX_FLOW_LIMIT)) fail('flow.concurrency.limit', c.limit, limitRule);
    const key = c.key ?? 'type';
    if (
      key !== 'type' &&
      key !== 'client' &&
      !(typeof key === 'string' && FLOW_PAYLOAD_PATH_PATTERN.test(key))
    ) {
      fail(
        'flow.concurrency.key',
        c.key,
        "must be 'type', 'client' or a payload field path like 'payload.tenantId'",
      );
    }
    concurrency = Object.freeze({ limit: c.limit as number, key: key as FlowConcurrencyKey });
  }
  if (f.queueCap !== undefined && !intIn(f.queueCap, 1, MAX_FLOW_LIMIT))
    fail('flow.queueCap', f.queueCap, limitRule);
  let rateLimit: FlowSpec['rateLimit'];
  if (f.rateLimit !== undefined) {
    const r = f.rateLimit as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) fail('flow.rateLimit', r, 'must be an object');
    knownOnly(r, 'flow.rateLimit', ['limit', 'intervalMs', 'key']);
    if (!intIn(r.limit, 1, MAX_FLOW_LIMIT)) fail('flow.rateLimit.limit', r.limit, limitRule);
    if (!intIn(r.intervalMs, 1, MAX_RATE_INTERVAL_MS))
      fail('flow.rateLimit.intervalMs', r.intervalMs, `must be an integer from 1 to ${MAX_RATE_INTERVAL_MS}`);
    const key = r.key ?? 'type';
    if (key !== 'type' && key !== 'client' && key !== 'concurrencyKey')
      fail('flow.rateLimit.key', r.key, "must be one of 'type', 'client', 'concurrencyKey'");
    rateLimit = Object.freeze({
      limit: r.limit as number,
      intervalMs: r.intervalMs as number,
      key: key as FlowRateKey,
    });
  }
  if (f.fairness !== undefined && f.fairness !== 'client')
    fail('flow.fairness', f.fairness, "must be 'client'");
  return Object.freeze({
    ...(concurrency ? { concurrency } : {}),
    ...(f.queueCap !== undefined ? { queueCap: f.queueCap as number } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(f.fairness !== undefined ? { fairness: 'client' as const } : {}),
  });
}

/** `childJob(def, payload)`: a typed fan-out child of job type `def`. */
export function childJob<D extends AnyJobType>(
  def: D,
  payload: PayloadInputOf<D> & Record<string, unknown>,
): { readonly type: string; readonly payload: Record<string, unknown> } {
  return { type: def.type, payload };
}
