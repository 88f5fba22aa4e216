import { randomUUID } from 'node:crypto';
import type { JobError } from '../domain/job.entity.js';
import {
  decideAfterFailure,
  policyForBackoff,
  unknownTypeDelayMs,
  DEFAULT_UNKNOWN_TYPE_BUDGET,
  type RandomSource,
  type RetryPolicy,
  type UnknownTypeBudget,
} from '../domain/retry-policy.js';
import { rateKeyOf, redisFlowKey, type FlowSlot } from '../domain/flow.js';
import type { AttemptTrace } from '../ports/tracing.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { FlowGate } from '../ports/flow-gate.port.js';
import type { JobCatalog } from '../ports/job-catalog.port.js';
import {
  isFanOut,
  type ChildOutcome,
  type HandlerContext,
  type HandlerRegistry,
  type JobHandler,
} from '../ports/job-handler.port.js';
import type { QueueMessageKind } from '../ports/job-queue.port.js';
import type { JobAttempts, JobFanOuts, JobReads } from '../ports/job-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Metrics } from '../ports/metrics.port.js';

/** One delivery from the queue. */
export interface Delivery {
  readonly jobId: string;
  readonly kind: QueueMessageKind;
  /** For `aggregate`: the attempt that fanned out. */
  readonly attempt: number;
  readonly queue: string;
  readonly requestId: string | null;
  /** Flow control (docs/flow-control.md), from the queue message: absent on older messages. */
  readonly type?: string;
  readonly clientId?: string;
  readonly flowKey?: string;
  readonly flowLimit?: number;
  /** How often flow control put this delivery back already (spreads the next delay). */
  readonly deferrals?: number;
}

/**
 * What the queue adapter must do with the delivery:
 * `ack` (done, or nothing to do), `retry` after `delayMs`, or `dead` (final failure).
 */
export type ProcessOutcome =
  | { readonly action: 'ack'; readonly reason: string }
  | { readonly action: 'retry'; readonly delayMs: number; readonly reason: string }
  | { readonly action: 'dead'; readonly reason: string }
  /** Flow control refused the start: put the message back delayed; no attempt was used. */
  | { readonly action: 'defer'; readonly delayMs: number; readonly reason: string };

export interface ProcessJobDeps {
  readonly store: JobAttempts & JobFanOuts & Pick<JobReads, 'getAny'>;
  readonly handlers: HandlerRegistry;
  readonly catalog: JobCatalog;
  readonly retryPolicy: RetryPolicy;
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly workerId: string;
  /** Tracing: names the attempt's span (optional; nothing when absent). */
  readonly trace?: AttemptTrace;
  /** Minimum interval between two progress writes of one attempt (the last one always lands). */
  readonly progressIntervalMs?: number;
  readonly newToken?: () => string;
  /** Retries of a store write after the handler ran (default STORE_WRITE_RETRY). */
  readonly writeRetry?: WriteRetry;
  /** Waits between write retries (tests pass a fake). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long a job of a type this worker's catalog does not know is put back (rolling deploys). */
  readonly unknownTypeBudget?: UnknownTypeBudget;
  /**
   * Flow control across workers: a slot is taken (and a rate token) before the attempt starts,
   * renewed every third of `leaseMs` while it runs, released when it ends. Absent: no flow control.
   */
  readonly flow?: { readonly gate: FlowGate; readonly leaseMs: number };
}

/** Longest delay of a delivery refused a concurrency slot (it retries sooner while slots churn). */
export const FLOW_SLOT_RETRY_MAX_MS = 5000;
/** First delay of a refused delivery; doubles with every deferral up to FLOW_SLOT_RETRY_MAX_MS. */
export const FLOW_SLOT_RETRY_BASE_MS = 50;

/**
 * How a write after the handler (result, fan-out, failure) is retried when the store throws
 * (a dropped connection, a failover, a statement timeout): `tries` in all, waiting
 * min(maxDelayMs, baseDelayMs · 2^(n-1)) after failed try n. The BullMQ lock keeps being renewed
 * meanwhile, so no other worker takes the job over.
 */
export interface WriteRetry {
  readonly tries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** 6 tries over about 8 s: rides out a dropped connection or a short failover. */
export const STORE_WRITE_RETRY: WriteRetry = { tries: 6, baseDelayMs: 250, maxDelayMs: 4000 };

/** Error code of an attempt whose handler finished but whose outcome the store refused to record. */
export const STORE_WRITE_FAILED = 'STORE.WRITE_FAILED';

/** The innermost message of an error and its `cause` chain (what the store actually said). */
export function rootMessage(err: unknown): string {
  let e = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined; depth++) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The store kept refusing a write after every retry; the queue re-delivers the job. */
export class StoreWriteError extends Error {
  constructor(
    readonly write: string,
    cause: unknown,
  ) {
    super(
      `the ${write} write failed after its retries: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = 'StoreWriteError';
  }
}

export interface JobProcessor {
  process(delivery: Delivery): Promise<ProcessOutcome>;
  /** Aborts the running attempt of `jobId` (cancel notification). */
  cancel(jobId: string): boolean;
  /** Aborts every running attempt (drain budget exhausted). Their jobs are re-queued, not failed. */
  abortAll(): void;
  /** Attempts running right now. */
  running(): number;
}

class AbortReason extends Error {
  constructor(
    readonly kind: 'cancelled' | 'timeout' | 'shutdown',
    message: string,
  ) {
    super(message);
    this.name = 'AbortReason';
  }
}

function toJobError(err: unknown, signal: AbortSignal): JobError {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (reason instanceof AbortReason && reason.kind === 'timeout') {
    return { code: 'JOB.TIMEOUT', message: reason.message, retryable: true };
  }
  if (reason instanceof AbortReason && reason.kind === 'shutdown') {
    return { code: 'WORKER.SHUTDOWN', message: reason.message, retryable: true };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const unrecoverable = err.name === 'UnrecoverableJobError';
    return {
      code: typeof code === 'string' && /^[A-Z0-9_.]{1,64}$/.test(code) ? code : 'HANDLER.FAILED',
      message: err.message.slice(0, 1000),
      retryable: !unrecoverable,
    };
  }
  return { code: 'HANDLER.FAILED', message: String(err).slice(0, 1000), retryable: true };
}

/**
 * Runs one delivery: starts a fenced attempt in PostgreSQL, runs the handler with a context
 * (logger, progress, abort signal, attempt, execution key), and records the outcome with the
 * attempt token so a stale attempt can never overwrite a newer one.
 */
export function createJobProcessor(deps: ProcessJobDeps): JobProcessor {
  const inFlight = new Map<string, AbortController>();
  const newToken = deps.newToken ?? randomUUID;
  const progressInterval = deps.progressIntervalMs ?? 1000;
  const retry = deps.writeRetry ?? STORE_WRITE_RETRY;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  /** Runs a store write, retrying a throwing store with backoff; logs every failure. */
  async function write<T>(what: string, log: Logger, fn: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await fn();
      } catch (err) {
        if (n >= retry.tries) {
          log.error({ err, write: what, tries: n }, 'store write failed; giving up');
          throw new StoreWriteError(what, err);
        }
        const delayMs = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (n - 1));
        log.warn({ err, write: what, try: n, delayMs }, 'store write failed; retrying');
        await sleep(delayMs);
      }
    }
  }

  /** The slot set of a delivery: from the message, else the job type's declared type/client key. */
  function slotOf(delivery: Delivery): FlowSlot | null {
    const info = delivery.type ? deps.catalog(delivery.type) : undefined;
    if (delivery.flowKey && delivery.flowLimit) return { key: delivery.flowKey, limit: delivery.flowLimit };
    const c = info?.flow?.concurrency;
    if (!c || !delivery.type) return null;
    if (c.key === 'type') return { key: `type:${delivery.type}`, limit: c.limit };
    if (c.key === 'client' && delivery.clientId)
      return { key: `client:${delivery.clientId}:${delivery.type}`, limit: c.limit };
    return null; // a payload key needs the submission (fan-out children have none)
  }

  /**
   * Takes the delivery's concurrency slot and rate token. Refused: the outcome to return (a
   * delay). Granted: a function that stops renewing and releases the slot.
   */
  async function admit(
    delivery: Delivery,
  ): Promise<{ ok: true; done: () => Promise<void> } | { ok: false; outcome: ProcessOutcome }> {
    const flow = deps.flow;
    const info = delivery.type ? deps.catalog(delivery.type) : undefined;
    const none = { ok: true as const, done: async () => undefined };
    if (!flow || delivery.kind !== 'run' || !delivery.type || !info || info.mode !== 'pooled') return none;
    const slot = slotOf(delivery);
    const cap = info.flow?.queueCap;
    const rateKey = rateKeyOf(info.flow, {
      type: delivery.type,
      clientId: delivery.clientId ?? '',
      slot,
    });
    if (!slot && cap === undefined && !rateKey) return none;
    const holder = newToken();
    const req = {
      key: redisFlowKey('slot', slot ? slot.key : `queue:${delivery.queue}`),
      limit: slot ? slot.limit : (cap as number),
      holder,
      leaseMs: flow.leaseMs,
      ...(cap !== undefined ? { queue: delivery.queue, queueCap: cap } : {}),
    };
    const refuse = (
      reason: 'key' | 'queue' | 'rate',
      delayMs: number,
    ): { ok: false; outcome: ProcessOutcome } => {
      deps.metrics.flowRefused?.(delivery.queue, delivery.type!, reason);
      deps.logger.debug({ jobId: delivery.jobId, reason, delayMs }, 'flow control: start refused; put back');
      return { ok: false, outcome: { action: 'defer', delayMs, reason: `flow:${reason}` } };
    };
    const slotted = slot !== null || cap !== undefined;
    if (slotted) {
      const got = await flow.gate.acquire(req);
      if (!got.ok) {
        // A lease end is the latest a slot frees; a finishing attempt frees it sooner, so retry
        // with a growing, jittered delay that never passes the lease end.
        const backoff = Math.min(
          FLOW_SLOT_RETRY_MAX_MS,
          FLOW_SLOT_RETRY_BASE_MS * 2 ** Math.min(10, delivery.deferrals ?? 0),
        );
        const delay = Math.max(
          1,
          Math.round(Math.min(got.retryAfterMs, backoff) * (0.5 + deps.random() / 2)),
        );
        return refuse(got.reason, delay);
      }
    }
    if (rateKey) {
      const r = info.flow!.rateLimit!;
      let taken;
      try {
        taken = await flow.gate.takeRate(redisFlowKey('rate', rateKey), r.limit, r.intervalMs);
      } catch (err) {
        if (slotted) await flow.gate.release(req).catch(() => undefined);
        throw err;
      }
      if (!taken.ok) {
        if (slotted) await flow.gate.release(req);
        // The window frees at retryAfterMs; the spread keeps refused jobs from arriving at once.
        const spread = Math.round(Math.min(1000, r.intervalMs) * deps.random());
        return refuse('rate', taken.retryAfterMs + spread);
      }
    }
    if (!slotted) return none;
    const renew = setInterval(
      () => {
        void flow.gate.renew(req).then(
          (held) => {
            if (!held)
              deps.logger.warn({ jobId: delivery.jobId }, 'flow control: slot lease expired while running');
          },
          (err: unknown) => deps.logger.warn({ err, jobId: delivery.jobId }, 'flow control: renew failed'),
        );
      },
      Math.max(100, Math.floor(flow.leaseMs / 3)),
    );
    renew.unref();
    return {
      ok: true,
      done: async () => {
        clearInterval(renew);
        await flow.gate.release(req).catch((err: unknown) => {
          // The lease frees the slot anyway.
          deps.logger.warn({ err, jobId: delivery.jobId }, 'flow control: release failed');
        });
      },
    };
  }

  async function process(delivery: Delivery): Promise<ProcessOutcome> {
    const admitted = await admit(delivery);
    if (!admitted.ok) return admitted.outcome;
    try {
      return await runDelivery(delivery);
    } finally {
      await admitted.done();
    }
  }

  async function runDelivery(delivery: Delivery): Promise<ProcessOutcome> {
    const log = deps.logger.child({
      jobId: delivery.jobId,
      queue: delivery.queue,
      requestId: delivery.requestId ?? undefined,
    });
    let token: string;
    let attempt: number;
    let job;
    if (delivery.kind === 'aggregate') {
      const current = await deps.store.currentToken(delivery.jobId, delivery.attempt);
      if (!current) return { action: 'ack', reason: 'parent no longer waits for this aggregate' };
      job = await deps.store.getAny(delivery.jobId);
      if (!job) return { action: 'ack', reason: 'missing' };
      token = current;
      attempt = delivery.attempt;
    } else {
      token = newToken();
      const started = await deps.store.startAttempt(delivery.jobId, token, deps.workerId);
      if (started.status === 'skipped') {
        log.info({ reason: started.reason }, 'delivery dropped: job is not runnable');
        return { action: 'ack', reason: started.reason };
      }
      if (started.status === 'dead_lettered') {
        log.warn(
          { attempt: started.job.attempts },
          'job dead-lettered: attempts exhausted by crashed workers',
        );
        deps.metrics.jobCompleted(started.job.type, 'dead_lettered', 0);
        return { action: 'dead', reason: 'attempts exhausted' };
      }
      job = started.job;
      attempt = job.attempts;
      if (started.tookOver) log.warn({ attempt }, 'took over a job whose previous attempt lost its lock');
    }
    // The worker's attempt span (adapters/tracing) learns the job's type and attempt here.
    deps.trace?.attemptStarted(job.type, attempt);
    const attemptLog = log.child({ attempt });
    const info = deps.catalog(job.type);
    const startedAt = deps.clock.now().getTime();
    const seconds = () => (deps.clock.now().getTime() - startedAt) / 1000;

    const fail = async (error: JobError): Promise<ProcessOutcome> => {
      const shutdown = error.code === 'WORKER.SHUTDOWN';
      // An attempt interrupted by a worker shutdown is re-queued whatever the budget: it did not fail.
      const decision = shutdown
        ? { action: 'retry' as const, delayMs: 0 }
        : decideAfterFailure(
            // Counted from the current budget: after a redrive the backoff starts over.
            attempt - (job.attemptBase ?? 0),
            job.maxAttempts - (job.attemptBase ?? 0),
            error.retryable,
            info?.backoff ? policyForBackoff(info.backoff) : deps.retryPolicy,
            deps.random,
          );
      if (decision.action === 'retry') {
        const runAt = new Date(deps.clock.now().getTime() + decision.delayMs);
        const written = await write('failure', attemptLog, () =>
          deps.store.failAndRetry(job.id, token, error, runAt),
        );
        if (!written) return { action: 'ack', reason: 'fenced' };
        attemptLog.warn({ error, delayMs: decision.delayMs }, 'attempt failed; retrying');
        deps.metrics.jobCompleted(job.type, 'failed', seconds());
        return { action: 'retry', delayMs: decision.delayMs, reason: error.code };
      }
      const written = await write('dead-letter', attemptLog, () =>
        deps.store.failAndDeadLetter(job.id, token, error),
      );
      if (!written) return { action: 'ack', reason: 'fenced' };
      attemptLog.error({ error }, 'job dead-lettered');
      deps.metrics.jobCompleted(job.type, 'dead_lettered', seconds());
      return { action: 'dead', reason: error.code };
    };

    /**
     * The handler finished but its outcome could not be stored: record the attempt as failed with
     * STORE_WRITE_FAILED (retried like any failure, charged one attempt). If even that cannot be
     * written, the store is unreachable: the error propagates and the queue re-delivers the job.
     */
    const recordWriteFailure = (err: unknown): Promise<ProcessOutcome> => {
      const message = rootMessage(err);
      return fail({
        code: STORE_WRITE_FAILED,
        message: `the handler finished but its outcome could not be stored: ${message}`.slice(0, 1000),
        retryable: true,
      });
    };

    if (!info) {
      // Rolling deploy: the API (or a newer worker's fan-out) knows this type, this worker does not.
      // Put the job back with a delay so a worker that knows it takes it; dead-letter past the budget.
      const budget = deps.unknownTypeBudget ?? DEFAULT_UNKNOWN_TYPE_BUDGET;
      const deferrals = await deps.store.unknownTypeDeferrals(job.id);
      const error: JobError = {
        code: 'WORKER.UNKNOWN_TYPE',
        message: `job type '${job.type}' is not in this worker's catalog`,
        retryable: true,
      };
      if (deferrals >= budget.maxDeferrals) {
        return fail({
          ...error,
          message: `${error.message} (put back ${deferrals} times; no worker that knows it took it)`,
          retryable: false,
        });
      }
      const delayMs = unknownTypeDelayMs(deferrals + 1, budget);
      const runAt = new Date(deps.clock.now().getTime() + delayMs);
      const written = await deps.store.deferUnknownType(job.id, token, error, runAt, delivery.kind === 'run');
      if (!written) return { action: 'ack', reason: 'fenced' };
      attemptLog.warn({ type: job.type, deferral: deferrals + 1, delayMs }, 'unknown job type; put back');
      return { action: 'retry', delayMs, reason: error.code };
    }
    let handler: JobHandler | undefined;
    try {
      handler = await deps.handlers.get(job.type);
    } catch (err) {
      return fail({
        code: 'HANDLER.LOAD_FAILED',
        message: (err instanceof Error ? err.message : String(err)).slice(0, 1000),
        retryable: true,
      });
    }
    if (!handler) {
      return fail({
        code: 'JOB.UNKNOWN_TYPE',
        message: `no handler for job type '${job.type}'`,
        retryable: false,
      });
    }
    const parsed = handler.parsePayload(job.payload);
    if (!parsed.ok) {
      return fail({ code: 'JOB.PAYLOAD_INVALID', message: parsed.problems.join('; '), retryable: false });
    }

    const controller = new AbortController();
    inFlight.set(job.id, controller);
    const timer = setTimeout(
      () => controller.abort(new AbortReason('timeout', `attempt exceeded ${info.timeoutSeconds} s`)),
      info.timeoutSeconds * 1000,
    );
    // The first write comes one interval into the attempt: short jobs never pay for progress
    // (the success write sets 100 %), long ones report at most once per interval.
    let lastProgressAt = deps.clock.now().getTime();
    const ctx: HandlerContext = {
      jobId: job.id,
      type: job.type,
      executionKey: job.id,
      attempt,
      maxAttempts: job.maxAttempts,
      ...(job.requestId ? { requestId: job.requestId } : {}),
      signal: controller.signal,
      logger: attemptLog,
      async progress(percent, message) {
        const p = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)));
        const now = deps.clock.now().getTime();
        // Throttled: reports in between are dropped (the success write sets 100 %).
        if (now - lastProgressAt < progressInterval) return;
        lastProgressAt = now;
        // Progress is best effort: a store error is logged, never turned into a handler failure
        // (the next report or the success write lands it).
        let ok: boolean;
        try {
          ok = await deps.store.reportProgress(job.id, token, p, message ?? null);
        } catch (err) {
          attemptLog.warn({ err }, 'progress write failed; dropped');
          return;
        }
        if (!ok && !controller.signal.aborted) {
          controller.abort(
            new AbortReason('cancelled', 'the attempt was fenced out (cancelled or taken over)'),
          );
        }
      },
    };
    // The handler runs inside this try; store writes happen after it, so a database error is
    // never mistaken for a handler failure (it propagates and the queue re-delivers).
    let output: unknown;
    try {
      const typed = handler as JobHandler<unknown>;
      if (delivery.kind === 'aggregate') {
        if (!typed.aggregate) throw new Error(`job type '${job.type}' has no aggregate step`);
        const rows = await deps.store.children(job.id);
        const outcomes: ChildOutcome[] = rows.map((r) => ({
          jobId: r.jobId,
          index: r.index,
          state: r.state === 'succeeded' || r.state === 'cancelled' ? r.state : 'dead_lettered',
          ...(r.result ? { result: r.result } : {}),
          ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
        }));
        output = await typed.aggregate(parsed.value, outcomes, ctx);
      } else {
        output = await typed.run(parsed.value, ctx);
      }
      if (controller.signal.aborted) throw controller.signal.reason;
    } catch (err) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason instanceof AbortReason && reason.kind === 'cancelled') {
        attemptLog.info({}, 'attempt stopped: job cancelled or fenced');
        deps.metrics.jobCompleted(job.type, 'cancelled', seconds());
        return { action: 'ack', reason: 'cancelled' };
      }
      return await fail(toJobError(err, controller.signal));
    } finally {
      clearTimeout(timer);
      inFlight.delete(job.id);
    }

    if (isFanOut(output)) {
      const unknown = output.children.find((c) => !deps.catalog(c.type));
      if (unknown) {
        return fail({
          code: 'JOB.FAN_OUT_INVALID',
          message: `fan-out child type '${unknown.type}' is unknown`,
          retryable: false,
        });
      }
      const children = output.children.map((c, index) => {
        const childInfo = deps.catalog(c.type)!;
        return {
          id: randomUUID(),
          index,
          type: c.type,
          payload: c.payload,
          queue: childInfo.queue,
          mode: childInfo.mode,
          maxAttempts: childInfo.maxAttempts,
        };
      });
      let ok: boolean;
      try {
        ok = await write('fan-out', attemptLog, () => deps.store.fanOut(job.id, token, children));
      } catch (err) {
        return recordWriteFailure(err);
      }
      attemptLog.info({ children: children.length, fenced: !ok }, 'fanned out');
      return { action: 'ack', reason: ok ? 'fanned out' : 'fenced' };
    }
    const result = (output ?? {}) as Record<string, unknown>;
    let done;
    try {
      done = await write('result', attemptLog, () => deps.store.succeed(job.id, token, result));
    } catch (err) {
      return recordWriteFailure(err);
    }
    if (!done) {
      attemptLog.warn({}, 'result discarded: the attempt was fenced out');
      return { action: 'ack', reason: 'fenced' };
    }
    deps.metrics.jobCompleted(job.type, 'succeeded', seconds());
    attemptLog.info({ seconds: seconds() }, 'job succeeded');
    return { action: 'ack', reason: 'succeeded' };
  }

  return {
    process,
    cancel(jobId) {
      const c = inFlight.get(jobId);
      if (!c) return false;
      c.abort(new AbortReason('cancelled', 'the job was cancelled'));
      return true;
    },
    abortAll() {
      for (const c of inFlight.values()) c.abort(new AbortReason('shutdown', 'the worker is shutting down'));
    },
    running: () => inFlight.size,
  };
}
