/**
 * Abuse limits of the production app: failed authentications per address (→ 429 on /v1, /admin,
 * SSE and Connect alike), webhook budgets spent only by verified deliveries and keyed by the
 * configured source, one refusal bucket per address for everything else, SSE streams per client,
 * and an OpenAPI document that names no webhook source.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../src/domain/webhook-signature.js';
import {
  API_KEY,
  auth,
  CLIENT,
  createEdgeEnv,
  destroyEdgeEnv,
  newKey,
  REDIS_URL,
  startEdgeApi,
  waitFor,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const whsec = `whsec_${randomBytes(32).toString('base64')}`;
const PER_MINUTE = 20;
const RPC = '/jobprocessing.v1.JobService';
/** A second client, used only by the Connect rate-limit test (its own request budget). */
const SECOND_KEY = 'second-client-key-0123456789';

describe('abuse limits (production app)', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let redis: Redis;
  beforeAll(async () => {
    env = await createEdgeEnv({
      JOBPLANE_ADMIN_KEY: ADMIN_KEY,
      JOBPLANE_API_KEYS: `${CLIENT}:${API_KEY},second:${SECOND_KEY}`,
      RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      JOBPLANE_WEBHOOKS: JSON.stringify({
        billing: { scheme: 'standard', secret: whsec, jobType: 'demo.sleep' },
      }),
    });
    api = await startEdgeApi(env);
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await redis?.quit();
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  const from = (remoteAddress: string) => ({ remoteAddress });
  const bad = { authorization: 'Bearer wrong-key-0123456789' };

  describe('failed authentication is counted per address before the 401/403', () => {
    it('/v1: wrong keys get 401 up to the limit, then 429 for every keyed request from that address', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await api.app.inject({
          method: 'GET',
          url: '/v1/jobs',
          headers: bad,
          ...from('10.0.0.1'),
        });
        statuses.push(res.statusCode);
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses.slice(20)).toEqual(Array(80).fill(429));
      const guessed = await api.app.inject({
        method: 'GET',
        url: '/v1/jobs',
        headers: bad,
        ...from('10.0.0.1'),
      });
      expect(guessed.statusCode).toBe(429);
      expect(guessed.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(guessed.json()).toMatchObject({ status: 429, code: 'RATE_LIMIT.EXCEEDED' });
      expect(Number(guessed.headers['retry-after'])).toBeGreaterThan(0);
      // A valid key from that address still works: clients sharing an ingress address are not locked out.
      const valid = await api.app.inject({
        method: 'GET',
        url: '/v1/jobs',
        headers: auth,
        ...from('10.0.0.1'),
      });
      expect(valid.statusCode).toBe(200);
      // The count is per address across route families; public routes and other addresses are not affected.
      expect(
        (await api.app.inject({ method: 'GET', url: '/admin/queues', ...from('10.0.0.1') })).statusCode,
      ).toBe(429);
      expect((await api.app.inject({ method: 'GET', url: '/healthz', ...from('10.0.0.1') })).statusCode).toBe(
        200,
      );
      expect(
        (await api.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth, ...from('10.0.0.9') }))
          .statusCode,
      ).toBe(200);
      // counted in Redis, one key per failing address
      expect(await redis.get(`${env.prefix}:authfail:10.0.0.1`)).not.toBeNull();
    });

    it('/admin: wrong and missing admin keys hit 429 the same way', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) {
        const headers = i % 2 === 0 ? { authorization: `Bearer ${API_KEY}` } : {};
        statuses.push(
          (await api.app.inject({ method: 'GET', url: '/admin/queues', headers, ...from('10.0.0.2') }))
            .statusCode,
        );
      }
      expect(new Set(statuses.slice(0, 20))).toEqual(new Set([401, 403]));
      expect(statuses.slice(20)).toEqual(Array(5).fill(429));
      const right = await api.app.inject({
        method: 'GET',
        url: '/admin/queues',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        ...from('10.0.0.8'),
      });
      expect(right.statusCode).toBe(200);
    });

    it('Connect: unauthenticated calls get unauthenticated up to the limit, then HTTP 429 problem+json', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) {
        const res = await api.app.inject({
          method: 'POST',
          url: `${RPC}/ListJobs`,
          headers: { 'content-type': 'application/json', ...bad },
          payload: '{}',
          ...from('10.0.0.3'),
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 401) expect(res.json()).toMatchObject({ code: 'unauthenticated' });
        else
          expect(res.json()).toMatchObject({
            status: 429,
            code: 'RATE_LIMIT.EXCEEDED',
            title: 'Too Many Requests',
          });
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    });
  });

  it('Connect: a client over its request budget gets a full problem+json 429', async () => {
    const call = () =>
      api.app.inject({
        method: 'POST',
        url: `${RPC}/ListJobs`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SECOND_KEY}` },
        payload: '{}',
      });
    for (let i = 0; i < PER_MINUTE; i++) expect((await call()).statusCode).toBe(200);
    const res = await call();
    expect(res.statusCode).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      type: '/problems/rate-limit-exceeded',
      title: 'Too Many Requests',
      status: 429,
      code: 'RATE_LIMIT.EXCEEDED',
    });
    expect(typeof res.json<{ detail: unknown }>().detail).toBe('string');
  });

  describe('webhooks', () => {
    const signed = (body: string, id = `msg_${newKey()}`) => {
      const ts = Math.floor(Date.now() / 1000);
      return {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signStandardWebhook(whsec, id, ts, body),
      };
    };
    const post = (path: string, headers: Record<string, string>, ip: string, body = '{"durationMs":1}') =>
      api.app.inject({ method: 'POST', url: path, headers, payload: body, ...from(ip) });

    it('unsigned POSTs do not spend the source budget: the next signed delivery is accepted', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 22; i++)
        statuses.push(
          (await post('/v1/webhooks/billing', { 'content-type': 'application/json' }, '10.1.0.1')).statusCode,
        );
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(400));
      expect(statuses.slice(20)).toEqual([429, 429]); // the refusing address is limited
      const body = '{"durationMs":1}';
      const ok = await post('/v1/webhooks/billing', signed(body), '10.1.0.2', body);
      expect(ok.statusCode, ok.body).toBe(202);
    });

    it('the source segment is normalized: %62illing spends billing’s budget', async () => {
      const body = '{"durationMs":1}';
      const statuses: number[] = [];
      // one delivery already spent by the previous test
      for (let i = 0; i < PER_MINUTE - 1; i++) {
        const path = i % 2 === 0 ? '/v1/webhooks/billing' : '/v1/webhooks/%62illing';
        statuses.push((await post(path, signed(body), `10.1.1.${i}`, body)).statusCode);
      }
      expect(statuses).toEqual(Array(PER_MINUTE - 1).fill(202));
      const over = await post('/v1/webhooks/%62illing', signed(body), '10.1.2.1', body);
      expect(over.statusCode, over.body).toBe(429);
      expect(over.json()).toMatchObject({ code: 'RATE_LIMIT.EXCEEDED' });
    });

    it('made-up source names share one per-address bucket and create no per-name Redis keys', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++)
        statuses.push((await post(`/v1/webhooks/made-up-${i}`, signed('{}'), '10.2.0.1', '{}')).statusCode);
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(404));
      expect(statuses.slice(20)).toEqual(Array(10).fill(429));
      const keys = await redis.keys(`${env.prefix}:*`);
      expect(keys.filter((k) => k.includes('made-up'))).toEqual([]);
      expect(keys.filter((k) => k.includes('10.2.0.1'))).toHaveLength(1);
    });

    it('/docs/json does not name the configured sources', async () => {
      const doc = await api.app.inject({ method: 'GET', url: '/docs/json' });
      expect(doc.statusCode).toBe(200);
      expect(doc.body).toContain('/v1/webhooks/{source}');
      expect(doc.body).not.toContain('billing');
    });
  });

  describe('SSE streams per client', () => {
    let baseUrl = '';
    const streams: http.ClientRequest[] = [];
    // Its own app: the request budget of the describe above is deliberately small.
    let sseEnv: EdgeEnv;
    let sseApi: EdgeApi;
    beforeAll(async () => {
      sseEnv = await createEdgeEnv();
      sseApi = await startEdgeApi(sseEnv);
      baseUrl = await sseApi.app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterAll(async () => {
      for (const s of streams) s.destroy();
      await sseApi?.close();
      if (sseEnv) await destroyEdgeEnv(sseEnv);
    });

    /** Opens a stream; resolves with the status once the headers arrive. */
    const open = (jobId: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${baseUrl}/v1/jobs/${jobId}/stream`, { headers: auth }, (res) => {
          res.on('data', () => undefined);
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
        streams.push(req);
      });

    it('a client holding 20 open streams gets 429 for the 21st, and a stream again once one closes', async () => {
      const sub = await sseApi.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': newKey() },
        payload: { type: 'demo.sleep', payload: { durationMs: 1 } },
      });
      const jobId = sub.json<{ job: { id: string } }>().job.id;
      const statuses = await Promise.all(Array.from({ length: 20 }, () => open(jobId)));
      expect(statuses).toEqual(Array(20).fill(200));
      expect(await open(jobId)).toBe(429);
      streams[0]!.destroy();
      await waitFor(async () => (await open(jobId)) === 200);
    });
  });
});
