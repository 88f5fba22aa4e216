/**
 * Flow control end to end (docs/flow-control.md), against real PostgreSQL and Redis: the API stores
 * the concurrency key, the relay carries it in the queue message, several BullMQ workers take
 * leased slots and rate tokens in Redis before an attempt starts, refused jobs are put back
 * delayed (never failed, no attempt used), and a fair queue lets a second client's jobs start
 * while the first client's backlog is still long. Worker processes killed with SIGKILL:
 * runtime/test/faults/flow-control.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { JobService } from '@jobplane/proto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineCatalog, defineJobType } from '@jobplane/sdk';
import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueueWorker } from '../../src/adapters/bullmq/bullmq-worker.js';
import { FairShare } from '../../src/adapters/bullmq/fair-share.js';
import { RedisFlowGate } from '../../src/adapters/flow/redis-flow-gate.js';
import { createJobProcessor } from '../../src/application/process-job.use-case.js';
import { buildApiApp } from '../../src/main/api.js';
import type { Core } from '../../src/main/context.js';
import { startRelayLoop, type RelayLoop } from '../../src/main/relay-loop.js';
import { SYSTEM_CLOCK } from '../../src/ports/clock.port.js';
import type { HandlerRegistry, JobHandler } from '../../src/ports/job-handler.port.js';
import { SILENT_LOGGER } from '../../src/ports/logger.port.js';
import { NOOP_METRICS, type Metrics } from '../../src/ports/metrics.port.js';
import { API_KEY_A, API_KEY_B, isolate, waitFor, type Isolated } from './helpers.js';

const payload = z.object({ ms: z.number().int().min(0).max(5000), tenant: z.string().optional() });
const noLoad = () => Promise.reject(new Error('handlers come from the test registry'));
const base = { timeoutSeconds: 30, maxAttempts: 3, payload, load: noLoad } as const;
const catalog = defineCatalog({
  name: 'flow-test',
  jobTypes: [
    defineJobType({
      ...base,
      type: 't.keyed',
      queue: 'keyed',
      flow: { concurrency: { limit: 2, key: 'payload.tenant' } },
    }),
    defineJobType({ ...base, type: 't.plain', queue: 'plain' }),
    defineJobType({
      ...base,
      type: 't.rated',
      queue: 'rated',
      flow: { rateLimit: { limit: 3, intervalMs: 1000 } },
    }),
    defineJobType({ ...base, type: 't.capped', queue: 'capped', flow: { queueCap: 1 } }),
    defineJobType({ ...base, type: 't.fair', queue: 'fairq', flow: { fairness: 'client' } }),
    defineJobType({ ...base, type: 't.fifo', queue: 'fifoq' }),
  ],
});

/** Per concurrency group: running now and the most seen at once (in this process: all workers). */
const running = new Map<string, number>();
const maxRunning = new Map<string, number>();
const starts: { type: string; id: string; at: number; client?: string }[] = [];
const group = (type: string, p: { tenant?: string }) => `${type}/${p.tenant ?? '-'}`;

const handler = (type: string): JobHandler => ({
  type,
  parsePayload: (input) => {
    const r = payload.safeParse(input);
    return r.success ? { ok: true, value: r.data } : { ok: false, problems: [r.error.message] };
  },
  run: async (p, ctx) => {
    const pl = p as z.output<typeof payload>;
    const g = group(type, pl);
    const now = (running.get(g) ?? 0) + 1;
    running.set(g, now);
    maxRunning.set(g, Math.max(maxRunning.get(g) ?? 0, now));
    starts.push({ type, id: ctx.jobId, at: Date.now() });
    try {
      await sleep(pl.ms);
    } finally {
      running.set(g, (running.get(g) ?? 1) - 1);
    }
    return { ok: true };
  },
});
const handlers: HandlerRegistry = {
  get: (t) => handler(t),
  types: () => catalog.jobTypes.map((d) => d.type),
};

const refusals: { queue: string; type: string; reason: string }[] = [];
const metrics: Metrics = {
  ...NOOP_METRICS,
  flowRefused: (queue, type, reason) => refusals.push({ queue, type, reason }),
};

let iso: Isolated;
let api: Core;
let worker: Core;
let app: FastifyInstance;
let relay: RelayLoop;
const workers: Worker[] = [];

const authA = { authorization: `Bearer ${API_KEY_A}` };
const authB = { authorization: `Bearer ${API_KEY_B}` };

async function submit(body: Record<string, unknown>, headers = authA) {
  return app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { ...headers, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
    payload: body,
  });
}

async function submitOk(body: Record<string, unknown>, headers = authA): Promise<string> {
  const r = await submit(body, headers);
  expect(r.statusCode, r.body).toBe(202);
  return (r.json() as { job: { id: string } }).job.id;
}

async function batch(jobs: Record<string, unknown>[], headers = authA) {
  return app.inject({
    method: 'POST',
    url: '/v1/jobs:batch',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: { jobs: jobs.map((job) => ({ idempotencyKey: randomUUID(), job })) },
  });
}

async function batchOk(jobs: Record<string, unknown>[], headers = authA): Promise<string[]> {
  const r = await batch(jobs, headers);
  expect(r.statusCode, r.body).toBe(202);
  return (r.json() as { results: { job: { id: string } }[] }).results.map((x) => x.job.id);
}

const allSucceeded = (ids: readonly string[], timeoutMs = 60_000) =>
  waitFor(async () => {
    const rows = await iso.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1::uuid[]) AND state = 'succeeded'`,
      [ids],
    );
    return rows[0]!.n === ids.length;
  }, timeoutMs);

/** Every job ran exactly one attempt and never failed: refusals cost nothing. */
async function expectOneCleanAttempt(ids: readonly string[]): Promise<void> {
  const rows = await iso.query<{ attempts: number; failures: number }>(
    `SELECT j.attempts, (SELECT count(*)::int FROM job_events e WHERE e.job_id = j.id AND e.to_state = 'failed') AS failures
     FROM jobs j WHERE j.id = ANY($1::uuid[])`,
    [ids],
  );
  expect(rows).toHaveLength(ids.length);
  for (const r of rows) expect(r).toEqual({ attempts: 1, failures: 0 });
}

beforeAll(async () => {
  iso = await isolate('flow');
  api = iso.core('api', { catalog });
  app = await buildApiApp(api);
  await app.ready();
  worker = iso.core(
    'worker',
    { catalog, handlers },
    { RELAY_POLL_MS: '50', RECONCILE_INTERVAL_SECONDS: '3600' },
  );
  const processor = createJobProcessor({
    store: worker.store,
    handlers,
    catalog: worker.jobCatalog,
    retryPolicy: { baseDelayMs: 20, maxDelayMs: 50 },
    random: Math.random,
    clock: SYSTEM_CLOCK,
    logger: SILENT_LOGGER,
    metrics,
    workerId: 'flow-test',
    flow: { gate: new RedisFlowGate(worker.redis, iso.prefix), leaseMs: 5000 },
  });
  const fair = new FairShare(worker.redis, iso.prefix);
  const start = (queue: string, concurrency: number, copies: number) => {
    for (let i = 0; i < copies; i++)
      workers.push(
        createQueueWorker({
          queue,
          url: iso.env.REDIS_URL!,
          prefix: iso.prefix,
          concurrency,
          lockDurationMs: 5000,
          stalledIntervalMs: 5000,
          maxStalledCount: 1,
          processor,
          logger: SILENT_LOGGER,
          ...(catalog.queue(queue)?.fairness ? { fairShare: fair } : {}),
        }),
      );
  };
  // Several BullMQ workers (own Redis connections) per flow-controlled queue: the gate is shared.
  for (const q of ['keyed', 'plain', 'rated', 'capped']) start(q, 4, 3);
  start('fairq', 1, 1);
  start('fifoq', 1, 1);
  relay = await startRelayLoop(worker);
});

afterAll(async () => {
  await relay?.stop();
  await Promise.all(workers.map((w) => w.close()));
  await app?.close();
  for (const q of catalog.queues())
    await worker.queue
      .queue(q.name)
      .obliterate({ force: true })
      .catch(() => undefined);
  await iso?.cleanup();
});

describe('concurrency keys', () => {
  it('never runs more than the type limit per payload key across workers; refused jobs wait without using an attempt', async () => {
    refusals.length = 0;
    const ids = await batchOk(
      Array.from({ length: 12 }, (_, i) => ({
        type: 't.keyed',
        payload: { ms: 150, tenant: i % 2 === 0 ? 'acme' : 'globex' },
      })),
    );
    await allSucceeded(ids);
    expect(maxRunning.get('t.keyed/acme')).toBe(2);
    expect(maxRunning.get('t.keyed/globex')).toBe(2);
    expect(refusals.some((r) => r.type === 't.keyed' && r.reason === 'key')).toBe(true);
    await expectOneCleanAttempt(ids);
    const stored = await iso.query<{ flow_key: string; flow_limit: number }>(
      'SELECT flow_key, flow_limit FROM jobs WHERE id = $1',
      [ids[0]],
    );
    expect(stored[0]).toEqual({ flow_key: 'payload:t.keyed:payload.tenant=acme', flow_limit: 2 });
  });

  it("a submission's concurrencyKey and concurrencyLimit gate a type without flow", async () => {
    const ids = await batchOk(
      Array.from({ length: 8 }, (_, i) => ({
        type: 't.plain',
        payload: { ms: 100, tenant: i < 4 ? 'one' : 'two' },
        concurrencyKey: i < 4 ? 'one' : 'two',
        concurrencyLimit: 1,
      })),
    );
    await allSucceeded(ids);
    expect(maxRunning.get('t.plain/one')).toBe(1);
    expect(maxRunning.get('t.plain/two')).toBe(1);
    await expectOneCleanAttempt(ids);
    const single = await submitOk({
      type: 't.plain',
      payload: { ms: 1 },
      concurrencyKey: 'solo',
      concurrencyLimit: 3,
    });
    const r = await app.inject({ method: 'GET', url: `/v1/jobs/${single}`, headers: authA });
    expect(r.statusCode).toBe(200);
    const row = await iso.query(
      'SELECT concurrency_key, concurrency_limit, flow_key FROM jobs WHERE id = $1',
      [single],
    );
    expect(row[0]).toEqual({ concurrency_key: 'solo', concurrency_limit: 3, flow_key: 'key:alice:solo' });
  });

  it('caps the queue: at most queueCap attempts of the queue at once', async () => {
    const ids = await batchOk(Array.from({ length: 5 }, () => ({ type: 't.capped', payload: { ms: 80 } })));
    await allSucceeded(ids);
    expect(maxRunning.get('t.capped/-')).toBe(1);
    expect(refusals.some((r) => r.type === 't.capped')).toBe(true);
    await expectOneCleanAttempt(ids);
  });
});

describe('rate limits', () => {
  it('holds N starts per interval across workers: refused jobs wait, none fails', async () => {
    const ids = await batchOk(Array.from({ length: 9 }, () => ({ type: 't.rated', payload: { ms: 5 } })));
    await allSucceeded(ids);
    const at = starts
      .filter((s) => s.type === 't.rated')
      .map((s) => s.at)
      .sort((a, b) => a - b);
    expect(at).toHaveLength(9);
    // 3 per 1000 ms: 9 starts span at least two full windows (less what a busy box adds between
    // Redis granting the start and the handler recording it).
    const toleranceMs = 300;
    expect(at[8]! - at[0]!).toBeGreaterThanOrEqual(2000 - toleranceMs);
    for (let i = 0; i + 3 < at.length; i++) expect(at[i + 3]! - at[i]!).toBeGreaterThan(1000 - toleranceMs);
    expect(refusals.some((r) => r.type === 't.rated' && r.reason === 'rate')).toBe(true);
    await expectOneCleanAttempt(ids);
  });
});

describe('fairness between clients of a queue', () => {
  it("B's jobs start while A's backlog is still long on a fair queue, and wait behind it on a FIFO one", async () => {
    const A = 300;
    const B = 5;
    const run = async (type: 't.fair' | 't.fifo') => {
      const aIds: string[] = [];
      for (let i = 0; i < A; i += 100)
        aIds.push(
          ...(await batchOk(
            Array.from({ length: 100 }, () => ({ type, payload: { ms: 15 } })),
            authA,
          )),
        );
      const bIds = await batchOk(
        Array.from({ length: B }, () => ({ type, payload: { ms: 15 } })),
        authB,
      );
      await allSucceeded(bIds, 90_000);
      const rows = await iso.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1::uuid[]) AND start_time IS NULL`,
        [aIds],
      );
      await allSucceeded(aIds, 90_000);
      return rows[0]!.n;
    };
    const fairBacklog = await run('t.fair');
    // On the fair queue B took its turns: most of A's jobs had not started when B's last one finished.
    expect(fairBacklog).toBeGreaterThan(A / 2);
    const fifoBacklog = await run('t.fifo');
    // FIFO: B waited for (nearly) all of A.
    expect(fifoBacklog).toBeLessThan(B + 1);
  });
});

describe('bad input', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'a key without any limit',
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'k' },
      /'concurrencyKey' \("k"\) needs a limit/,
    ],
    [
      'a limit of 0',
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'k', concurrencyLimit: 0 },
      /'concurrencyLimit' \(0\) must be an integer from 1/,
    ],
    [
      'a negative limit',
      { type: 't.keyed', payload: { ms: 1, tenant: 'x' }, concurrencyLimit: -1 },
      /'concurrencyLimit' \(-1\)/,
    ],
    [
      'a limit above the type',
      { type: 't.keyed', payload: { ms: 1, tenant: 'x' }, concurrencyLimit: 5 },
      /'concurrencyLimit' \(5\) must be an integer from 1 to 2/,
    ],
    [
      'an empty key',
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: '', concurrencyLimit: 1 },
      /'concurrencyKey' \(""\) must not be empty/,
    ],
    [
      'a key with control characters',
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'a\u0007b', concurrencyLimit: 1 },
      /'concurrencyKey' .* control characters/,
    ],
    [
      'a key too long',
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'k'.repeat(129), concurrencyLimit: 1 },
      /at most 128 characters/,
    ],
    [
      'a missing payload key',
      { type: 't.keyed', payload: { ms: 1 } },
      /'payload.tenant' \(undefined\) must be a non-empty string or a number/,
    ],
    [
      'a limit without a key',
      { type: 't.plain', payload: { ms: 1 }, concurrencyLimit: 2 },
      /'concurrencyLimit' \(2\) needs a 'concurrencyKey'/,
    ],
  ];
  it.each(cases)('refuses %s with 400 problem+json naming the field', async (_name, body, detail) => {
    const r = await submit(body);
    expect(r.statusCode, r.body).toBe(400);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(r.json()).toMatchObject({ status: 400, code: 'REQUEST.INVALID' });
    expect((r.json() as { detail: string }).detail).toMatch(detail);
  });

  it('refuses a batch whose entry has a bad limit, storing nothing', async () => {
    const r = await batch([
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'ok', concurrencyLimit: 1 },
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'k', concurrencyLimit: 0 },
    ]);
    expect(r.statusCode).toBe(400);
    expect((r.json() as { detail: string }).detail).toMatch(
      /jobs\[1\]: REQUEST.INVALID: 'concurrencyLimit' \(0\)/,
    );
    expect((r.json() as { detail: string }).detail).not.toMatch(/jobs\[0\]/);
  });

  it('refuses a non-integer limit in the body as a bad SubmitJobRequest', async () => {
    const r = await submit({
      type: 't.plain',
      payload: { ms: 1 },
      concurrencyKey: 'k',
      concurrencyLimit: 'many',
    });
    expect(r.statusCode).toBe(400);
    expect((r.json() as { detail: string }).detail).toMatch(/concurrency_?[lL]imit/);
  });
});

describe('over Connect (jobprocessing.v1)', () => {
  it('SubmitJob and SubmitJobs carry concurrency_key and concurrency_limit; a bad limit is invalid_argument naming the field', async () => {
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const client = createClient(JobService, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
    const headers = (key?: string) => ({ ...authA, ...(key ? { 'idempotency-key': key } : {}) });
    const one = await client.submitJob(
      { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'rpc', concurrencyLimit: 2 },
      { headers: headers(randomUUID()) },
    );
    const many = await client.submitJobs(
      {
        jobs: [
          {
            idempotencyKey: randomUUID(),
            job: { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'rpc-b', concurrencyLimit: 1 },
          },
        ],
      },
      { headers: headers() },
    );
    const rows = await iso.query<{ flow_key: string; flow_limit: number }>(
      'SELECT flow_key, flow_limit FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY flow_key',
      [[one.job!.id, many.results[0]!.job!.id]],
    );
    expect(rows).toEqual([
      { flow_key: 'key:alice:rpc', flow_limit: 2 },
      { flow_key: 'key:alice:rpc-b', flow_limit: 1 },
    ]);
    const err = await client
      .submitJob(
        { type: 't.plain', payload: { ms: 1 }, concurrencyKey: 'k', concurrencyLimit: 0 },
        { headers: headers(randomUUID()) },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toMatch(/'concurrencyLimit' \(0\) must be an integer from 1/);
    await allSucceeded([one.job!.id, many.results[0]!.job!.id]);
  });
});
