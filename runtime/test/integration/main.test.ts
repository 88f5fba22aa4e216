import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApi, type RunningApi } from '../../src/main/api.js';
import { runWorker, workerQueues, type RunningWorker } from '../../src/main/worker.js';
import { API_KEY_A, isolate, waitFor, type Isolated } from './helpers.js';
import { examplesCatalog } from '../examples-catalog.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

let iso: Isolated;
let api: RunningApi;
let worker: RunningWorker;
let metricsPort: number;
let apiUrl: string;

beforeAll(async () => {
  iso = await isolate('main');
  const port = await freePort();
  metricsPort = await freePort();
  const extra = {
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    RELAY_IN_PROCESS: 'true',
    RELAY_POLL_MS: '200',
    DRAIN_TIMEOUT_SECONDS: '5',
  };
  api = await runApi(iso.core('api', {}, extra));
  worker = await runWorker(iso.core('worker', {}, extra));
  apiUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await api?.stop();
  await iso.cleanup();
});

describe('composition roots (api with in-process relay + worker)', () => {
  it('accepts a job over HTTP and runs it to succeeded', async () => {
    const res = await fetch(`${apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${API_KEY_A}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ type: 'demo.sleep', payload: { durationMs: 20 } }),
    });
    expect(res.status).toBe(202);
    const { job } = (await res.json()) as { job: { id: string } };
    const done = await waitFor(async () => {
      const r = await fetch(`${apiUrl}/v1/jobs/${job.id}`, {
        headers: { authorization: `Bearer ${API_KEY_A}` },
      });
      const body = (await r.json()) as { job: { state: string } };
      return body.job.state === 'JOB_STATE_SUCCEEDED' ? body.job : null;
    }, 15_000);
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
  });

  it('serves worker health on METRICS_PORT', async () => {
    const base = `http://127.0.0.1:${metricsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('consumes every pooled queue by default', () => {
    expect(workerQueues(examplesCatalog, undefined)).toEqual(['default', 'backtest']);
    expect(workerQueues(examplesCatalog, ['backtest'])).toEqual(['backtest']);
  });

  it('drains: readiness fails and the worker closes', async () => {
    await worker.drain();
    expect(worker.workers.every((w) => w.closing !== null || !w.isRunning())).toBe(true);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/healthz`)).rejects.toThrow();
  });
});
