import { describe, expect, it } from 'vitest';
import {
  createJobProcessor,
  StoreWriteError,
  type Delivery,
  type ProcessJobDeps,
} from '../../../src/application/process-job.use-case.js';
import type { Job, JobError } from '../../../src/domain/job.entity.js';
import type { JobState } from '../../../src/domain/job-state.js';
import type { FlowGate } from '../../../src/ports/flow-gate.port.js';
import type { JobCatalog } from '../../../src/ports/job-catalog.port.js';
import {
  fanOut,
  UnrecoverableJobError,
  type HandlerRegistry,
  type JobHandler,
} from '../../../src/ports/job-handler.port.js';
import type { ChildSpec, StartResult } from '../../../src/ports/job-store.port.js';
import { SILENT_LOGGER } from '../../../src/ports/logger.port.js';
import { NOOP_METRICS } from '../../../src/ports/metrics.port.js';

/** In-memory JobStore with the same fencing rules as the PostgreSQL one (what the processor uses). */
class FakeStore {
  job: Job;
  token: string | null = null;
  writes: string[] = [];
  progressWrites: number[] = [];
  /** Writes that throw (like a dropped PostgreSQL connection) this many times before working. */
  failing: Partial<Record<'succeed' | 'failAndRetry' | 'reportProgress', number>> = {};
  fanned: ChildSpec[] = [];
  deferrals = 0;
  deferredRunAt: Date | null = null;
  constructor(over: Partial<Job> = {}) {
    const now = new Date(0);
    this.job = {
      id: 'j1',
      clientId: 'c',
      type: 't.ok',
      payload: {},
      state: 'queued',
      priority: 0,
      runAt: now,
      attempts: 0,
      maxAttempts: 2,
      progress: 0,
      progressMessage: null,
      result: null,
      error: null,
      mode: 'pooled',
      queue: 'default',
      idempotencyKey: 'k',
      parentId: null,
      childIndex: null,
      fanOutTotal: null,
      requestId: 'r1',
      createTime: now,
      updateTime: now,
      startTime: null,
      finishTime: null,
      ...over,
    };
  }
  private set(state: JobState, extra: Partial<Job> = {}) {
    this.job = { ...this.job, state, ...extra };
    this.writes.push(state);
    return this.job;
  }
  private fenced(token: string) {
    return this.job.state === 'running' && this.token === token;
  }
  private throwIfFailing(write: 'succeed' | 'failAndRetry' | 'reportProgress') {
    const left = this.failing[write] ?? 0;
    if (left > 0) {
      this.failing[write] = left - 1;
      throw Object.assign(new Error('Connection terminated unexpectedly'), { write });
    }
  }
  /** The processor's store port, whole (a typed double, no cast), with injected write failures. */
  asStore(): ProcessJobDeps['store'] {
    return {
      startAttempt: async (_id: string, token: string): Promise<StartResult> => {
        if (this.job.state !== 'queued') return { status: 'skipped', reason: this.job.state };
        this.token = token;
        return {
          status: 'started',
          job: this.set('running', { attempts: this.job.attempts + 1 }),
          token,
          tookOver: false,
        };
      },
      reportProgress: async (_id: string, token: string, percent: number) => {
        this.throwIfFailing('reportProgress');
        if (!this.fenced(token)) return false;
        this.progressWrites.push(percent);
        this.job = { ...this.job, progress: percent };
        return true;
      },
      succeed: async (_id: string, token: string, result: Record<string, unknown>) => {
        this.throwIfFailing('succeed');
        return this.fenced(token) ? this.set('succeeded', { result }) : null;
      },
      failAndRetry: async (_id: string, token: string, error: JobError) => {
        this.throwIfFailing('failAndRetry');
        return this.fenced(token) ? this.set('queued', { error }) : null;
      },
      failAndDeadLetter: async (_id: string, token: string, error: JobError) =>
        this.fenced(token) ? this.set('dead_lettered', { error }) : null,
      deferUnknownType: async (
        _id: string,
        token: string,
        error: JobError,
        runAt: Date,
        release: boolean,
      ) => {
        if (!this.fenced(token)) return false;
        this.deferrals++;
        this.deferredRunAt = runAt;
        if (release) this.set('queued', { attempts: this.job.attempts - 1, error });
        return true;
      },
      unknownTypeDeferrals: async () => this.deferrals,
      fanOut: async (_id: string, token: string, children: readonly ChildSpec[]) => {
        if (!this.fenced(token)) return false;
        this.fanned = [...children];
        this.job = { ...this.job, fanOutTotal: children.length };
        return true;
      },
      currentToken: async () =>
        this.job.state === 'running' && this.job.fanOutTotal !== null ? this.token : null,
      getAny: async () => this.job,
      children: async () => [
        { jobId: 'c0', index: 0, state: 'succeeded' as const, result: { v: 2 }, error: null },
        {
          jobId: 'c1',
          index: 1,
          state: 'dead_lettered' as const,
          result: null,
          error: { code: 'X', message: 'bad', retryable: true },
        },
      ],
    };
  }
}

const handler = (type: string, run: JobHandler['run'], extra: Partial<JobHandler> = {}): JobHandler => ({
  type,
  parsePayload: (input) => ({ ok: true, value: input }),
  run,
  ...extra,
});

/** The clock the processor is given; `t.progress` moves it while it reports. */
let fakeNow = 0;
const fakeClock = { now: () => new Date(fakeNow) };

const handlers: HandlerRegistry = {
  get: (t) =>
    ({
      't.ok': handler('t.ok', async (_p, ctx) => {
        await ctx.progress(150, 'over the top');
        return { attempt: ctx.attempt, key: ctx.executionKey, requestId: ctx.requestId };
      }),
      't.fail': handler('t.fail', async () => {
        throw Object.assign(new Error('nope'), { code: 'T.NOPE' });
      }),
      't.fixed': handler('t.fixed', async () => {
        throw new Error('again');
      }),
      't.fatal': handler('t.fatal', async () => {
        throw new UnrecoverableJobError('never works');
      }),
      't.slow': handler(
        't.slow',
        (_p, ctx) =>
          new Promise((_r, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))),
          ),
      ),
      't.badpayload': {
        ...handler('t.badpayload', async () => ({})),
        parsePayload: () => ({ ok: false as const, problems: ['bad'] }),
      },
      't.progress': handler('t.progress', async (_p, ctx) => {
        // steps of [ms the clock moves before the report, percent reported]
        for (const [advance, percent] of [
          [0, 10],
          [500, 20],
          [499, 30],
          [1, 40],
          [0, 50],
          [999, 60],
          [1000, 70],
        ] as const) {
          fakeNow += advance;
          await ctx.progress(percent);
        }
        return {};
      }),
      't.parent': handler('t.parent', async () => fanOut([{ type: 't.ok', payload: { n: 1 } }]), {
        aggregate: async (_p, children) => ({ states: children.map((c) => c.state).join(',') }),
      }),
    })[t],
  types: () => [],
};
const catalog: JobCatalog = (t) =>
  t.startsWith('t.')
    ? {
        mode: 'pooled',
        queue: 'default',
        timeoutSeconds: t === 't.slow' ? 0.05 : 5,
        maxAttempts: 2,
        submittable: true,
        ...(t === 't.fixed' ? { backoff: { type: 'fixed' as const, delayMs: 777 } } : {}),
        parsePayload: (input) => ({ ok: true, value: input }),
      }
    : undefined;

const delivery: Delivery = { jobId: 'j1', kind: 'run', attempt: 0, queue: 'default', requestId: 'r1' };

function processor(store: FakeStore, over: Partial<ProcessJobDeps> = {}) {
  return createJobProcessor({
    store: store.asStore(),
    handlers,
    catalog,
    retryPolicy: { baseDelayMs: 100, maxDelayMs: 1000 },
    random: () => 0.5,
    clock: { now: () => new Date() },
    logger: SILENT_LOGGER,
    metrics: NOOP_METRICS,
    workerId: 'w',
    progressIntervalMs: 0,
    ...over,
  });
}

describe('process-job use case', () => {
  it('runs the handler with a context and records the result', async () => {
    const s = new FakeStore();
    expect(await processor(s).process(delivery)).toEqual({ action: 'ack', reason: 'succeeded' });
    expect(s.job.state).toBe('succeeded');
    expect(s.job.result).toEqual({ attempt: 1, key: 'j1', requestId: 'r1' });
  });

  it('clamps progress to 0..100', async () => {
    const s = new FakeStore();
    await processor(s).process(delivery);
    expect(s.job.progress).toBe(100);
  });

  it('writes progress at most once per interval of the injected clock', async () => {
    const s = new FakeStore({ type: 't.progress' });
    fakeNow = 1_000_000;
    const p = processor(s, { clock: fakeClock, progressIntervalMs: 1000 });
    expect(await p.process(delivery)).toEqual({ action: 'ack', reason: 'succeeded' });
    // 10, 20 and 30 come within the first interval of the attempt (30 at 999 ms); 40 lands at
    // 1000 ms; 50 (same instant) and 60 (999 ms later) are dropped; 70 comes a whole interval later.
    expect(s.progressWrites).toEqual([40, 70]);
    expect(s.job.state).toBe('succeeded');
  });

  describe('a store error on a write after the handler', () => {
    const retry = { tries: 3, baseDelayMs: 100, maxDelayMs: 150 };
    function withWaits(s: FakeStore) {
      const waits: number[] = [];
      const logged: { level: string; msg: string; err?: unknown }[] = [];
      const logger = {
        ...SILENT_LOGGER,
        child: () => logger,
        warn: (o: Record<string, unknown>, msg: string) => logged.push({ level: 'warn', msg, err: o.err }),
        error: (o: Record<string, unknown>, msg: string) => logged.push({ level: 'error', msg, err: o.err }),
      };
      const p = processor(s, {
        writeRetry: retry,
        sleep: async (ms) => {
          waits.push(ms);
        },
        logger: logger as typeof SILENT_LOGGER,
      });
      return { p, waits, logged };
    }

    it('is logged and the write retried with backoff; the handler does not run again', async () => {
      const s = new FakeStore({ type: 't.ok' });
      s.failing = { succeed: 2 };
      const { p, waits, logged } = withWaits(s);
      expect(await p.process(delivery)).toEqual({ action: 'ack', reason: 'succeeded' });
      expect(s.writes, 'one attempt, one result').toEqual(['running', 'succeeded']);
      expect(s.job).toMatchObject({ state: 'succeeded', attempts: 1 });
      expect(waits).toEqual([100, 150]);
      expect(logged.map((l) => [l.level, l.msg])).toEqual([
        ['warn', 'store write failed; retrying'],
        ['warn', 'store write failed; retrying'],
      ]);
      expect((logged[0]?.err as Error).message).toBe('Connection terminated unexpectedly');
    });

    it('that persists is recorded as STORE.WRITE_FAILED (not WORKER.LOST) and retried like a failure', async () => {
      const s = new FakeStore({ type: 't.ok' });
      s.failing = { succeed: 99 };
      const { p, logged } = withWaits(s);
      expect(await p.process(delivery)).toEqual({
        action: 'retry',
        delayMs: 50,
        reason: 'STORE.WRITE_FAILED',
      });
      expect(s.job.state).toBe('queued');
      expect(s.job.error).toMatchObject({ code: 'STORE.WRITE_FAILED', retryable: true });
      expect(s.job.error?.message).toContain('Connection terminated unexpectedly');
      expect(logged.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
        'store write failed; giving up',
      ]);
    });

    it('when nothing can be written, propagates a StoreWriteError (the queue re-delivers)', async () => {
      const s = new FakeStore({ type: 't.ok' });
      s.failing = { succeed: 99, failAndRetry: 99 };
      const { p } = withWaits(s);
      await expect(p.process(delivery)).rejects.toBeInstanceOf(StoreWriteError);
      expect(s.job.state).toBe('running');
    });

    it('a failing progress write is dropped, not a handler failure', async () => {
      const s = new FakeStore({ type: 't.progress' });
      s.failing = { reportProgress: 99 };
      fakeNow = 0;
      const p = processor(s, { clock: fakeClock, progressIntervalMs: 1000, writeRetry: retry });
      expect(await p.process(delivery)).toEqual({ action: 'ack', reason: 'succeeded' });
      expect(s.progressWrites).toEqual([]);
    });
  });

  it('retries a retryable failure with the policy delay, then dead-letters on the last attempt', async () => {
    const s = new FakeStore({ type: 't.fail' });
    expect(await processor(s).process(delivery)).toEqual({ action: 'retry', delayMs: 50, reason: 'T.NOPE' });
    expect(s.job.error).toEqual({ code: 'T.NOPE', message: 'nope', retryable: true });
    expect(await processor(s).process(delivery)).toEqual({ action: 'dead', reason: 'T.NOPE' });
    expect(s.writes).toEqual(['running', 'queued', 'running', 'dead_lettered']);
  });

  it('dead-letters an unrecoverable error at once', async () => {
    const s = new FakeStore({ type: 't.fatal' });
    expect(await processor(s).process(delivery)).toMatchObject({ action: 'dead' });
    expect(s.job.error?.retryable).toBe(false);
  });

  it('aborts an attempt that exceeds the type timeout (retryable JOB.TIMEOUT)', async () => {
    const s = new FakeStore({ type: 't.slow' });
    expect(await processor(s).process(delivery)).toMatchObject({ action: 'retry', reason: 'JOB.TIMEOUT' });
  });

  it('re-queues attempts aborted by a shutdown without spending the budget', async () => {
    const s = new FakeStore({ type: 't.slow', attempts: 1 });
    const p = processor(s);
    const running = p.process(delivery);
    await new Promise((r) => setTimeout(r, 10));
    expect(p.running()).toBe(1);
    p.abortAll();
    expect(await running).toEqual({ action: 'retry', delayMs: 0, reason: 'WORKER.SHUTDOWN' });
    expect(s.job.state).toBe('queued');
  });

  it('stops a cancelled attempt without writing', async () => {
    const s = new FakeStore({ type: 't.slow' });
    const p = processor(s);
    const running = p.process(delivery);
    await new Promise((r) => setTimeout(r, 10));
    expect(p.cancel('j1')).toBe(true);
    expect(p.cancel('other')).toBe(false);
    expect(await running).toEqual({ action: 'ack', reason: 'cancelled' });
    expect(s.writes).toEqual(['running']);
  });

  it('drops deliveries of jobs that are not runnable', async () => {
    const s = new FakeStore({ state: 'succeeded' });
    expect(await processor(s).process(delivery)).toEqual({ action: 'ack', reason: 'succeeded' });
  });

  it('dead-letters unknown types and invalid stored payloads', async () => {
    expect(await processor(new FakeStore({ type: 't.unknown' })).process(delivery)).toMatchObject({
      action: 'dead',
      reason: 'JOB.UNKNOWN_TYPE',
    });
    expect(await processor(new FakeStore({ type: 't.badpayload' })).process(delivery)).toMatchObject({
      action: 'dead',
      reason: 'JOB.PAYLOAD_INVALID',
    });
  });

  it('retries with the job type backoff when it declares one (fixed: exact delay)', async () => {
    const s = new FakeStore({ type: 't.fixed' });
    expect(await processor(s).process(delivery)).toEqual({
      action: 'retry',
      delayMs: 777,
      reason: 'HANDLER.FAILED',
    });
  });

  it('retries (HANDLER.LOAD_FAILED) when the handler code cannot be loaded', async () => {
    const s = new FakeStore();
    const failing: HandlerRegistry = {
      get: () => Promise.reject(new Error("Cannot find package 'sharp'")),
      types: () => [],
    };
    expect(await processor(s, { handlers: failing }).process(delivery)).toEqual({
      action: 'retry',
      delayMs: 50,
      reason: 'HANDLER.LOAD_FAILED',
    });
    expect(s.job.error).toMatchObject({
      code: 'HANDLER.LOAD_FAILED',
      message: "Cannot find package 'sharp'",
    });
  });

  it('puts a job of a type unknown to this catalog back, without using an attempt, until the budget runs out', async () => {
    const s = new FakeStore({ type: 'new.type' });
    const budget = { maxDeferrals: 3, baseDelayMs: 100, maxDelayMs: 250 };
    const p = processor(s, { unknownTypeBudget: budget });
    const outcomes = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(await p.process(delivery));
      expect(s.job).toMatchObject({ state: 'queued', attempts: 0 });
    }
    expect(outcomes).toEqual([
      { action: 'retry', delayMs: 100, reason: 'WORKER.UNKNOWN_TYPE' },
      { action: 'retry', delayMs: 200, reason: 'WORKER.UNKNOWN_TYPE' },
      { action: 'retry', delayMs: 250, reason: 'WORKER.UNKNOWN_TYPE' },
    ]);
    expect(s.deferrals).toBe(3);
    expect(await p.process(delivery)).toEqual({ action: 'dead', reason: 'WORKER.UNKNOWN_TYPE' });
    expect(s.job.state).toBe('dead_lettered');
    expect(s.job.error).toMatchObject({ code: 'WORKER.UNKNOWN_TYPE', retryable: false });
    expect(s.job.error?.message).toContain('put back 3 times');
  });

  it('fans out, then aggregates the children outcomes on the aggregate delivery', async () => {
    const s = new FakeStore({ type: 't.parent' });
    const p = processor(s);
    expect(await p.process(delivery)).toEqual({ action: 'ack', reason: 'fanned out' });
    expect(s.fanned.map((c) => [c.index, c.type, c.queue])).toEqual([[0, 't.ok', 'default']]);
    expect(s.job.state).toBe('running');
    expect(await p.process({ ...delivery, kind: 'aggregate', attempt: 1 })).toEqual({
      action: 'ack',
      reason: 'succeeded',
    });
    expect(s.job.result).toEqual({ states: 'succeeded,dead_lettered' });
    // A late duplicate aggregate delivery finds nothing to resume.
    expect(await p.process({ ...delivery, kind: 'aggregate', attempt: 1 })).toMatchObject({ action: 'ack' });
  });
});

describe('flow control around the attempt', () => {
  /** A gate that grants `free` slots and records every call. */
  function fakeGate(free: number, rateOk = true) {
    const calls: string[] = [];
    const held = new Set<string>();
    const gate: FlowGate = {
      async acquire(req) {
        calls.push(`acquire ${req.limit}`);
        if (held.size >= Math.min(free, req.limit)) return { ok: false, reason: 'key', retryAfterMs: 30_000 };
        held.add(req.holder);
        return { ok: true, expiresAt: 0 };
      },
      async renew() {
        return true;
      },
      async release(req) {
        calls.push('release');
        held.delete(req.holder);
      },
      async takeRate() {
        calls.push('rate');
        return rateOk ? { ok: true, at: 0 } : { ok: false, retryAfterMs: 400 };
      },
    };
    return { gate, calls, held };
  }
  const flowCatalog: JobCatalog = (t) => {
    const info = catalog(t);
    return (
      info && {
        ...info,
        flow: {
          concurrency: { limit: 2, key: 'type' },
          rateLimit: { limit: 5, intervalMs: 1000, key: 'type' },
        },
      }
    );
  };
  const flowDelivery: Delivery = { ...delivery, type: 't.ok', clientId: 'c', deferrals: 0 };

  it('refused: defers without starting an attempt, and counts the refusal', async () => {
    const s = new FakeStore();
    const { gate, calls } = fakeGate(0);
    const refused: string[] = [];
    const out = await processor(s, {
      catalog: flowCatalog,
      flow: { gate, leaseMs: 3000 },
      metrics: { ...NOOP_METRICS, flowRefused: (_q, _t, reason) => refused.push(reason) },
    }).process(flowDelivery);
    expect(out).toMatchObject({ action: 'defer', reason: 'flow:key' });
    // min(lease end 30 s, 50 ms · 2^0) · (0.5 + 0.5/2)
    expect(out.action === 'defer' && out.delayMs).toBe(38);
    expect(s.job.attempts).toBe(0);
    expect(s.job.state).toBe('queued');
    expect(s.writes).toEqual([]);
    expect(calls).toEqual(['acquire 2']);
    expect(refused).toEqual(['key']);
  });

  it('a refused rate token frees the slot just taken and defers until the window frees', async () => {
    const s = new FakeStore();
    const { gate, calls, held } = fakeGate(2, false);
    const out = await processor(s, { catalog: flowCatalog, flow: { gate, leaseMs: 3000 } }).process(
      flowDelivery,
    );
    // retryAfterMs 400 + min(1000, interval) · random 0.5
    expect(out).toEqual({ action: 'defer', delayMs: 900, reason: 'flow:rate' });
    expect(calls).toEqual(['acquire 2', 'rate', 'release']);
    expect(held.size).toBe(0);
    expect(s.job.attempts).toBe(0);
  });

  it('granted: runs the attempt and releases the slot after success and after failure', async () => {
    for (const type of ['t.ok', 't.fail']) {
      const s = new FakeStore({ type });
      const { gate, calls, held } = fakeGate(2);
      const out = await processor(s, { catalog: flowCatalog, flow: { gate, leaseMs: 3000 } }).process({
        ...flowDelivery,
        type,
      });
      expect(out.action).toBe(type === 't.ok' ? 'ack' : 'retry');
      expect(s.job.attempts).toBe(1);
      expect(calls).toEqual(['acquire 2', 'rate', 'release']);
      expect(held.size).toBe(0);
    }
  });

  it("uses the message's resolved key and limit, and leaves deliveries without flow alone", async () => {
    const s = new FakeStore();
    const { gate, calls } = fakeGate(5);
    const p = processor(s, { catalog: flowCatalog, flow: { gate, leaseMs: 3000 } });
    await p.process({ ...flowDelivery, flowKey: 'key:c:x', flowLimit: 1 });
    expect(calls[0]).toBe('acquire 1');
    const plain = fakeGate(0);
    const s2 = new FakeStore();
    expect(await processor(s2, { flow: { gate: plain.gate, leaseMs: 3000 } }).process(flowDelivery)).toEqual({
      action: 'ack',
      reason: 'succeeded',
    });
    expect(plain.calls).toEqual([]);
  });
});
