import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { JobService } from '@jobplane/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelayLoop } from '../../src/main/relay-loop.js';
import {
  API_KEY,
  auth,
  CLIENT,
  createEdgeEnv,
  destroyEdgeEnv,
  newKey,
  startEdgeApi,
  waitFor,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

const OTHER_KEY = 'other-client-key-0123456789';
const keys = `${CLIENT}:${API_KEY},other:${OTHER_KEY}`;

describe('limits: rate limit, queue-depth cap, overload, security headers', () => {
  const envs: EdgeEnv[] = [];
  const apis: EdgeApi[] = [];
  async function start(extra: Record<string, string>, opts: Parameters<typeof startEdgeApi>[1] = {}) {
    const env = await createEdgeEnv({ JOBPLANE_API_KEYS: keys, ...extra });
    envs.push(env);
    const api = await startEdgeApi(env, opts);
    apis.push(api);
    return api;
  }
  afterAll(async () => {
    for (const a of apis) await a.close();
    for (const e of envs) await destroyEdgeEnv(e);
  });

  describe('per-client rate limit', () => {
    let api: EdgeApi;
    beforeAll(async () => {
      api = await start({ RATE_LIMIT_PER_MINUTE: '3' });
    });

    it('answers 429 problem+json with Retry-After once a client exceeds its budget, per client', async () => {
      for (let i = 0; i < 3; i++) {
        expect((await api.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth })).statusCode).toBe(
          200,
        );
      }
      const limited = await api.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth });
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json()).toMatchObject({
        status: 429,
        code: 'RATE_LIMIT.EXCEEDED',
        title: 'Too Many Requests',
      });
      // another client has its own budget; health and metrics are never limited
      const other = await api.app.inject({
        method: 'GET',
        url: '/v1/jobs',
        headers: { authorization: `Bearer ${OTHER_KEY}` },
      });
      expect(other.statusCode).toBe(200);
      expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      for (let i = 0; i < 5; i++)
        expect((await api.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    });

    it('counts in Redis, so replicas share one budget', async () => {
      const second = await startEdgeApi(envs[0]!);
      apis.push(second);
      const r = await second.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth });
      expect(r.statusCode).toBe(429);
    });
  });

  describe('queue-depth cap (QUEUE_MAX_DEPTH)', () => {
    let api: EdgeApi;
    beforeAll(async () => {
      api = await start({ QUEUE_MAX_DEPTH: '2' }, { queueCap: true });
    });

    it('answers 503 QUEUE.FULL (HTTP) and RESOURCE_EXHAUSTED (Connect) once a queue is over its cap', async () => {
      const submit = () =>
        api.app.inject({
          method: 'POST',
          url: '/v1/jobs',
          headers: { ...auth, 'idempotency-key': newKey() },
          payload: { type: 'demo.sleep', payload: { durationMs: 1 } },
        });
      for (let i = 0; i < 3; i++) expect((await submit()).statusCode).toBe(202);
      const relay = await startRelayLoop(api.core);
      try {
        await waitFor(async () => {
          await api.backlog!.refresh();
          return (api.backlog!.depth('default') ?? 0) >= 3;
        });
      } finally {
        await relay.stop();
      }
      const full = await submit();
      expect(full.statusCode).toBe(503);
      expect(full.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(full.json().code).toBe('QUEUE.FULL');
      const baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
      const client = createClient(JobService, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
      const err = await client
        .submitJob(
          { type: 'demo.sleep', payload: { durationMs: 1 } },
          { headers: { ...auth, 'idempotency-key': newKey() } },
        )
        .catch((e: unknown) => ConnectError.from(e));
      expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
      expect((err as ConnectError).metadata.get('jobplane-error-code')).toBe('QUEUE.FULL');
    });
  });

  describe('overload protection and security headers', () => {
    let api: EdgeApi;
    beforeAll(async () => {
      api = await start(
        {},
        { edge: { pressure: { maxEventLoopDelayMs: 40, sampleIntervalMs: 50, retryAfterSeconds: 7 } } },
      );
    });

    it('sets security headers on every response', async () => {
      const r = await api.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['strict-transport-security']).toMatch(/max-age=31536000/);
      expect(r.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
    });

    it('answers 503 SERVICE.OVERLOADED with Retry-After while the event loop lags; /healthz stays up', async () => {
      // Lag that persists over several sample windows (100 ms busy slices, yielding in between);
      // once two samples in a row lag, work is refused. Probe every few ms until that is seen.
      let over: Awaited<ReturnType<typeof api.app.inject>> | null = null;
      let health: Awaited<ReturnType<typeof api.app.inject>> | null = null;
      // Other test files may load the CPU too: retry the lag a few times if a sample was missed.
      for (let attempt = 0; attempt < 5 && !over; attempt++) {
        for (let slice = 0; slice < 6; slice++) {
          const until = Date.now() + 100;
          while (Date.now() < until) {
            /* busy */
          }
          await new Promise((res) => setImmediate(res));
        }
        for (let i = 0; i < 40 && !over; i++) {
          const [r, h] = await Promise.all([
            api.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth }),
            api.app.inject({ method: 'GET', url: '/healthz' }),
          ]);
          if (r.statusCode === 503) [over, health] = [r, h];
          else await new Promise((res) => setTimeout(res, 2));
        }
      }
      const result = { over: over!, health: health! };
      expect(over).not.toBeNull();
      expect(result.over.statusCode).toBe(503);
      expect(result.over.headers['retry-after']).toBe('7');
      expect(result.over.json().code).toBe('SERVICE.OVERLOADED');
      expect(result.health.statusCode).toBe(200);
      // and recovers
      await waitFor(
        async () =>
          (await api.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth })).statusCode === 200,
      );
    });
  });
});
