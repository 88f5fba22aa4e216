/**
 * Rolling deploys against the real PostgreSQL and Redis: the API (new catalog) accepts a job type
 * an old worker's catalog does not know. The old worker puts it back with a delay and an
 * `unknown_type_deferred` event (WORKER.UNKNOWN_TYPE) without using an attempt, until a new worker
 * takes it; past the budget it is dead-lettered with that code.
 */
import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { defineCatalog, defineJobType } from '@jobplane/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueueWorker } from '../../src/adapters/bullmq/bullmq-worker.js';
import { createJobProcessor } from '../../src/application/process-job.use-case.js';
import { createSubmitJob } from '../../src/application/submit-job.use-case.js';
import type { UnknownTypeBudget } from '../../src/domain/retry-policy.js';
import { jobCatalogOf, lazyHandlerRegistry, submittableTypes, type Catalog } from '../../src/main/catalog.js';
import type { Core } from '../../src/main/context.js';
import { startRelayLoop, type RelayLoop } from '../../src/main/relay-loop.js';
import { SYSTEM_CLOCK } from '../../src/ports/clock.port.js';
import { SILENT_LOGGER } from '../../src/ports/logger.port.js';
import { NOOP_METRICS } from '../../src/ports/metrics.port.js';
import { isolate, waitFor, type Isolated } from './helpers.js';

const QUEUE = 'rolling';
const payload = z.object({ n: z.int() });
const oldType = defineJobType({
  type: 'roll.old',
  queue: QUEUE,
  timeoutSeconds: 5,
  payload,
  load: async () => async (p: { n: number }) => ({ n: p.n }),
});
const newType = defineJobType({
  type: 'roll.new',
  queue: QUEUE,
  timeoutSeconds: 5,
  payload,
  load: async () => async (p: { n: number }) => ({ doubled: p.n * 2 }),
});
const oldCatalog = defineCatalog({ name: 'v1', jobTypes: [oldType] });
const newCatalog = defineCatalog({ name: 'v2', jobTypes: [oldType, newType] });

let iso: Isolated;
let core: Core;
let relay: RelayLoop;
const workers: Worker[] = [];

function startWorker(catalog: Catalog, workerId: string, budget: UnknownTypeBudget): Worker {
  const processor = createJobProcessor({
    store: core.store,
    handlers: lazyHandlerRegistry(catalog),
    catalog: jobCatalogOf(catalog),
    retryPolicy: { baseDelayMs: 20, maxDelayMs: 50 },
    random: () => 0.5,
    clock: SYSTEM_CLOCK,
    logger: SILENT_LOGGER,
    metrics: NOOP_METRICS,
    workerId,
    progressIntervalMs: 0,
    unknownTypeBudget: budget,
  });
  const w = createQueueWorker({
    queue: QUEUE,
    url: iso.env.REDIS_URL!,
    prefix: iso.prefix,
    concurrency: 2,
    lockDurationMs: 5000,
    stalledIntervalMs: 5000,
    maxStalledCount: 1,
    processor,
    logger: SILENT_LOGGER,
  });
  workers.push(w);
  return w;
}

const submit = (type: string) =>
  createSubmitJob({
    store: core.store,
    catalog: jobCatalogOf(newCatalog),
    submittableTypes: submittableTypes(newCatalog),
    metrics: NOOP_METRICS,
    clock: SYSTEM_CLOCK,
  })({
    clientId: 'alice',
    idempotencyKey: randomUUID(),
    requestId: null,
    type,
    payload: { n: 21 },
    priority: 0,
    runAt: null,
    maxAttempts: 0,
  });

const events = async (id: string) => (await core.store.listEvents(id, 100, null)).items;

beforeAll(async () => {
  iso = await isolate('rolling');
  core = iso.core(
    'relay',
    { catalog: newCatalog },
    { RELAY_POLL_MS: '50', RECONCILE_INTERVAL_SECONDS: '3600' },
  );
  relay = await startRelayLoop(core);
});

afterAll(async () => {
  await relay.stop();
  await Promise.all(workers.map((w) => w.close()));
  await core.queue
    .queue(QUEUE)
    .obliterate({ force: true })
    .catch(() => undefined);
  await iso.cleanup();
});

describe('a job type the worker does not know yet', () => {
  it('is put back (no attempt used) until a worker that knows it takes it', async () => {
    const old = startWorker(oldCatalog, 'old-worker', {
      maxDeferrals: 50,
      baseDelayMs: 100,
      maxDelayMs: 200,
    });
    const { job } = await submit('roll.new');
    // The old worker sees it at least twice, each time putting it back.
    await waitFor(async () => {
      const deferred = (await events(job.id)).filter((e) => e.reason === 'unknown_type_deferred');
      return deferred.length >= 2 ? deferred : null;
    }, 15_000);
    const waiting = await core.store.getAny(job.id);
    expect(waiting).toMatchObject({ state: 'queued', attempts: 0 });
    const deferred = (await events(job.id)).find((e) => e.reason === 'unknown_type_deferred');
    expect(deferred).toMatchObject({ fromState: 'running', toState: 'queued' });
    expect(deferred?.details).toMatchObject({ code: 'WORKER.UNKNOWN_TYPE', retryable: true });

    // The deploy completes: the old worker goes, a new one comes.
    await old.close();
    startWorker(newCatalog, 'new-worker', { maxDeferrals: 50, baseDelayMs: 100, maxDelayMs: 200 });
    const done = await waitFor(async () => {
      const j = await core.store.getAny(job.id);
      return j?.state === 'succeeded' ? j : null;
    }, 15_000);
    expect(done.result).toEqual({ doubled: 42 });
    expect(done.attempts).toBe(1);
  });

  it('is dead-lettered with WORKER.UNKNOWN_TYPE once the budget is spent', async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    startWorker(oldCatalog, 'old-worker-2', { maxDeferrals: 2, baseDelayMs: 50, maxDelayMs: 50 });
    const { job } = await submit('roll.new');
    const dead = await waitFor(async () => {
      const j = await core.store.getAny(job.id);
      return j?.state === 'dead_lettered' ? j : null;
    }, 15_000);
    expect(dead.error).toMatchObject({ code: 'WORKER.UNKNOWN_TYPE', retryable: false });
    expect(dead.error?.message).toContain(
      "job type 'roll.new' is not in this worker's catalog (put back 2 times",
    );
    const reasons = (await events(job.id)).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'unknown_type_deferred')).toHaveLength(2);
    expect(reasons.at(-1)).toBe('unrecoverable');
  });
});
