import { describe, expect, it } from 'vitest';
import { PromMetrics } from '../../../src/adapters/metrics/prom-metrics.js';
import { METRIC_NAMES } from '../../../src/config/metric-names.js';
import type { QueueSnapshot } from '../../../src/ports/queue-stats.port.js';

async function text(m: PromMetrics): Promise<string> {
  return (await m.exposition()).body;
}

function value(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('PromMetrics', () => {
  it('counts submissions and completions by label, and observes durations', async () => {
    const m = new PromMetrics({ processDefaults: false });
    m.jobSubmitted('demo.sleep');
    m.jobSubmitted('demo.sleep');
    m.jobCompleted('demo.sleep', 'succeeded', 0.3);
    m.jobCompleted('demo.sleep', 'failed', 2);
    const body = await text(m);
    expect(value(body, `${METRIC_NAMES.jobsSubmitted}{type="demo.sleep"}`)).toBe(2);
    expect(value(body, `${METRIC_NAMES.jobsCompleted}{type="demo.sleep",outcome="succeeded"}`)).toBe(1);
    expect(value(body, `${METRIC_NAMES.jobsCompleted}{type="demo.sleep",outcome="failed"}`)).toBe(1);
    expect(value(body, `${METRIC_NAMES.jobDuration}_count{type="demo.sleep"}`)).toBe(2);
    expect(value(body, `${METRIC_NAMES.jobDuration}_bucket{le="0.5",type="demo.sleep"}`)).toBe(1);
    expect(value(body, `${METRIC_NAMES.jobDuration}_sum{type="demo.sleep"}`)).toBeCloseTo(2.3);
  });

  it('records HTTP durations by method, route pattern and status', async () => {
    const m = new PromMetrics({ processDefaults: false });
    m.httpRequest('GET', '/v1/jobs/:id', 200, 0.004);
    expect(
      value(
        await text(m),
        `${METRIC_NAMES.httpRequestDuration}_count{method="GET",route="/v1/jobs/:id",status="200"}`,
      ),
    ).toBe(1);
  });

  it('counts flow-control refusals by queue, type and reason', async () => {
    const m = new PromMetrics({ processDefaults: false });
    m.flowRefused('crm', 'crm.sync', 'key');
    m.flowRefused('crm', 'crm.sync', 'key');
    m.flowRefused('crm', 'crm.sync', 'rate');
    const body = await text(m);
    expect(value(body, `${METRIC_NAMES.flowRefused}{queue="crm",type="crm.sync",reason="key"}`)).toBe(2);
    expect(value(body, `${METRIC_NAMES.flowRefused}{queue="crm",type="crm.sync",reason="rate"}`)).toBe(1);
    expect(
      value(body, `${METRIC_NAMES.flowRefused}{queue="crm",type="crm.sync",reason="queue"}`),
    ).toBeUndefined();
  });

  it('reads queue depth and oldest age at scrape time, once per scrape', async () => {
    let calls = 0;
    let snap: QueueSnapshot[] = [
      { queue: 'default', waiting: 3, prioritized: 1, delayed: 2, active: 4, oldestWaitingSeconds: 12.5 },
    ];
    const m = new PromMetrics({
      processDefaults: false,
      queueStats: { snapshot: async () => (calls++, snap) },
    });
    let body = await text(m);
    expect(calls).toBe(1);
    expect(value(body, `${METRIC_NAMES.queueJobs}{queue="default",state="waiting"}`)).toBe(3);
    expect(value(body, `${METRIC_NAMES.queueJobs}{queue="default",state="prioritized"}`)).toBe(1);
    expect(value(body, `${METRIC_NAMES.queueJobs}{queue="default",state="delayed"}`)).toBe(2);
    expect(value(body, `${METRIC_NAMES.queueJobs}{queue="default",state="active"}`)).toBe(4);
    expect(value(body, `${METRIC_NAMES.queueOldestWaiting}{queue="default"}`)).toBe(12.5);
    snap = [{ queue: 'default', waiting: 0, prioritized: 0, delayed: 0, active: 1, oldestWaitingSeconds: 0 }];
    await new Promise((r) => setImmediate(r));
    body = await text(m);
    expect(calls).toBe(2);
    expect(value(body, `${METRIC_NAMES.queueJobs}{queue="default",state="waiting"}`)).toBe(0);
  });

  it('drops queue series when the snapshot fails instead of reporting stale numbers', async () => {
    let fail = false;
    const warnings: unknown[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (o: Record<string, unknown>) => void warnings.push(o),
      child: () => logger,
    };
    const m = new PromMetrics({
      processDefaults: false,
      logger,
      queueStats: {
        snapshot: async () => {
          if (fail) throw new Error('redis down');
          return [{ queue: 'q', waiting: 1, prioritized: 0, delayed: 0, active: 0, oldestWaitingSeconds: 1 }];
        },
      },
      outboxCount: async () => {
        if (fail) throw new Error('pg down');
        return 7;
      },
    });
    let body = await text(m);
    expect(value(body, `${METRIC_NAMES.queueJobs}{queue="q",state="waiting"}`)).toBe(1);
    expect(value(body, METRIC_NAMES.outboxPending)).toBe(7);
    fail = true;
    await new Promise((r) => setImmediate(r));
    body = await text(m);
    expect(body).not.toContain(`${METRIC_NAMES.queueJobs}{`);
    expect(value(body, METRIC_NAMES.outboxPending)).toBeNaN();
    expect(warnings.length).toBe(2);
  });

  it('reports the relay-set outbox count without a count query, and process defaults when asked', async () => {
    const m = new PromMetrics({ defaultLabels: { process: 'relay' } });
    m.outboxPending(5);
    const body = await text(m);
    expect(value(body, `${METRIC_NAMES.outboxPending}{process="relay"}`)).toBe(5);
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('keeps registries separate per instance', async () => {
    const a = new PromMetrics({ processDefaults: false });
    const b = new PromMetrics({ processDefaults: false });
    a.jobSubmitted('x');
    expect(await text(b)).not.toContain('type="x"');
  });

  it('gives up on a queue snapshot that hangs, so scrapes still answer', async () => {
    const m = new PromMetrics({
      processDefaults: false,
      snapshotTimeoutMs: 50,
      queueStats: { snapshot: () => new Promise(() => undefined) },
    });
    m.jobSubmitted('t');
    const started = Date.now();
    const body = await text(m);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(body).toContain('jobplane_jobs_submitted_total{type="t"} 1');
    expect(body).not.toContain(`${METRIC_NAMES.queueJobs}{`);
  });
});
