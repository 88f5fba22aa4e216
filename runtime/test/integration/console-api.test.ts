/**
 * The console's JSON API (/console/api) and UI files (/console) on the real PostgreSQL and Redis:
 * tenant scoping (client key vs admin key), every list filter, keyset pages, bad input as 400
 * problem+json, redrive, queues, alerts from a Prometheus-shaped server, and the read-only Bull Board.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleDistDir } from '../../src/main/console.js';
import {
  API_KEY,
  CLIENT,
  createEdgeEnv,
  destroyEdgeEnv,
  freePort,
  newKey,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

const ADMIN_KEY = 'console-admin-key-0123456789';
const OTHER_KEY = 'console-other-key-0123456789';
const A = { authorization: `Bearer ${API_KEY}` };
const B = { authorization: `Bearer ${OTHER_KEY}` };
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };

describe('console API', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let prom: Server;
  let promUrl = '';
  const ids = {} as Record<'sleep1' | 'sleep2' | 'sleep3' | 'sweep' | 'full' | 'other', string>;

  const submit = async (headers: Record<string, string>, type: string, payload: unknown, key = newKey()) => {
    const r = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...headers, 'idempotency-key': key },
      payload: { type, payload },
    });
    expect(r.statusCode).toBe(202);
    return (r.json() as { job: { id: string } }).job.id;
  };
  const get = (url: string, headers: Record<string, string> = A) =>
    api.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    prom = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'success',
          data: {
            alerts: [
              {
                labels: { alertname: 'JobplaneQueueBacklog', severity: 'warning', queue: 'default' },
                annotations: { summary: 'default backlog above 1000 for 10 m' },
                state: 'firing',
                activeAt: '2026-01-01T00:00:00Z',
              },
              { labels: { alertname: 'JobplanePending' }, annotations: {}, state: 'pending' },
            ],
          },
        }),
      );
    });
    await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
    const addr = prom.address();
    promUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    env = await createEdgeEnv({
      JOBPLANE_API_KEYS: `${CLIENT}:${API_KEY},other:${OTHER_KEY}`,
      JOBPLANE_ADMIN_KEY: ADMIN_KEY,
      PROMETHEUS_URL: promUrl,
      GRAFANA_URL: 'http://grafana.example:3000/',
    });
    api = await startEdgeApi(env);
    ids.sleep1 = await submit(A, 'demo.sleep', { durationMs: 1 }, 'key-one');
    ids.sleep2 = await submit(A, 'demo.sleep', { durationMs: 2 });
    ids.sweep = await submit(A, 'backtest.sweep', { series: { kind: 'random-walk', seed: 1, length: 100 } });
    ids.full = await submit(A, 'backtest.full', { series: { kind: 'random-walk', seed: 1, length: 100 } });
    ids.sleep3 = await submit(A, 'demo.sleep', { durationMs: 3 });
    ids.other = await submit(B, 'demo.sleep', { durationMs: 1 }, 'key-one');
  });
  afterAll(async () => {
    await api?.close();
    if (env) await destroyEdgeEnv(env);
    await new Promise((r) => prom?.close(r));
  });

  it('tells who is signed in: a client, or the admin key (every client); anything else is 401', async () => {
    const a = (await get('/console/api/session')).json();
    expect(a).toMatchObject({ scope: 'client', clientId: CLIENT, alertsConfigured: true });
    expect(a.jobTypes.map((t: { type: string }) => t.type)).toContain('backtest.sweep');
    expect(a.jobTypes.find((t: { type: string }) => t.type === 'backtest.sweep').hasView).toBe(true);
    expect(a.jobTypes.find((t: { type: string }) => t.type === 'demo.sleep').hasView).toBe(false);
    expect((await get('/console/api/session', ADMIN)).json()).toMatchObject({
      scope: 'admin',
      clientId: null,
    });
    const none = await get('/console/api/session', {});
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('AUTH.UNAUTHENTICATED');
    expect((await get('/console/api/session', { authorization: 'Bearer not-a-key-at-all' })).statusCode).toBe(
      401,
    );
  });

  it("scopes every read to the client: another client's job is 404, the admin sees both", async () => {
    const mine = (await get('/console/api/jobs')).json().jobs.map((j: { id: string }) => j.id);
    expect(mine).toEqual([ids.sleep3, ids.full, ids.sweep, ids.sleep2, ids.sleep1]);
    const theirs = (await get('/console/api/jobs', B)).json().jobs.map((j: { id: string }) => j.id);
    expect(theirs).toEqual([ids.other]);
    const hidden = await get(`/console/api/jobs/${ids.other}`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe('JOB.NOT_FOUND');
    expect(
      (await api.app.inject({ method: 'POST', url: `/console/api/jobs/${ids.other}/cancel`, headers: A }))
        .statusCode,
    ).toBe(404);
    const all = (await get('/console/api/jobs', ADMIN)).json().jobs;
    expect(all).toHaveLength(6);
    expect((await get(`/console/api/jobs/${ids.other}`, ADMIN)).json().job.clientId).toBe('other');
    const onlyOther = (await get('/console/api/jobs?client=other', ADMIN)).json().jobs;
    expect(onlyOther.map((j: { id: string }) => j.id)).toEqual([ids.other]);
    // the same idempotency key of two clients: each finds its own, the admin both
    expect((await get('/console/api/jobs?q=key-one')).json().jobs.map((j: { id: string }) => j.id)).toEqual([
      ids.sleep1,
    ]);
    expect((await get('/console/api/jobs?q=key-one', ADMIN)).json().jobs).toHaveLength(2);
  });

  it('filters by state, type, queue, id, idempotency key, parent and time, and pages by keyset', async () => {
    const list = async (qs: string) =>
      (await get(`/console/api/jobs?${qs}`)).json().jobs.map((j: { id: string }) => j.id) as string[];
    expect(await list('type=demo.sleep')).toEqual([ids.sleep3, ids.sleep2, ids.sleep1]);
    expect(await list('queue=backtest-full')).toEqual([ids.full]);
    expect(await list('state=queued&type=backtest.sweep')).toEqual([ids.sweep]);
    expect(await list('state=succeeded')).toEqual([]);
    expect(await list(`q=${ids.sleep2}`)).toEqual([ids.sleep2]);
    expect(await list(`q=${ids.sleep2.toUpperCase()}`)).toEqual([ids.sleep2]);
    expect(await list(`parent=${ids.sweep}`)).toEqual([]);
    expect(await list('from=2000-01-01T00:00:00Z&to=2001-01-01')).toEqual([]);
    expect(
      await list(`from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`),
    ).toHaveLength(5);
    // keyset pages of 2: every job exactly once, newest first
    const seen: string[] = [];
    let token = '';
    for (let i = 0; i < 5; i++) {
      const r = (await get(`/console/api/jobs?pageSize=2${token ? `&pageToken=${token}` : ''}`)).json();
      seen.push(...r.jobs.map((j: { id: string }) => j.id));
      if (!r.nextPageToken) break;
      token = r.nextPageToken;
    }
    expect(seen).toEqual([ids.sleep3, ids.full, ids.sweep, ids.sleep2, ids.sleep1]);
  });

  it('refuses bad input with 400 REQUEST.INVALID naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['state=done', /'state' \(done\)/],
      ['parent=nope', /'parent' \(nope\)/],
      ['client=other', /admin key only/],
      ['from=yesterday', /'from' \(yesterday\)/],
      ['from=2026-02-01&to=2026-01-01', /must be before 'to'/],
      ['pageSize=1000', /'pageSize' \(1000\)/],
      ['pageToken=bm90LWEtdG9rZW4', /not a token this API issued/],
      ['pageToken=%00', /not a token this API issued/],
      ['colour=red', /unknown query parameter 'colour'/],
      ['type=a&type=b', /must appear once/],
      ['q=%01', /'q' must be at most/],
    ];
    for (const [qs, detail] of cases) {
      const r = await get(`/console/api/jobs?${qs}`);
      expect(r.statusCode, qs).toBe(400);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.json().code, qs).toBe('REQUEST.INVALID');
      expect(r.json().detail, qs).toMatch(detail);
    }
    expect((await get('/console/api/jobs/not-a-uuid')).json().code).toBe('JOB.NOT_FOUND');
    expect((await get(`/console/api/jobs/${ids.sleep1}/events?pageToken=x`)).json().code).toBe(
      'REQUEST.INVALID',
    );
  });

  it('shows detail, timeline and result-view availability; a view needs a declared view and a result', async () => {
    const d = (await get(`/console/api/jobs/${ids.sleep1}`)).json();
    expect(d).toMatchObject({
      job: { id: ids.sleep1, state: 'queued', type: 'demo.sleep' },
      children: null,
      hasView: false,
    });
    const ev = (await get(`/console/api/jobs/${ids.sleep1}/events`)).json().events;
    expect(ev).toMatchObject([{ fromState: null, toState: 'queued', reason: 'submitted' }]);
    const noView = await get(`/console/api/jobs/${ids.sleep1}/view`);
    expect(noView.statusCode).toBe(404);
    expect(noView.json().code).toBe('JOB.NO_RESULT_VIEW');
    const notYet = await get(`/console/api/jobs/${ids.sweep}/view`);
    expect(notYet.json()).toMatchObject({
      code: 'JOB.NO_RESULT_VIEW',
      detail: expect.stringMatching(/is queued/),
    });
  });

  it('redrives dead-lettered jobs in bulk and refuses the others one by one', async () => {
    const id = await submit(A, 'demo.sleep', { durationMs: 1 });
    const token = randomUUID();
    const started = await api.core.store.startAttempt(id, token, 'test-worker');
    expect(started.status).toBe('started');
    await api.core.store.failAndDeadLetter(id, token, {
      code: 'TEST.FAILED',
      message: 'boom\n    at stack',
      retryable: false,
    });
    const dl = (await get('/console/api/jobs?state=dead_lettered'))
      .json()
      .jobs.map((j: { id: string }) => j.id);
    expect(dl).toEqual([id]);
    const r = await api.app.inject({
      method: 'POST',
      url: '/console/api/dead-letters/redrive',
      headers: A,
      payload: { ids: [id, ids.sleep2, ids.other] },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().redriven).toEqual([id]);
    expect(r.json().refused).toEqual([
      { id: ids.sleep2, code: 'JOB.INVALID_STATE', detail: expect.stringMatching(/is queued/) },
      { id: ids.other, code: 'JOB.NOT_FOUND', detail: expect.any(String) },
    ]);
    const after = (await get(`/console/api/jobs/${id}/events`))
      .json()
      .events.map((e: { reason: string }) => e.reason);
    expect(after.at(-1)).toBe('retry_requested');
    for (const payload of [{ ids: [] }, { ids: ['x'] }, { ids: [id], extra: 1 }, [id]]) {
      const bad = await api.app.inject({
        method: 'POST',
        url: '/console/api/dead-letters/redrive',
        headers: A,
        payload,
      });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(bad.json().code).toBe('REQUEST.INVALID');
    }
  });

  it('reports queues by state and the firing alerts of Prometheus, with Grafana links', async () => {
    const q = (await get('/console/api/queues')).json().queues;
    expect(q.map((r: { queue: string }) => r.queue)).toEqual([
      'backtest',
      'backtest-full',
      'default',
      'python',
    ]);
    expect(q.find((r: { queue: string }) => r.queue === 'default')).toMatchObject({ running: 0 });
    expect(q.find((r: { queue: string }) => r.queue === 'default').ready).toBeGreaterThanOrEqual(3);
    const other = (await get('/console/api/queues', B)).json().queues;
    expect(other.find((r: { queue: string }) => r.queue === 'default').ready).toBe(1);
    const alerts = (await get('/console/api/alerts')).json();
    expect(alerts.configured).toBe(true);
    expect(alerts.alerts).toEqual([
      {
        name: 'JobplaneQueueBacklog',
        state: 'firing',
        severity: 'warning',
        summary: 'default backlog above 1000 for 10 m',
        activeAt: '2026-01-01T00:00:00Z',
        labels: { alertname: 'JobplaneQueueBacklog', severity: 'warning', queue: 'default' },
      },
    ]);
    expect(alerts.grafana[0]).toEqual({
      title: 'Jobplane overview',
      url: 'http://grafana.example:3000/d/jobplane-overview',
    });
  });

  it('Bull Board is read-only: its write endpoints answer 405, reads still work', async () => {
    const read = await get('/admin/queues/api/queues', ADMIN);
    expect(read.statusCode).toBe(200);
    const write = await api.app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/default/retry/failed',
      headers: ADMIN,
    });
    expect(write.statusCode).toBe(405);
    const clean = await api.app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/default/clean/completed',
      headers: ADMIN,
    });
    expect(clean.statusCode).toBe(405);
  });

  it('serves the built UI under /console and nothing outside it', async () => {
    const dist = consoleDistDir();
    if (!dist || !existsSync(dist))
      throw new Error('console/dist is missing: run `npm run build` before the tests');
    const html = await api.app.inject({ method: 'GET', url: '/console' });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    const script = /src="\/console\/(assets\/[^"]+\.js)"/.exec(html.body)?.[1];
    expect(script).toBeDefined();
    const js = await api.app.inject({ method: 'GET', url: `/console/${script}` });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toMatch(/immutable/);
    for (const url of [
      '/console/..%2f..%2fpackage.json',
      '/console/%2e%2e/package.json',
      '/console/assets/nope.js',
    ]) {
      const r = await api.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().code).toBe('ROUTE.NOT_FOUND');
    }
  });
});

describe('console alerts without Prometheus, and with one that does not answer', () => {
  it('says alerts are not configured, or 503 SERVICE.UNAVAILABLE naming Prometheus', async () => {
    const off = await createEdgeEnv();
    const offApi = await startEdgeApi(off);
    const closedPort = await freePort(); // nothing listens there
    const dead = await createEdgeEnv({ PROMETHEUS_URL: `http://127.0.0.1:${closedPort}/` });
    const deadApi = await startEdgeApi(dead);
    try {
      const a = await offApi.app.inject({ method: 'GET', url: '/console/api/alerts', headers: A });
      expect(a.json()).toEqual({ configured: false, alerts: [], grafana: [] });
      const b = await deadApi.app.inject({ method: 'GET', url: '/console/api/alerts', headers: A });
      expect(b.statusCode).toBe(503);
      expect(b.json()).toMatchObject({
        code: 'SERVICE.UNAVAILABLE',
        detail: expect.stringContaining(`Prometheus (http://127.0.0.1:${closedPort})`),
      });
    } finally {
      await offApi.close();
      await deadApi.close();
      await destroyEdgeEnv(off);
      await destroyEdgeEnv(dead);
    }
  });
});
