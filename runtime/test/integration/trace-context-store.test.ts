/**
 * The trace context stored with a job (docs/observability.md): real PostgreSQL, an in-process
 * OpenTelemetry tracer (W3C propagator, AsyncLocalStorage context). Group commit coalesces
 * concurrent submissions into one statement; each job row must still store its own request's
 * context, and the outbox row the relay claims must carry it.
 */
import { context, propagation, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src/main/context.js';
import { isolate, type Isolated } from './helpers.js';
import { newJob } from '../support/new-job.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const manager = new AsyncLocalStorageContextManager();
let iso: Isolated;
let core: Core;

beforeAll(async () => {
  context.setGlobalContextManager(manager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  iso = await isolate('tracectx');
  core = iso.core('api');
});

afterAll(async () => {
  await iso?.cleanup();
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

/** `00-<trace id>-<span id>-<flags>` → its parts. */
function parse(traceparent: string | null): { traceId: string; spanId: string } {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? '');
  if (!m) throw new Error(`not a traceparent: ${traceparent}`);
  return { traceId: m[1]!, spanId: m[2]! };
}

describe('trace context stored with the job', () => {
  it('group-committed submissions each store their own request context, in jobs and outbox', async () => {
    const tracer = trace.getTracer('test');
    const N = 20;
    const before = core.store.groupCommitStats().inserts;
    const requests: Array<{ span: Span; jobId: string }> = [];
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        tracer.startActiveSpan(`request ${i}`, async (span) => {
          const job = newJob(`tc-${i}`);
          requests.push({ span, jobId: job.id });
          try {
            return await core.store.insert(job);
          } finally {
            span.end();
          }
        }),
      ),
    );
    const after = core.store.groupCommitStats().inserts;
    // Coalesced: fewer statements than submissions (all N arrived in one turn of the event loop).
    expect(after.batches - before.batches).toBeLessThan(N);

    const rows = await iso.query<{ id: string; jt: string | null; ot: string | null }>(
      `SELECT j.id, j.traceparent AS jt, o.traceparent AS ot FROM jobs j JOIN outbox o ON o.job_id = j.id
       WHERE j.idempotency_key LIKE 'tc-%'`,
    );
    expect(rows).toHaveLength(N);
    const byJob = new Map(rows.map((r) => [r.id, r]));
    const finished = exporter.getFinishedSpans();
    const traceIds = new Set<string>();
    for (const { span, jobId } of requests) {
      const row = byJob.get(jobId)!;
      expect(row.ot).toBe(row.jt);
      const stored = parse(row.jt);
      // Its own request's trace, and the stored span is this job's submit span, child of the request.
      expect(stored.traceId).toBe(span.spanContext().traceId);
      const submit = finished.find((s) => s.spanContext().spanId === stored.spanId);
      expect(submit?.name).toBe('jobplane.submit');
      expect(submit?.attributes['job.id']).toBe(jobId);
      expect(submit?.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
      traceIds.add(stored.traceId);
    }
    expect(traceIds.size).toBe(N);

    // The reconciler (re-publishing a message lost from Redis) reads it too.
    const candidates = await core.store.reconcileCandidates(0, null, 500);
    const candidate = candidates.find((c) => c.job.id === requests[0]!.jobId);
    expect(candidate?.traceparent).toBe(byJob.get(requests[0]!.jobId)!.jt);

    // The relay's claim hands the context on.
    const batch = await core.store.claimOutbox(500);
    try {
      const mine = batch.messages.filter((m) => byJob.has(m.jobId));
      expect(mine).toHaveLength(N);
      for (const m of mine) expect(m.traceparent).toBe(byJob.get(m.jobId)!.jt);
    } finally {
      await batch.release();
    }
  });

  it('a submission outside any request span gets a trace of its own (its submit span is the root)', async () => {
    const job = newJob('tc-none');
    await context.with(trace.deleteSpan(context.active()), () => core.store.insert(job));
    const [row] = await iso.query<{ traceparent: string | null }>(
      'SELECT traceparent FROM jobs WHERE id = $1',
      [job.id],
    );
    const stored = parse(row!.traceparent);
    const submit = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === stored.spanId);
    expect(submit?.attributes['job.id']).toBe(job.id);
    expect(submit?.parentSpanContext).toBeUndefined();
  });
});
