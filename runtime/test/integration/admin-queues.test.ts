import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auth,
  createEdgeEnv,
  destroyEdgeEnv,
  newKey,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';

describe('queue dashboard at /admin/queues', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let off: EdgeEnv;
  let offApi: EdgeApi;
  beforeAll(async () => {
    env = await createEdgeEnv({ JOBPLANE_ADMIN_KEY: ADMIN_KEY });
    api = await startEdgeApi(env);
    off = await createEdgeEnv();
    offApi = await startEdgeApi(off);
  });
  afterAll(async () => {
    await api?.close();
    await offApi?.close();
    if (env) await destroyEdgeEnv(env);
    if (off) await destroyEdgeEnv(off);
  });

  it('refuses requests without the admin key (401) and with a wrong key (403)', async () => {
    const none = await api.app.inject({ method: 'GET', url: '/admin/queues' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    expect(none.json().code).toBe('AUTH.UNAUTHENTICATED');
    const apiKey = await api.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: auth });
    expect(apiKey.statusCode).toBe(403); // a client API key is not the admin key
    expect(apiKey.json().code).toBe('AUTH.FORBIDDEN');
  });

  it('serves the UI and its API with the key (Bearer or Basic password)', async () => {
    const ui = await api.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    // a job reaches the queue, then shows up in the dashboard's API
    await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth, 'idempotency-key': newKey() },
      payload: { type: 'demo.sleep', payload: { durationMs: 1 } },
    });
    const { startRelayLoop } = await import('../../src/main/relay-loop.js');
    const relay = await startRelayLoop(api.core);
    try {
      const basic = `Basic ${Buffer.from(`ops:${ADMIN_KEY}`).toString('base64')}`;
      let queues: { name: string; counts: Record<string, number> }[] = [];
      for (let i = 0; i < 100; i++) {
        const r = await api.app.inject({
          method: 'GET',
          url: '/admin/queues/api/queues',
          headers: { authorization: basic },
        });
        expect(r.statusCode).toBe(200);
        queues = r.json().queues;
        if ((queues.find((q) => q.name === 'default')?.counts.prioritized ?? 0) > 0) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(queues.map((q) => q.name).sort()).toEqual(['backtest', 'backtest-full', 'default', 'python']);
      expect(queues.find((q) => q.name === 'default')?.counts.prioritized).toBe(1);
    } finally {
      await relay.stop();
    }
  });

  it('is not mounted when JOBPLANE_ADMIN_KEY is unset', async () => {
    const r = await offApi.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(r.statusCode).toBe(404);
  });
});
