/**
 * One trace follows a job end to end: real `jobplane api`, `relay` and `worker` processes (built
 * CLI, started with `--import` of the instrumentation module like the image), a private Redis and
 * PostgreSQL database, and a real OTLP/HTTP receiver started here. The job fails its first attempt
 * and succeeds on the second, so the trace holds the submit and the publish (api, which publishes
 * its own submissions: EAGER_PUBLISH) and both
 * attempts (worker), with PostgreSQL and Redis spans, and the worker's log line carries the
 * trace id. Needs `npx tsc -b` first (the CLI runs from dist/).
 */
import { demoSleepFails } from '@jobplane/examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultCluster } from '../support/faults/cluster.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { pollUntil } from '../support/wait.js';

const PG_SCOPE = '@opentelemetry/instrumentation-pg';
const REDIS_SCOPE = '@opentelemetry/instrumentation-ioredis';
const FAILURE_RATE = 0.5;

/** The first seed whose attempt 1 fails and attempt 2 succeeds (deterministic: no randomness). */
function seedFailingOnce(): number {
  for (let seed = 1; ; seed++)
    if (demoSleepFails(seed, 1, FAILURE_RATE) && !demoSleepFails(seed, 2, FAILURE_RATE)) return seed;
}

describe('OpenTelemetry: one trace per job across the api and worker processes (e2e)', () => {
  let otlp: OtlpReceiver;
  let cluster: FaultCluster;

  beforeAll(async () => {
    otlp = await OtlpReceiver.start();
    cluster = await FaultCluster.start({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        RETRY_BASE_DELAY_MS: '100',
        RETRY_MAX_DELAY_MS: '200',
      },
    });
    // Four processes start together on a busy box (the cluster's STARTUP_MS budget per process).
  }, 200_000);

  afterAll(async () => {
    await cluster?.stop();
    await otlp?.stop();
  });

  it('submit → publish → attempts share one trace; pg and ioredis spans and the log line join it', async () => {
    const seed = seedFailingOnce();
    console.log(`demo.sleep seed ${seed} (attempt 1 fails, attempt 2 succeeds)`);
    const res = await cluster.request(
      'POST',
      '/v1/jobs',
      { type: 'demo.sleep', payload: { durationMs: 5, failureRate: FAILURE_RATE, seed }, maxAttempts: 3 },
      { 'idempotency-key': `trace-${seed}` },
    );
    expect(res.status, await res.clone().text()).toBe(202);
    const jobId = ((await res.json()) as { job: { id: string } }).job.id;

    const forJob = (s: ReceivedSpan) => s.attributes['job.id'] === jobId;
    let spans: ReceivedSpan[] = [];
    try {
      const submit = await pollUntil(
        async () => otlp.spans.find((s) => s.name === 'jobplane.submit' && forJob(s)),
        60_000,
      );
      // Wait until the second attempt's span (the one that succeeded) has been exported.
      await pollUntil(
        async () =>
          otlp
            .trace(submit.traceId)
            .some((s) => s.name === 'jobplane.attempt' && s.attributes['job.outcome_reason'] === 'succeeded'),
        60_000,
      );
      spans = otlp.trace(submit.traceId);

      expect(submit.service).toBe('jobplane-api');
      // The API publishes its own submission (EAGER_PUBLISH, the default); the relay's publish of
      // an outbox row starts the same span from the row's trace context (trace-context-store.test.ts).
      expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['jobplane-api', 'jobplane-worker']));

      // The HTTP request span (@fastify/otel) is the submit span's ancestor.
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const ancestors = (s: ReceivedSpan): ReceivedSpan[] => {
        const out: ReceivedSpan[] = [];
        for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) out.push(p);
        return out;
      };
      expect(ancestors(submit).some((s) => s.scope === '@fastify/otel' && s.service === 'jobplane-api')).toBe(
        true,
      );

      const publish = spans.filter((s) => s.name === 'jobplane.publish' && forJob(s));
      expect(publish).toHaveLength(1);
      expect(publish[0]!.service).toBe('jobplane-api');
      expect(publish[0]!.parentSpanId).toBe(submit.spanId);
      expect(publish[0]!.attributes['job.queue']).toBe('default');

      const attempts = spans
        .filter((s) => s.name === 'jobplane.attempt' && forJob(s))
        .sort((a, b) => Number(a.attributes['job.attempt']) - Number(b.attributes['job.attempt']));
      expect(attempts.map((a) => [a.service, a.parentSpanId, a.attributes['job.attempt']])).toEqual([
        ['jobplane-worker', publish[0]!.spanId, 1],
        ['jobplane-worker', publish[0]!.spanId, 2],
      ]);
      expect(attempts.map((a) => a.attributes['job.outcome'])).toEqual(['retry', 'ack']);
      for (const a of attempts) {
        expect(a.attributes['job.type']).toBe('demo.sleep');
        expect(a.attributes['job.queue']).toBe('default');
      }

      // Maintained instrumentations: PostgreSQL in api (the insert) and worker; Redis in the api (the publish).
      const pgServices = new Set(spans.filter((s) => s.scope === PG_SCOPE).map((s) => s.service));
      expect(pgServices.has('jobplane-api')).toBe(true);
      expect(pgServices.has('jobplane-worker')).toBe(true);
      const redisSpans = spans.filter((s) => s.scope === REDIS_SCOPE);
      expect(redisSpans.some((s) => s.service === 'jobplane-api')).toBe(true);
      expect(otlp.refused).toBe(0);

      // The worker's log line for this job carries the trace id (and its attempt span's id).
      const worker = cluster.workers[0]!;
      const line = await pollUntil(
        async () => worker.records().find((r) => r.jobId === jobId && r.msg === 'job succeeded'),
        30_000,
      );
      expect(line.trace_id).toBe(submit.traceId);
      expect(line.span_id).toBe(attempts[1]!.spanId);
    } catch (err) {
      cluster.keepLogs = true;
      console.error(
        `spans of the trace:\n${spans.map((s) => `${s.service} ${s.scope} ${s.name} ${s.spanId}<-${s.parentSpanId}`).join('\n')}\n${cluster.sup.dump(30)}`,
      );
      throw err;
    }
  });
});
