import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefersOpenMetrics, PromMetrics } from '../../../src/adapters/metrics/prom-metrics.js';
import { METRIC_NAMES } from '../../../src/config/metric-names.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const OPENMETRICS =
  'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

describe('job duration exemplars', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(manager.enable()));
  afterAll(() => {
    context.disable();
    manager.disable();
  });

  function observeInSpan(m: PromMetrics, seconds: number): void {
    const span = trace.wrapSpanContext({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => m.jobCompleted('demo.sleep', 'succeeded', seconds));
  }

  it('an attempt observed inside a span carries its trace_id as the bucket exemplar (OpenMetrics)', async () => {
    const m = new PromMetrics({ processDefaults: false, defaultLabels: { process: 'worker' } });
    observeInSpan(m, 0.3);
    m.jobCompleted('demo.sleep', 'succeeded', 7); // outside any span: no exemplar
    const om = await m.exposition(OPENMETRICS);
    expect(om.contentType).toMatch(/^application\/openmetrics-text/);
    const bucket = om.body
      .split('\n')
      .find((l) => l.startsWith(`${METRIC_NAMES.jobDuration}_bucket{le="0.5"`));
    expect(bucket).toMatch(new RegExp(`# \\{trace_id="${TRACE_ID}"\\} 0\\.3 \\d`));
    const bucket10 = om.body
      .split('\n')
      .find((l) => l.startsWith(`${METRIC_NAMES.jobDuration}_bucket{le="10"`));
    expect(bucket10).not.toContain('#');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
  });

  it('a plain Prometheus scrape gets the text format, without exemplars, and counter names stay intact', async () => {
    const m = new PromMetrics({ processDefaults: false });
    m.jobSubmitted('demo.sleep');
    observeInSpan(m, 0.3);
    const before = await m.exposition();
    await m.exposition(OPENMETRICS); // renders counters without `_total` while it runs
    for (const accept of [undefined, 'text/plain', '*/*', 'text/plain;version=0.0.4']) {
      const t = await m.exposition(accept);
      expect(t.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(t.body).not.toContain('trace_id');
      expect(t.body).toBe(before.body);
    }
    expect(before.body).toContain(`${METRIC_NAMES.jobsSubmitted}{type="demo.sleep"} 1`);
  });

  it('negotiates by q-value', () => {
    expect(prefersOpenMetrics(undefined)).toBe(false);
    expect(prefersOpenMetrics('')).toBe(false);
    expect(prefersOpenMetrics('text/plain')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text')).toBe(true);
    expect(prefersOpenMetrics(OPENMETRICS)).toBe(true);
    expect(prefersOpenMetrics('text/plain;q=0.9,application/openmetrics-text;q=0.5')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text;q=0,text/plain')).toBe(false);
  });
});
