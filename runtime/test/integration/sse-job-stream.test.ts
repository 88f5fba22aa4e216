import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/schema.js';
import { buildCore, type Core } from '../../src/main/context.js';
import { withEdgeMetrics } from '../../src/main/edge.js';
import { startRelayLoop, type RelayLoop } from '../../src/main/relay-loop.js';
import { runWorker, type RunningWorker } from '../../src/main/worker.js';
import { examplesCatalog } from '../examples-catalog.js';
import {
  API_KEY,
  createEdgeEnv,
  destroyEdgeEnv,
  freePort,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

interface SseEvent {
  event: string;
  data: string;
}

/** A minimal SSE client: collects events until the server closes the stream. */
function readStream(url: string, headers: Record<string, string>, onEvent?: (e: SseEvent) => void) {
  return new Promise<{ status: number; contentType: string; events: SseEvent[]; body: string }>(
    (resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        const events: SseEvent[] = [];
        let buf = '';
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev: SseEvent = { event: 'message', data: '' };
            let hasData = false;
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) ev.event = line.slice(7);
              if (line.startsWith('data: ')) {
                ev.data += line.slice(6);
                hasData = true;
              }
            }
            if (hasData) {
              events.push(ev);
              onEvent?.(ev);
            }
          }
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type']),
            events,
            body,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('GET /v1/jobs/{id}/stream (SSE, real worker)', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let baseUrl: string;
  let workerCore: Core;
  let worker: RunningWorker | undefined;
  let relay: RelayLoop | undefined;

  beforeAll(async () => {
    env = await createEdgeEnv({
      METRICS_PORT: String(await freePort()),
      HOST: '127.0.0.1',
      WORKER_QUEUES: 'default',
    });
    api = await startEdgeApi(env);
    baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
    workerCore = withEdgeMetrics(
      buildCore(loadConfig(env.env, 'worker'), 'worker', {
        catalog: examplesCatalog,
        logger: pino({ level: 'silent' }),
      }),
      'worker',
    );
  });
  afterAll(async () => {
    await worker?.drain();
    await relay?.stop();
    await workerCore?.close();
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  const auth = { authorization: `Bearer ${API_KEY}` };

  it('streams queued → running → progress → succeeded, then ends', async () => {
    const sub = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { ...auth, 'idempotency-key': 'sse-1' },
      payload: { type: 'demo.sleep', payload: { durationMs: 3000 } },
    });
    const id = sub.json().job.id as string;
    let started = false;
    const streaming = readStream(`${baseUrl}/v1/jobs/${id}/stream`, auth, (e) => {
      // Start the pipeline only once the client has seen the queued state.
      if (!started && e.event === 'job') {
        started = true;
        void (async () => {
          relay = await startRelayLoop(api.core);
          worker = await runWorker(workerCore);
        })();
      }
    });
    const res = await streaming;
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/event-stream/);
    const jobs = res.events.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data).job);
    const states = jobs.map((j) => j.state as string);
    expect(states[0]).toBe('JOB_STATE_QUEUED');
    expect(states).toContain('JOB_STATE_RUNNING');
    expect(states.at(-1)).toBe('JOB_STATE_SUCCEEDED');
    // progress while running, strictly between 0 and 100, with the handler's message
    const midway = jobs.filter(
      (j) => j.state === 'JOB_STATE_RUNNING' && (j.progress?.percent ?? 0) > 0 && j.progress.percent < 100,
    );
    expect(midway.length).toBeGreaterThan(0);
    expect(midway[0].progress.message).toMatch(/slept \d+ of 3000 ms/);
    // order: queued before running before succeeded
    expect(states.indexOf('JOB_STATE_QUEUED')).toBeLessThan(states.indexOf('JOB_STATE_RUNNING'));
    expect(res.events.at(-1)).toEqual({
      event: 'end',
      data: JSON.stringify({ state: 'JOB_STATE_SUCCEEDED' }),
    });
  });

  it('is authenticated and scoped to the client (problem+json before any stream)', async () => {
    const none = await api.app.inject({
      method: 'GET',
      url: '/v1/jobs/00000000-0000-4000-8000-000000000000/stream',
    });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('AUTH.UNAUTHENTICATED');
    const missing = await api.app.inject({
      method: 'GET',
      url: '/v1/jobs/00000000-0000-4000-8000-000000000000/stream',
      headers: auth,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('JOB.NOT_FOUND');
  });

  it('ends a finished job’s stream at once', async () => {
    const list = (
      await api.app.inject({ method: 'GET', url: '/v1/jobs?state=succeeded', headers: auth })
    ).json();
    const id = list.jobs[0].id as string;
    const res = await readStream(`${baseUrl}/v1/jobs/${id}/stream`, auth);
    expect(res.events.map((e) => e.event)).toEqual(['job', 'end']);
  });
});
