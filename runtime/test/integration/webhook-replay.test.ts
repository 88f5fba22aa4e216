import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signGithubWebhook, signStandardWebhook } from '../../src/domain/webhook-signature.js';
import {
  createEdgeEnv,
  destroyEdgeEnv,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

const whsec = `whsec_${randomBytes(32).toString('base64')}`;
const ghSecret = 'github-webhook-secret-0123';

describe('POST /v1/webhooks/{source} (real PostgreSQL)', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  beforeAll(async () => {
    env = await createEdgeEnv({
      JOBPLANE_WEBHOOKS: JSON.stringify({
        billing: { scheme: 'standard', secret: whsec, jobType: 'demo.sleep' },
        repo: { scheme: 'github', secret: ghSecret, jobType: 'demo.sleep' },
      }),
    });
    api = await startEdgeApi(env);
  });
  afterAll(async () => {
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  const count = async (): Promise<number> =>
    Number((await api.core.pool.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n);

  function standard(id: string, body: string, ts = Math.floor(Date.now() / 1000)) {
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(whsec, id, ts, body),
    };
  }

  it('creates one job per delivery; a replayed webhook-id answers 2xx with the same job', async () => {
    const before = await count();
    // Formatting the sender chose: the signature covers these exact bytes.
    const body = '{ "durationMs" : 10 }';
    const first = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/billing',
      headers: standard('msg_a1', body),
      payload: body,
    });
    expect(first.statusCode, first.body).toBe(202);
    const job = first.json().job;
    expect(job).toMatchObject({ type: 'demo.sleep', state: 'JOB_STATE_QUEUED', payload: { durationMs: 10 } });
    // The sender retries later with a fresh timestamp and signature.
    const again = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/billing',
      headers: standard('msg_a1', body, Math.floor(Date.now() / 1000) + 2),
      payload: body,
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().job.id).toBe(job.id);
    expect(await count()).toBe(before + 1);
    const row = await api.core.pool.query('SELECT client_id, idempotency_key FROM jobs WHERE id = $1', [
      job.id,
    ]);
    expect(row.rows[0]).toEqual({ client_id: 'webhook:billing', idempotency_key: 'webhook:billing:msg_a1' });
  });

  it('refuses tampered, expired and unsigned deliveries with problem+json and creates nothing', async () => {
    const before = await count();
    const body = '{"durationMs":10}';
    const tampered = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/billing',
      headers: standard('msg_t', body),
      payload: '{"durationMs":99}',
    });
    expect(tampered.statusCode).toBe(401);
    expect(tampered.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(tampered.json().code).toBe('WEBHOOK.SIGNATURE_INVALID');
    const expired = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/billing',
      headers: standard('msg_e', body, Math.floor(Date.now() / 1000) - 600),
      payload: body,
    });
    expect(expired.json().code).toBe('WEBHOOK.TIMESTAMP_OUT_OF_RANGE');
    const unsigned = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/billing',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(unsigned.statusCode).toBe(400);
    expect(unsigned.json().code).toBe('WEBHOOK.HEADERS_INVALID');
    const unknown = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/nope',
      headers: standard('m', body),
      payload: body,
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('WEBHOOK.SOURCE_NOT_FOUND');
    expect(await count()).toBe(before);
  });

  it('accepts GitHub deliveries and dedupes on X-GitHub-Delivery', async () => {
    const body = Buffer.from('{"durationMs":5}');
    const headers = {
      'content-type': 'application/json',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': signGithubWebhook(ghSecret, body),
    };
    const a = await api.app.inject({ method: 'POST', url: '/v1/webhooks/repo', headers, payload: body });
    const b = await api.app.inject({ method: 'POST', url: '/v1/webhooks/repo', headers, payload: body });
    expect([a.statusCode, b.statusCode]).toEqual([202, 200]);
    expect(b.json().job.id).toBe(a.json().job.id);
  });

  it('validates the payload against the job type after verification', async () => {
    const body = '{"durationMs":"soon"}';
    const r = await api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/billing',
      headers: standard('msg_p', body),
      payload: body,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('JOB.PAYLOAD_INVALID');
  });
});
