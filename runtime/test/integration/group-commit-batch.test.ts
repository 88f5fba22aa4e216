import { randomUUID } from 'node:crypto';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { SubmitJobsResponseSchema } from '@jobplane/proto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_JOBS } from '../../src/application/submit-job.use-case.js';
import { buildApiApp } from '../../src/main/api.js';
import type { Core } from '../../src/main/context.js';
import { API_KEY_A, API_KEY_B, isolate, type Isolated } from './helpers.js';
import { newJob } from '../support/new-job.js';

let iso: Isolated;
let core: Core;
let app: FastifyInstance;

beforeAll(async () => {
  iso = await isolate('batch');
  // The relays' path: the outbox rows a batch writes are what these tests count.
  core = iso.core('api', {}, { EAGER_PUBLISH: 'false' });
  app = await buildApiApp(core);
});

afterAll(async () => {
  await app?.close();
  await iso?.cleanup();
});

const counts = async (keyPrefix: string) => {
  const [row] = await iso.query<{ jobs: string; events: string; outbox: string }>(
    `SELECT (SELECT count(*) FROM jobs WHERE idempotency_key LIKE $1) AS jobs,
            (SELECT count(*) FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.idempotency_key LIKE $1) AS events,
            (SELECT count(*) FROM outbox o JOIN jobs j ON j.id = o.job_id WHERE j.idempotency_key LIKE $1) AS outbox`,
    [`${keyPrefix}%`],
  );
  return { jobs: Number(row!.jobs), events: Number(row!.events), outbox: Number(row!.outbox) };
};

describe('group commit in the PostgreSQL store', () => {
  it('coalesces concurrent inserts into one statement; each row has its event and outbox row', async () => {
    const before = core.store.groupCommitStats().inserts;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => core.store.insert(newJob(`gc1-${i}`))),
    );
    const after = core.store.groupCommitStats().inserts;
    // All 50 were submitted in one turn of the event loop: one batch, one commit.
    expect(after.batches - before.batches).toBe(1);
    expect(after.items - before.items).toBe(50);
    expect(results.every((r) => r.created)).toBe(true);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(50);
    expect(results.map((r) => r.job.idempotencyKey)).toEqual(
      Array.from({ length: 50 }, (_, i) => `gc1-${i}`),
    );
    expect(await counts('gc1-')).toEqual({ jobs: 50, events: 50, outbox: 50 });
  });

  it('the same key twice in one batch is stored once; the second reads as a replay with the stored hash', async () => {
    const [a, b, c] = await Promise.all([
      core.store.insert(newJob('gc2-k')),
      core.store.insert(newJob('gc2-k')),
      core.store.insert(newJob('gc2-k', { requestHash: 'other' })),
    ]);
    expect(a!.created).toBe(true);
    expect(b).toMatchObject({ created: false, requestHash: 'hash-gc2-k' });
    expect(c).toMatchObject({ created: false, requestHash: 'hash-gc2-k' });
    expect(b!.job.id).toBe(a!.job.id);
    expect(c!.job.id).toBe(a!.job.id);
    expect(await counts('gc2-')).toEqual({ jobs: 1, events: 1, outbox: 1 });
  });

  it('a row PostgreSQL refuses fails alone; the rest of its batch commits', async () => {
    const results = await Promise.allSettled([
      core.store.insert(newJob('gc3-a')),
      // CHECK (max_attempts > 0) refuses this row.
      core.store.insert(newJob('gc3-bad', { maxAttempts: 0 })),
      core.store.insert(newJob('gc3-b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await counts('gc3-')).toEqual({ jobs: 2, events: 2, outbox: 2 });
  });

  it('batched attempt starts and successes stay fenced by each attempt token', async () => {
    const jobs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => core.store.insert(newJob(`gc4-${i}`))),
    );
    const tokens = jobs.map(() => randomUUID());
    const startsBefore = core.store.groupCommitStats().starts.batches;
    const started = await Promise.all(
      jobs.map((j, i) => core.store.startAttempt(j.job.id, tokens[i]!, 'test-worker')),
    );
    expect(core.store.groupCommitStats().starts.batches - startsBefore).toBe(1);
    expect(started.every((s) => s.status === 'started' && !s.tookOver)).toBe(true);
    // A stale token (the first job) is fenced out; the other nine succeed in one statement.
    const done = await Promise.all(
      jobs.map((j, i) => core.store.succeed(j.job.id, i === 0 ? randomUUID() : tokens[i]!, { i })),
    );
    expect(done[0]).toBeNull();
    expect(done.slice(1).map((d) => d?.state)).toEqual(Array(9).fill('succeeded'));
    expect(done[3]?.result).toEqual({ i: 3 });
    const events = await iso.query<{ reason: string; n: string }>(
      `SELECT e.reason, count(*) AS n FROM job_events e JOIN jobs j ON j.id = e.job_id
       WHERE j.idempotency_key LIKE 'gc4-%' GROUP BY e.reason ORDER BY e.reason`,
    );
    expect(events).toEqual([
      { reason: 'attempt_started', n: '10' },
      { reason: 'handler_succeeded', n: '9' },
      { reason: 'submitted', n: '10' },
    ]);
  });

  it('two starts of one job in one batch: one starts, the other takes over (as two racing starts always did)', async () => {
    const { job } = await core.store.insert(newJob('gc5'));
    const [a, b] = await Promise.all([
      core.store.startAttempt(job.id, randomUUID(), 'w1'),
      core.store.startAttempt(job.id, randomUUID(), 'w2'),
    ]);
    expect(a).toMatchObject({ status: 'started', tookOver: false });
    expect(b).toMatchObject({ status: 'started', tookOver: true });
    const [row] = await iso.query<{ attempts: number; worker: string }>(
      'SELECT attempts, worker FROM jobs WHERE id = $1',
      [job.id],
    );
    expect(row).toEqual({ attempts: 2, worker: 'w2' });
  });
});

describe('POST /v1/jobs:batch', () => {
  const post = (body: unknown, key = API_KEY_A) =>
    app.inject({
      method: 'POST',
      url: '/v1/jobs:batch',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const entry = (key: string, durationMs = 1, extra: Record<string, unknown> = {}) => ({
    idempotencyKey: key,
    job: { type: 'demo.sleep', payload: { durationMs }, ...extra },
  });
  const results = (res: LightMyRequestResponse) =>
    fromJson(SubmitJobsResponseSchema, res.json<JsonValue>()).results;
  const problemOf = (res: LightMyRequestResponse) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return res.json<{ status: number; code: string; problems?: string[] }>();
  };

  it('stores every entry in one call (202) with one result per entry, in order', async () => {
    const res = await post({ jobs: Array.from({ length: 20 }, (_, i) => entry(`b1-${i}`, i)) });
    expect(res.statusCode, res.body).toBe(202);
    const r = results(res);
    expect(r).toHaveLength(20);
    expect(r.every((x) => x.created && x.job?.id)).toBe(true);
    expect(r.map((x) => (x.job?.payload as { durationMs: number }).durationMs)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(await counts('b1-')).toEqual({ jobs: 20, events: 20, outbox: 20 });
  });

  it('replays by key (200 when nothing is new), per entry; a reused key fails only its entry', async () => {
    const first = results(await post({ jobs: [entry('b2-a'), entry('b2-b')] }));
    const again = await post({ jobs: [entry('b2-a'), entry('b2-b')] });
    expect(again.statusCode).toBe(200);
    expect(results(again).map((x) => [x.created, x.job?.id])).toEqual(first.map((x) => [false, x.job?.id]));
    const mixed = await post({ jobs: [entry('b2-a', 99), entry('b2-c'), entry('b2-c'), entry('b2-c', 5)] });
    expect(mixed.statusCode).toBe(202);
    const m = results(mixed);
    expect(m[0]?.error?.code).toBe('IDEMPOTENCY.KEY_REUSED');
    expect(m[0]?.job).toBeUndefined();
    expect(m[1]?.created).toBe(true);
    // The same key twice inside one batch: stored once, the second is a replay, a different one reused.
    expect(m[2]).toMatchObject({ created: false, job: { id: m[1]?.job?.id } });
    expect(m[3]?.error?.code).toBe('IDEMPOTENCY.KEY_REUSED');
    expect(await counts('b2-')).toEqual({ jobs: 3, events: 3, outbox: 3 });
  });

  it('keys are per client: the same key of another client is another job', async () => {
    const a = results(await post({ jobs: [entry('b3-shared')] }, API_KEY_A));
    const b = results(await post({ jobs: [entry('b3-shared')] }, API_KEY_B));
    expect(a[0]?.created && b[0]?.created).toBe(true);
    expect(a[0]?.job?.id).not.toBe(b[0]?.job?.id);
  });

  it('validation is all or nothing: one bad entry is a 400 naming every bad entry, and nothing is stored', async () => {
    const res = await post({
      jobs: [
        entry('b4-ok'),
        entry('b4-payload', -1),
        { job: { type: 'demo.sleep', payload: { durationMs: 1 } } },
        { idempotencyKey: 'b4-type', job: { type: 'nope' } },
        entry('tab\there'),
        entry('b4-prio', 1, { priority: 5000 }),
      ],
    });
    expect(res.statusCode).toBe(400);
    const p = problemOf(res);
    expect(p.code).toBe('REQUEST.INVALID');
    expect(p.problems).toHaveLength(5);
    expect(p.problems![0]).toMatch(/^jobs\[1\]: JOB\.PAYLOAD_INVALID: /);
    expect(p.problems![1]).toMatch(/^jobs\[2\]: IDEMPOTENCY\.KEY_MISSING: /);
    expect(p.problems![2]).toMatch(/^jobs\[3\]: JOB\.UNKNOWN_TYPE: /);
    expect(p.problems![3]).toMatch(/^jobs\[4\]: IDEMPOTENCY\.KEY_INVALID: /);
    expect(p.problems![4]).toMatch(/^jobs\[5\]: REQUEST\.INVALID: /);
    expect(await counts('b4-')).toEqual({ jobs: 0, events: 0, outbox: 0 });
  });

  it('an unstorable payload (NUL) or key (lone surrogate) is a 400 for the whole batch', async () => {
    const raw = (jobs: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/jobs:batch',
        headers: { authorization: `Bearer ${API_KEY_A}`, 'content-type': 'application/json' },
        payload: `{"jobs":[${jobs}]}`,
      });
    const ok = '{"idempotencyKey":"b5-ok","job":{"type":"demo.sleep","payload":{"durationMs":1}}}';
    const nul = await raw(
      `${ok},{"idempotencyKey":"b5-y","job":{"type":"demo.sleep","payload":{"durationMs":1,"x":"\\u0000"}}}`,
    );
    expect(nul.statusCode).toBe(400);
    const p = problemOf(nul);
    expect(p.code, nul.body).toBe('REQUEST.INVALID');
    expect(p.problems, nul.body).toHaveLength(1);
    expect(p.problems![0]).toMatch(/^jobs\[1\]: REQUEST\.INVALID: 'payload\.x' contains a NUL/);
    const surrogate = await raw(
      `${ok},{"idempotencyKey":"b5-x\\ud800","job":{"type":"demo.sleep","payload":{"durationMs":1}}}`,
    );
    expect(surrogate.statusCode).toBe(400);
    expect(problemOf(surrogate).code).toBe('REQUEST.INVALID');
    expect(await counts('b5-')).toEqual({ jobs: 0, events: 0, outbox: 0 });
  });

  it(`refuses an empty batch and more than ${MAX_BATCH_JOBS} entries; needs auth; unknown fields are 400`, async () => {
    expect(problemOf(await post({ jobs: [] })).code).toBe('REQUEST.INVALID');
    const over = await post({ jobs: Array.from({ length: MAX_BATCH_JOBS + 1 }, (_, i) => entry(`b6-${i}`)) });
    expect(over.statusCode).toBe(400);
    expect(problemOf(over).code).toBe('REQUEST.INVALID');
    const unauth = await app.inject({ method: 'POST', url: '/v1/jobs:batch', payload: { jobs: [] } });
    expect(unauth.statusCode).toBe(401);
    expect(problemOf(await post({ jobs: [entry('b6-x')], extra: 1 })).code).toBe('REQUEST.INVALID');
    expect(await counts('b6-')).toEqual({ jobs: 0, events: 0, outbox: 0 });
  });

  it(`takes ${MAX_BATCH_JOBS} entries in one transaction`, async () => {
    const res = await post({ jobs: Array.from({ length: MAX_BATCH_JOBS }, (_, i) => entry(`b7-${i}`)) });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(202);
    expect(results(res).filter((r) => r.created)).toHaveLength(MAX_BATCH_JOBS);
    const ids = await iso.query<{ n: string }>(
      `SELECT count(DISTINCT xmin::text) AS n FROM jobs WHERE idempotency_key LIKE 'b7-%'`,
    );
    // Every row was written by the same transaction.
    expect(ids[0]?.n).toBe('1');
    expect(await counts('b7-')).toEqual({
      jobs: MAX_BATCH_JOBS,
      events: MAX_BATCH_JOBS,
      outbox: MAX_BATCH_JOBS,
    });
  });
});
