import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueWorker } from '../../src/adapters/bullmq/bullmq-worker.js';
import { createJobProcessor, type JobProcessor } from '../../src/application/process-job.use-case.js';
import { createReconciler } from '../../src/application/reconcile.use-case.js';
import { createSubmitJob } from '../../src/application/submit-job.use-case.js';
import { createJobControls } from '../../src/application/control-job.use-case.js';
import { jobCatalogOf, lazyHandlerRegistry } from '../../src/main/catalog.js';
import type { Core } from '../../src/main/context.js';
import { startRelayLoop, type RelayLoop } from '../../src/main/relay-loop.js';
import { RUN_ONE_EXIT, runOne } from '../../src/main/worker.js';
import { SYSTEM_CLOCK } from '../../src/ports/clock.port.js';
import type { JobCatalog } from '../../src/ports/job-catalog.port.js';
import { fanOut, type HandlerRegistry, type JobHandler } from '../../src/ports/job-handler.port.js';
import { SILENT_LOGGER } from '../../src/ports/logger.port.js';
import { NOOP_METRICS } from '../../src/ports/metrics.port.js';
import { isolate, waitFor, type Isolated } from './helpers.js';
import { examplesCatalog } from '../examples-catalog.js';

const accept = <P>(input: unknown) => ({ ok: true as const, value: input as P });
let aggregateCalls = 0;
let flakyRuns = 0;
const aborts: unknown[] = [];

const testHandlers: JobHandler[] = [
  {
    type: 'test.fail',
    parsePayload: accept,
    run: async () => {
      throw Object.assign(new Error('boom'), { code: 'TEST.BOOM' });
    },
  },
  {
    type: 'test.block',
    parsePayload: accept,
    run: async (_p, ctx) => {
      await ctx.progress(10, 'blocking');
      await new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborts.push(ctx.signal.reason);
          reject(new Error('aborted'));
        });
      });
      return {};
    },
  },
  {
    type: 'test.parent',
    parsePayload: accept,
    run: async (p) =>
      fanOut(
        [0, 1, 2].map((n) => ({ type: 'test.child', payload: { n: n + (p as { base: number }).base } })),
      ),
    aggregate: async (_p, children) => {
      aggregateCalls++;
      return {
        sum: children.reduce((s, c) => s + ((c.result?.double as number) ?? 0), 0),
        n: children.length,
      };
    },
  },
  {
    type: 'test.flaky',
    parsePayload: accept,
    run: async () => {
      flakyRuns++;
      if (flakyRuns === 1) throw new Error('first run fails');
      return { runs: flakyRuns };
    },
  },
  {
    type: 'test.child',
    parsePayload: accept,
    run: async (p) => ({ double: (p as { n: number }).n * 2 }),
  },
];

const real = lazyHandlerRegistry(examplesCatalog);
const realCatalog = jobCatalogOf(examplesCatalog);
const handlers: HandlerRegistry = {
  get: (t) => testHandlers.find((h) => h.type === t) ?? real.get(t),
  types: () => [...real.types(), ...testHandlers.map((h) => h.type)],
};
const catalog: JobCatalog = (t) =>
  t.startsWith('test.')
    ? {
        mode: 'pooled',
        queue: 'default',
        timeoutSeconds: 5,
        maxAttempts: 2,
        submittable: true,
        parsePayload: (input) => ({ ok: true, value: input }),
      }
    : realCatalog(t);
const submittableTypes = ['demo.sleep', 'test.flaky'];

let iso: Isolated;
let core: Core;
let processor: JobProcessor;
let workers: Worker[];
let relay: RelayLoop;

const submit = (type: string, payload: Record<string, unknown>, maxAttempts = 0) =>
  createSubmitJob({
    store: core.store,
    catalog,
    submittableTypes,
    metrics: NOOP_METRICS,
    clock: SYSTEM_CLOCK,
  })({
    clientId: 'alice',
    idempotencyKey: randomUUID(),
    requestId: 'req-1',
    type,
    payload,
    priority: 0,
    runAt: null,
    maxAttempts,
  });

const waitState = (id: string, states: string[], timeoutMs = 15_000) =>
  waitFor(async () => {
    const j = await core.store.getAny(id);
    return j && states.includes(j.state) ? j : null;
  }, timeoutMs);

const eventTrail = async (id: string) =>
  (await core.store.listEvents(id, 100, null)).items.map((e) => `${e.fromState ?? '-'}>${e.toState}`);

beforeAll(async () => {
  iso = await isolate('worker');
  core = iso.core('worker', { handlers }, { RELAY_POLL_MS: '100', RECONCILE_INTERVAL_SECONDS: '3600' });
  processor = createJobProcessor({
    store: core.store,
    handlers,
    catalog,
    retryPolicy: { baseDelayMs: 20, maxDelayMs: 50 },
    random: () => 0.5,
    clock: SYSTEM_CLOCK,
    logger: SILENT_LOGGER,
    metrics: NOOP_METRICS,
    workerId: 'test-worker',
    progressIntervalMs: 0,
  });
  await core.cancelBus.subscribe((id) => processor.cancel(id));
  workers = (['default', 'backtest'] as const).map((queue) =>
    createQueueWorker({
      queue,
      url: iso.env.REDIS_URL!,
      prefix: iso.prefix,
      concurrency: 4,
      lockDurationMs: 5000,
      stalledIntervalMs: 5000,
      maxStalledCount: 1,
      processor,
      logger: SILENT_LOGGER,
    }),
  );
  relay = await startRelayLoop(core);
});

afterAll(async () => {
  await relay.stop();
  await Promise.all(workers.map((w) => w.close()));
  await iso.cleanup();
});

describe('process-job through BullMQ', () => {
  it('runs demo.sleep to succeeded with the full event trail', async () => {
    const { job } = await submit('demo.sleep', { durationMs: 50, failureRate: 0 });
    const done = await waitState(job.id, ['succeeded']);
    expect(done.result).toEqual({ sleptMs: 50, attempt: 1 });
    expect(done.progress).toBe(100);
    expect(await eventTrail(job.id)).toEqual(['->queued', 'queued>running', 'running>succeeded']);
  });

  it('retries with backoff and dead-letters after max attempts', async () => {
    const { job } = await submit('test.fail', {}, 3);
    const dead = await waitState(job.id, ['dead_lettered']);
    expect(dead.attempts).toBe(3);
    expect(dead.error).toEqual({ code: 'TEST.BOOM', message: 'boom', retryable: true });
    expect(await eventTrail(job.id)).toEqual([
      '->queued',
      'queued>running',
      'running>failed',
      'failed>queued',
      'queued>running',
      'running>failed',
      'failed>queued',
      'queued>running',
      'running>failed',
      'failed>dead_lettered',
    ]);
  });

  it('re-runs a dead-lettered job after RetryJob (the finished queue message is replaced)', async () => {
    flakyRuns = 0;
    const { job } = await submit('test.flaky', {}, 1);
    await waitState(job.id, ['dead_lettered']);
    expect((await core.queue.inspect('default', 'run', job.id, 0)).present).toBe(true);
    const controls = createJobControls({
      store: core.store,
      cancelBus: core.cancelBus,
      queue: core.queue,
      logger: SILENT_LOGGER,
    });
    const retried = await controls.retry('alice', job.id);
    // Attempt numbers keep counting; the budget (1) is granted again on top of the attempt used.
    expect(retried).toMatchObject({ state: 'queued', attempts: 1, maxAttempts: 2 });
    const done = await waitState(job.id, ['succeeded']);
    expect(done).toMatchObject({ attempts: 2, maxAttempts: 2 });
    expect(done.result).toEqual({ runs: 2 });
    expect(await eventTrail(job.id)).toEqual([
      '->queued',
      'queued>running',
      'running>failed',
      'failed>dead_lettered',
      'dead_lettered>queued',
      'queued>running',
      'running>succeeded',
    ]);
  });

  it('fans out into child jobs and aggregates once when all are terminal', async () => {
    aggregateCalls = 0;
    const { job } = await submit('test.parent', { base: 10 });
    const done = await waitState(job.id, ['succeeded']);
    expect(done.result).toEqual({ sum: 2 * (10 + 11 + 12), n: 3 });
    expect(aggregateCalls).toBe(1);
    const children = await core.store.children(job.id);
    expect(children.map((c) => [c.index, c.state])).toEqual([
      [0, 'succeeded'],
      [1, 'succeeded'],
      [2, 'succeeded'],
    ]);
    const rows = await iso.query<{ parent_id: string }>('SELECT parent_id FROM jobs WHERE parent_id = $1', [
      job.id,
    ]);
    expect(rows).toHaveLength(3);
  });

  it('runs a real backtest.sweep end to end', async () => {
    const { job } = await submit('backtest.sweep', {
      series: { kind: 'random-walk', seed: 7, length: 120 },
      grid: { fast: { from: 2, to: 6, step: 2 }, slow: { from: 10, to: 30, step: 10 } },
      chunkSize: 3,
    });
    const done = await waitState(job.id, ['succeeded', 'dead_lettered'], 30_000);
    expect(done.state).toBe('succeeded');
    expect(Array.isArray(done.result?.top)).toBe(true);
    expect((await core.store.children(job.id)).length).toBe(3);
  });

  it('cancels a running job: the abort signal fires and later writes are fenced', async () => {
    aborts.length = 0;
    const { job } = await submit('test.block', {});
    await waitState(job.id, ['running']);
    await waitFor(async () => ((await core.store.getAny(job.id))?.progress === 10 ? true : null));
    const controls = createJobControls({
      store: core.store,
      cancelBus: core.cancelBus,
      queue: core.queue,
      logger: SILENT_LOGGER,
    });
    const cancelled = await controls.cancel('alice', job.id);
    expect(cancelled.state).toBe('cancelled');
    await waitFor(async () => (aborts.length === 1 ? true : null));
    await sleep(200);
    const after = await core.store.getAny(job.id);
    expect(after?.state).toBe('cancelled');
    expect(await eventTrail(job.id)).toEqual(['->queued', 'queued>running', 'running>cancelled']);
  });
});

describe('fencing in PostgreSQL', () => {
  it('lets a take-over fence out the stale attempt', async () => {
    const { job } = await createSubmitJob({
      store: core.store,
      catalog,
      submittableTypes,
      metrics: NOOP_METRICS,
      clock: SYSTEM_CLOCK,
    })({
      clientId: 'alice',
      idempotencyKey: randomUUID(),
      requestId: null,
      type: 'backtest.full',
      payload: {
        series: { kind: 'random-walk', seed: 1, length: 50 },
        grid: { fast: { from: 2, to: 2 }, slow: { from: 5, to: 5 } },
      },
      priority: 0,
      runAt: null,
      maxAttempts: 0,
    });
    const first = await core.store.startAttempt(job.id, randomUUID(), 'w1');
    expect(first.status).toBe('started');
    const staleToken = first.status === 'started' ? first.token : '';
    const second = await core.store.startAttempt(job.id, randomUUID(), 'w2');
    expect(second).toMatchObject({ status: 'started', tookOver: true, job: { attempts: 2 } });
    expect(await core.store.reportProgress(job.id, staleToken, 50, null)).toBe(false);
    expect(await core.store.succeed(job.id, staleToken, { stale: true })).toBeNull();
    // Attempts exhausted (max 2 for backtest.full): the next take-over dead-letters.
    const third = await core.store.startAttempt(job.id, randomUUID(), 'w3');
    expect(third.status).toBe('dead_lettered');
    expect(await core.store.startAttempt(job.id, randomUUID(), 'w4')).toEqual({
      status: 'skipped',
      reason: 'dead_lettered',
    });
    expect(await eventTrail(job.id)).toEqual([
      '->queued',
      'queued>running',
      'running>failed',
      'failed>queued',
      'queued>running',
      'running>failed',
      'failed>dead_lettered',
    ]);
  });
});

describe('reconciler and run-one (isolated queue)', () => {
  it('re-publishes jobs whose queue message vanished, then run-one runs exactly one', async () => {
    const payload = {
      series: { kind: 'random-walk', seed: 3, length: 60 },
      grid: { fast: { from: 2, to: 4, step: 2 }, slow: { from: 8, to: 8 } },
    };
    const { job } = await submit('backtest.full', payload);
    await waitFor(async () =>
      (await core.queue.inspect('backtest-full', 'run', job.id, 0)).present ? true : null,
    );
    // Redis loses the message (as after FLUSHALL or a restart without persistence).
    await core.queue.queue('backtest-full').obliterate({ force: true });
    expect((await core.queue.inspect('backtest-full', 'run', job.id, 0)).present).toBe(false);
    const report = await createReconciler({
      store: core.store,
      queue: core.queue,
      logger: SILENT_LOGGER,
      graceMs: 0,
    })();
    expect(report.republished).toBeGreaterThanOrEqual(1);
    expect((await core.queue.inspect('backtest-full', 'run', job.id, 0)).present).toBe(true);

    const oneCore = iso.core(
      'run-one',
      { handlers },
      { RUN_ONE_QUEUE: 'backtest-full', RUN_ONE_WAIT_SECONDS: '2' },
    );
    expect(await runOne(oneCore)).toBe(RUN_ONE_EXIT.succeeded);
    expect((await core.store.getAny(job.id))?.state).toBe('succeeded');
    expect(await runOne(oneCore)).toBe(RUN_ONE_EXIT.noJob);
  });
});
