/**
 * What /v1 tells about a fan-out and a redrive, through the production app on the real PostgreSQL
 * and Redis: the job list filtered by parent (HTTP and Connect), a parent's children rolled up in
 * GetJob, attempt numbers that keep counting after RetryJob, and one stream cap per client across
 * /v1 and the console. Job progress is driven through the store, so nothing waits on time.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auth,
  createEdgeEnv,
  destroyEdgeEnv,
  newKey,
  startEdgeApi,
  waitFor,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

interface JsonJob {
  id: string;
  state: string;
  attempts?: number;
  maxAttempts?: number;
  parentId?: string;
  children?: Record<string, number>;
}

describe('/v1 fan-out children and redrive attempts', () => {
  let env: EdgeEnv;
  let api: EdgeApi;

  const submit = async (type: string, payload: unknown, extra: Record<string, unknown> = {}) => {
    const r = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth, 'idempotency-key': newKey() },
      payload: { type, payload, ...extra },
    });
    expect(r.statusCode, r.body).toBe(202);
    return r.json<{ job: JsonJob }>().job.id;
  };
  const getJob = async (id: string) => {
    const r = await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: auth });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ job: JsonJob }>().job;
  };

  beforeAll(async () => {
    env = await createEdgeEnv();
    api = await startEdgeApi(env);
  });
  afterAll(async () => {
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  it('lists a parent’s children by parentId and rolls their progress up into GetJob', async () => {
    const store = api.core.store;
    const parent = await submit('backtest.sweep', { series: { kind: 'random-walk', seed: 1, length: 100 } });
    const unrelated = await submit('demo.sleep', { durationMs: 1 });
    expect((await getJob(parent)).children).toBeUndefined(); // not fanned out yet
    const token = randomUUID();
    expect((await store.startAttempt(parent, token, 'test')).status).toBe('started');
    const kids = [0, 1, 2, 3].map((index) => ({
      id: randomUUID(),
      index,
      type: 'demo.sleep',
      payload: { durationMs: 1 },
      queue: 'default',
      mode: 'pooled' as const,
      maxAttempts: 3,
    }));
    expect(await store.fanOut(parent, token, kids)).toBe(true);
    const t0 = randomUUID();
    await store.startAttempt(kids[0]!.id, t0, 'test');
    await store.succeed(kids[0]!.id, t0, { sleptMs: 1, attempt: 1 });
    const t1 = randomUUID();
    await store.startAttempt(kids[1]!.id, t1, 'test');
    await store.reportProgress(kids[1]!.id, t1, 50, 'half');

    expect((await getJob(parent)).children).toEqual({
      total: 4,
      queued: 2,
      running: 1,
      succeeded: 1,
      percent: 37.5, // (100 + 50 + 0 + 0) / 4
    });
    expect((await getJob(unrelated)).children).toBeUndefined();

    const listed = await api.app.inject({ method: 'GET', url: `/v1/jobs?parentId=${parent}`, headers: auth });
    expect(listed.statusCode, listed.body).toBe(200);
    const ids = listed.json<{ jobs: JsonJob[] }>().jobs.map((j) => j.id);
    expect(ids.sort()).toEqual(kids.map((k) => k.id).sort());
    const upper = await api.app.inject({
      method: 'GET',
      url: `/v1/jobs?parentId=${parent.toUpperCase()}&pageSize=2`,
      headers: auth,
    });
    expect(upper.json<{ jobs: JsonJob[]; nextPageToken: string }>().jobs).toHaveLength(2);
    expect(upper.json<{ nextPageToken: string }>().nextPageToken).not.toBe('');

    // Connect speaks the same filter.
    const connect = await api.app.inject({
      method: 'POST',
      url: '/jobprocessing.v1.JobService/ListJobs',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: { parentId: parent },
    });
    expect(connect.statusCode, connect.body).toBe(200);
    expect(connect.json<{ jobs: JsonJob[] }>().jobs).toHaveLength(4);

    const bad = await api.app.inject({ method: 'GET', url: '/v1/jobs?parentId=nope', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json()).toMatchObject({
      code: 'REQUEST.INVALID',
      detail: expect.stringMatching(/'parentId' \(nope\)/),
    });
  });

  it('keeps counting attempts after a redrive, with the budget granted again', async () => {
    const store = api.core.store;
    const id = await submit('demo.sleep', { durationMs: 1 }, { maxAttempts: 2 });
    for (let i = 1; i <= 2; i++) {
      const t = randomUUID();
      expect((await store.startAttempt(id, t, 'test')).status).toBe('started');
      const err = { code: 'TEST.BROKEN', message: 'broken', retryable: true };
      if (i < 2) await store.failAndRetry(id, t, err, new Date());
      else await store.failAndDeadLetter(id, t, err);
    }
    expect(await getJob(id)).toMatchObject({ state: 'JOB_STATE_DEAD_LETTERED', attempts: 2, maxAttempts: 2 });

    const retried = await api.app.inject({ method: 'POST', url: `/v1/jobs/${id}:retry`, headers: auth });
    expect(retried.statusCode, retried.body).toBe(202);
    expect(retried.json<{ job: JsonJob }>().job).toMatchObject({
      state: 'JOB_STATE_QUEUED',
      attempts: 2,
      maxAttempts: 4,
    });
    const t3 = randomUUID();
    const third = await store.startAttempt(id, t3, 'test');
    expect(third.status).toBe('started');
    await store.succeed(id, t3, { sleptMs: 1, attempt: 3 });
    expect(await getJob(id)).toMatchObject({ state: 'JOB_STATE_SUCCEEDED', attempts: 3, maxAttempts: 4 });

    const events = await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}/events`, headers: auth });
    const trail = events
      .json<{ events: { reason: string; attempt?: number }[] }>()
      .events.map((e) => `${e.reason}@${e.attempt ?? 0}`);
    expect(trail).toEqual([
      'submitted@0',
      'attempt_started@1',
      'attempt_failed@1',
      'retry_scheduled@1',
      'attempt_started@2',
      'attempt_failed@2',
      'attempts_exhausted@2',
      'retry_requested@2',
      'attempt_started@3',
      'handler_succeeded@3',
    ]);

    // A second redrive grants the original budget (2) again, not the raised maximum.
    const t4 = randomUUID();
    const again = await submit('demo.sleep', { durationMs: 1 }, { maxAttempts: 1 });
    await store.startAttempt(again, t4, 'test');
    await store.failAndDeadLetter(again, t4, { code: 'TEST.BROKEN', message: 'x', retryable: false });
    await api.app.inject({ method: 'POST', url: `/v1/jobs/${again}:retry`, headers: auth });
    const t5 = randomUUID();
    await store.startAttempt(again, t5, 'test');
    await store.failAndDeadLetter(again, t5, { code: 'TEST.BROKEN', message: 'x', retryable: false });
    const twice = await api.app.inject({ method: 'POST', url: `/v1/jobs/${again}:retry`, headers: auth });
    expect(twice.json<{ job: JsonJob }>().job).toMatchObject({ attempts: 2, maxAttempts: 3 });
  });

  it('caps a client’s open streams across /v1 and the console together', async () => {
    const id = await submit('demo.sleep', { durationMs: 1 });
    const base = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const streams: http.ClientRequest[] = [];
    const open = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${base}${path}`, { headers: auth }, (res) => {
          res.on('data', () => undefined);
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
        streams.push(req);
      });
    try {
      const v1 = await Promise.all(Array.from({ length: 12 }, () => open(`/v1/jobs/${id}/stream`)));
      const consoleStreams = await Promise.all(
        Array.from({ length: 8 }, () => open(`/console/api/jobs/${id}/stream`)),
      );
      expect([...v1, ...consoleStreams]).toEqual(Array(20).fill(200));
      expect(await open(`/console/api/jobs/${id}/stream`)).toBe(429);
      expect(await open(`/v1/jobs/${id}/stream`)).toBe(429);
      streams[0]!.destroy(); // frees a slot for either route
      await waitFor(async () => (await open(`/console/api/jobs/${id}/stream`)) === 200);
    } finally {
      for (const s of streams) s.destroy();
    }
  });
});
