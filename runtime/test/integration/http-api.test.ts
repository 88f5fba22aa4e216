import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import {
  CancelJobResponseSchema,
  GetJobResponseSchema,
  JobState,
  ListJobEventsResponseSchema,
  ListJobsResponseSchema,
  RetryJobResponseSchema,
  SubmitJobResponseSchema,
} from '@jobplane/proto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiApp } from '../../src/main/api.js';
import type { Core } from '../../src/main/context.js';
import { withEdgeMetrics } from '../../src/main/edge.js';
import { API_KEY_A, API_KEY_B, isolate, type Isolated } from './helpers.js';

let iso: Isolated;
let core: Core;
let app: FastifyInstance;

const auth = (key = API_KEY_A) => ({ authorization: `Bearer ${key}` });
const sleepBody = (durationMs = 10) => ({ type: 'demo.sleep', payload: { durationMs, failureRate: 0 } });

function submit(body: unknown, key: string | undefined, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: {
      ...auth(),
      'content-type': 'application/json',
      ...(key !== undefined ? { 'idempotency-key': key } : {}),
      ...headers,
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Every error is RFC 9457 problem+json with a stable code. */
function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code });
  expect(typeof body.type).toBe('string');
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
}

const submitted = (res: LightMyRequestResponse) =>
  fromJson(SubmitJobResponseSchema, res.json<JsonValue>()).job!;

beforeAll(async () => {
  iso = await isolate('http');
  // EAGER_PUBLISH off: these tests look at the outbox rows a submission writes; the API's own
  // publishing of them is eager-publish.test.ts.
  core = withEdgeMetrics(iso.core('api', {}, { BODY_LIMIT_BYTES: '4096', EAGER_PUBLISH: 'false' }), 'api');
  // The production app (auth, limits, OpenAPI validation, Connect, SSE…), not a reduced one.
  app = await buildApiApp(core);
});

afterAll(async () => {
  await app.close();
  await iso.cleanup();
});

describe('POST /v1/jobs', () => {
  it('answers 202 with the job (proto JSON) and stores job, outbox row and event in one go', async () => {
    const res = await submit(sleepBody(), 'create-1', { 'x-request-id': 'req-abc-1' });
    expect(res.statusCode).toBe(202);
    expect(res.headers['x-request-id']).toBe('req-abc-1');
    const job = submitted(res);
    expect(job.state).toBe(JobState.QUEUED);
    expect(job.type).toBe('demo.sleep');
    expect(job.maxAttempts).toBe(3);
    expect(res.headers.location).toBe(`/v1/jobs/${job.id}`);
    const [row] = await iso.query<{ request_id: string }>('SELECT request_id FROM jobs WHERE id = $1', [
      job.id,
    ]);
    expect(row?.request_id).toBe('req-abc-1');
    expect(await iso.query('SELECT * FROM outbox WHERE job_id = $1', [job.id])).toHaveLength(1);
    expect(await iso.query('SELECT * FROM job_events WHERE job_id = $1', [job.id])).toHaveLength(1);
  });

  it('generates an x-request-id when none (or a bad one) is sent', async () => {
    const res = await submit(sleepBody(), 'rid-1', { 'x-request-id': 'bad id with spaces' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('replays the same job (200) for the same key and body, whatever the key order', async () => {
    const first = submitted(
      await submit({ type: 'demo.sleep', payload: { failureRate: 0, durationMs: 5 } }, 'replay-1'),
    );
    const again = await submit(
      { payload: { durationMs: 5, failureRate: 0 }, type: 'demo.sleep' },
      'replay-1',
    );
    expect(again.statusCode).toBe(200);
    expect(submitted(again).id).toBe(first.id);
  });

  it('refuses the same key with a different body (422) and creates nothing', async () => {
    await submit(sleepBody(5), 'reuse-1');
    const res = await submit(sleepBody(6), 'reuse-1');
    expectProblem(res, 422, 'IDEMPOTENCY.KEY_REUSED');
    expect(await iso.query(`SELECT id FROM jobs WHERE idempotency_key = 'reuse-1'`)).toHaveLength(1);
  });

  it('scopes idempotency keys per client', async () => {
    const a = submitted(await submit(sleepBody(), 'shared-key'));
    const b = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth(API_KEY_B), 'idempotency-key': 'shared-key', 'content-type': 'application/json' },
      payload: JSON.stringify(sleepBody()),
    });
    expect(b.statusCode).toBe(202);
    expect(submitted(b).id).not.toBe(a.id);
  });

  it('turns 50 concurrent identical requests into exactly one job', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => submit(sleepBody(7), 'concurrent-1')),
    );
    const ids = new Set(responses.map((r) => submitted(r).id));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.statusCode === 202)).toHaveLength(1);
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(49);
    expect(await iso.query(`SELECT id FROM jobs WHERE idempotency_key = 'concurrent-1'`)).toHaveLength(1);
  });

  it('requires an Idempotency-Key (400) and refuses bad ones', async () => {
    expectProblem(await submit(sleepBody(), undefined), 400, 'IDEMPOTENCY.KEY_MISSING');
    expectProblem(await submit(sleepBody(), 'k'.repeat(256)), 400, 'IDEMPOTENCY.KEY_INVALID');
    expectProblem(await submit(sleepBody(), 'tab\there'), 400, 'IDEMPOTENCY.KEY_INVALID');
  });

  it('answers 400 for an unknown type, a non-submittable type, a bad payload or extra fields', async () => {
    expectProblem(await submit({ type: 'nope', payload: {} }, 'bad-1'), 400, 'JOB.UNKNOWN_TYPE');
    expectProblem(await submit({ type: 'backtest.chunk', payload: {} }, 'bad-2'), 400, 'JOB.UNKNOWN_TYPE');
    const payload = await submit({ type: 'demo.sleep', payload: { durationMs: -1 } }, 'bad-3');
    expectProblem(payload, 400, 'JOB.PAYLOAD_INVALID');
    expect(payload.json<{ problems: string[] }>().problems.length).toBeGreaterThan(0);
    expectProblem(await submit({ ...sleepBody(), color: 'red' }, 'bad-4'), 400, 'REQUEST.INVALID');
    expectProblem(await submit({ ...sleepBody(), priority: 5000 }, 'bad-5'), 400, 'REQUEST.INVALID');
    expectProblem(await submit([1, 2], 'bad-6'), 400, 'REQUEST.INVALID');
  });

  it('answers 400 for malformed JSON and 413 above the body limit', async () => {
    expectProblem(await submit('{"type":', 'json-1'), 400, 'REQUEST.MALFORMED_JSON');
    const big = { type: 'demo.sleep', payload: { durationMs: 1, pad: 'x'.repeat(5000) } };
    expectProblem(await submit(big, 'big-1'), 413, 'REQUEST.TOO_LARGE');
  });

  it('answers 401 without a valid key', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/jobs',
      headers: { authorization: 'Bearer wrong-key-000000000' },
    });
    expectProblem(res, 401, 'AUTH.UNAUTHENTICATED');
    expectProblem(await app.inject({ method: 'GET', url: '/v1/jobs' }), 401, 'AUTH.UNAUTHENTICATED');
  });
});

describe('reading jobs', () => {
  it('gets a job, and 404s for another client or a malformed id', async () => {
    const job = submitted(await submit(sleepBody(), 'get-1'));
    const res = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: auth() });
    expect(fromJson(GetJobResponseSchema, res.json<JsonValue>()).job?.id).toBe(job.id);
    expectProblem(
      await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: auth(API_KEY_B) }),
      404,
      'JOB.NOT_FOUND',
    );
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/jobs/not-a-uuid', headers: auth() }),
      404,
      'JOB.NOT_FOUND',
    );
  });

  it('lists newest first with keyset pagination and filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        submitted(await submit({ type: 'demo.sleep', payload: { durationMs: 100 + i } }, `page-${i}`)).id,
      );
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/jobs?pageSize=2&pageToken=${token}&type=demo.sleep`,
        headers: auth(),
      });
      expect(res.statusCode, res.body).toBe(200);
      const page = fromJson(ListJobsResponseSchema, res.json<JsonValue>());
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs.map((j) => j.id));
      token = page.nextPageToken;
      pages++;
    } while (token && pages < 100);
    expect(new Set(seen).size).toBe(seen.length);
    // Newest first: the five just created come first, in reverse order.
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    const bob = fromJson(
      ListJobsResponseSchema,
      (await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(API_KEY_B) })).json<JsonValue>(),
    );
    expect(bob.jobs.every((j) => !ids.includes(j.id))).toBe(true);
    const queued = fromJson(
      ListJobsResponseSchema,
      (
        await app.inject({ method: 'GET', url: '/v1/jobs?state=JOB_STATE_SUCCEEDED', headers: auth() })
      ).json<JsonValue>(),
    );
    expect(queued.jobs).toHaveLength(0);
  });

  it('refuses bad list parameters with 400', async () => {
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/jobs?pageSize=500', headers: auth() }),
      400,
      'REQUEST.INVALID',
    );
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/jobs?pageToken=garbage', headers: auth() }),
      400,
      'REQUEST.INVALID',
    );
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/jobs?colour=red', headers: auth() }),
      400,
      'REQUEST.INVALID',
    );
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/jobs?state=bogus', headers: auth() }),
      400,
      'REQUEST.INVALID',
    );
  });
});

describe('cancel, retry and events', () => {
  it('cancels a queued job, retries it, and records every change', async () => {
    const job = submitted(await submit(sleepBody(), 'ctl-1'));
    const cancel = await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}:cancel`, headers: auth() });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(fromJson(CancelJobResponseSchema, cancel.json<JsonValue>()).job?.state).toBe(JobState.CANCELLED);
    // Cancelling again is idempotent.
    expect(
      (await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}:cancel`, headers: auth() })).statusCode,
    ).toBe(200);
    const retry = await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}:retry`, headers: auth() });
    expect(retry.statusCode, retry.body).toBe(202);
    expect(fromJson(RetryJobResponseSchema, retry.json<JsonValue>()).job?.state).toBe(JobState.QUEUED);
    expectProblem(
      await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}:retry`, headers: auth() }),
      409,
      'JOB.INVALID_STATE',
    );
    const events = fromJson(
      ListJobEventsResponseSchema,
      (
        await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events`, headers: auth() })
      ).json<JsonValue>(),
    );
    expect(events.events.map((e) => [e.fromState, e.toState, e.reason])).toEqual([
      [JobState.UNSPECIFIED, JobState.QUEUED, 'submitted'],
      [JobState.QUEUED, JobState.CANCELLED, 'cancel_requested'],
      [JobState.CANCELLED, JobState.QUEUED, 'retry_requested'],
    ]);
    const paged = fromJson(
      ListJobEventsResponseSchema,
      (
        await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events?pageSize=2`, headers: auth() })
      ).json<JsonValue>(),
    );
    expect(paged.events).toHaveLength(2);
    expect(paged.nextPageToken).not.toBe('');
  });

  it('404s for another client and for unknown custom methods', async () => {
    const job = submitted(await submit(sleepBody(), 'ctl-2'));
    expectProblem(
      await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}:cancel`, headers: auth(API_KEY_B) }),
      404,
      'JOB.NOT_FOUND',
    );
    expectProblem(
      await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events`, headers: auth(API_KEY_B) }),
      404,
      'JOB.NOT_FOUND',
    );
    expectProblem(
      await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}:explode`, headers: auth() }),
      404,
      'ROUTE.NOT_FOUND',
    );
  });
});

describe('health', () => {
  it('is live and ready against PostgreSQL and a noeviction Redis', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode, ready.body).toBe(200);
  });

  it('is not ready (503, with the reason) when a dependency check fails', async () => {
    const failing = await buildApiApp(core, {
      deps: {
        health: [
          ...core.health,
          { name: 'redis-policy', check: async () => "maxmemory-policy is 'allkeys-lru'" },
        ],
      },
    });
    const res = await failing.inject({ method: 'GET', url: '/readyz' });
    expectProblem(res, 503, 'SERVICE.UNAVAILABLE');
    expect(res.json<{ detail: string }>().detail).toContain('allkeys-lru');
    await failing.close();
  });

  it('is the production app: security headers, the OpenAPI document and Connect are there', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
    const rpc = await app.inject({
      method: 'POST',
      url: '/jobprocessing.v1.JobService/ListJobs',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(rpc.statusCode, rpc.body).toBe(200);
  });

  it('answers unknown routes with a problem', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/nope' }), 404, 'ROUTE.NOT_FOUND');
  });
});
