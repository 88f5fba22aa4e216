import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/schema.js';
import { buildCore, type Core } from '../../src/main/context.js';
import { withEdgeMetrics } from '../../src/main/edge.js';
import { startRelayLoop, type RelayLoop } from '../../src/main/relay-loop.js';
import { runWorker, type RunningWorker } from '../../src/main/worker.js';
import { examplesCatalog } from '../examples-catalog.js';
import {
  auth,
  createEdgeEnv,
  destroyEdgeEnv,
  freePort,
  newKey,
  sample,
  startEdgeApi,
  waitFor,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

describe('metrics move as jobs flow (api + relay + worker, real PostgreSQL and Redis)', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let workerCore: Core;
  let worker: RunningWorker;
  let relay: RelayLoop;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    env = await createEdgeEnv({
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      WORKER_QUEUES: 'default',
      // The relay's path (the outbox gauge before and after a relay runs); eager-publish.test.ts
      // covers the API publishing its own rows.
      EAGER_PUBLISH: 'false',
    });
    api = await startEdgeApi(env);
    const cfg = loadConfig(env.env, 'worker');
    workerCore = withEdgeMetrics(
      buildCore(cfg, 'worker', { catalog: examplesCatalog, logger: pino({ level: 'silent' }) }),
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

  const scrapeApi = async () => (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
  const scrapeWorker = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  it('counts submissions on the API and completions/durations on the worker, by the deltas', async () => {
    const before = await scrapeApi();
    const submitted = 'jobplane_jobs_submitted_total{type="demo.sleep",process="api"}';
    const outbox = 'jobplane_outbox_pending{process="api"}';
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const key = newKey();
      const r = await api.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { ...auth, 'idempotency-key': key },
        payload: { type: 'demo.sleep', payload: { durationMs: 20 } },
      });
      expect(r.statusCode, r.body).toBe(202);
      ids.push(r.json().job.id);
      // a replay is not a new submission
      await api.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { ...auth, 'idempotency-key': key },
        payload: { type: 'demo.sleep', payload: { durationMs: 20 } },
      });
    }
    const queued = await scrapeApi();
    expect(sample(queued, submitted) - sample(before, submitted)).toBe(3);
    expect(sample(queued, outbox)).toBe(3); // nothing relayed yet
    expect(queued).toMatch(
      /jobplane_http_request_duration_seconds_count\{[^}]*method="POST",route="\/v1\/jobs",status="202"[^}]*\} 3\n/,
    );
    expect(queued).not.toMatch(/route="\/v1\/jobs\/[0-9a-f-]{36}"/); // route patterns, never raw URLs

    relay = await startRelayLoop(api.core);
    // Relayed but not consumed: the backlog shows in BullMQ (prioritized: every job carries a priority).
    const backlog = await waitFor(async () => {
      const body = await scrapeApi();
      const b =
        sample(body, 'jobplane_queue_jobs{queue="default",state="waiting",process="api"}') +
        sample(body, 'jobplane_queue_jobs{queue="default",state="prioritized",process="api"}');
      return b === 3 ? body : null;
    });
    expect(sample(backlog, outbox)).toBe(0);
    expect(
      sample(backlog, 'jobplane_queue_oldest_waiting_seconds{queue="default",process="api"}'),
    ).toBeGreaterThan(0);

    worker = await runWorker(workerCore);
    const workerBefore = await scrapeWorker();
    expect(workerBefore).toContain('process_cpu_user_seconds_total');
    await waitFor(async () => {
      const states = await Promise.all(
        ids.map(
          async (id) =>
            (await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: auth })).json().job.state,
        ),
      );
      return states.every((s) => s === 'JOB_STATE_SUCCEEDED');
    });
    const after = await scrapeWorker();
    const done = 'jobplane_jobs_completed_total{type="demo.sleep",outcome="succeeded",process="worker"}';
    expect(sample(after, done) - sample(workerBefore, done)).toBe(3);
    expect(sample(after, 'jobplane_job_duration_seconds_count{type="demo.sleep",process="worker"}')).toBe(3);
    expect(
      sample(after, 'jobplane_job_duration_seconds_sum{type="demo.sleep",process="worker"}'),
    ).toBeGreaterThanOrEqual(0.06);
    const drained = await scrapeApi();
    expect(sample(drained, 'jobplane_queue_jobs{queue="default",state="prioritized",process="api"}')).toBe(0);
    expect(sample(drained, 'jobplane_queue_oldest_waiting_seconds{queue="default",process="api"}')).toBe(0);
  });
});
