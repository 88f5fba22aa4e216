import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
  type Metric,
  type OpenMetricsContentType,
} from 'prom-client';
import { activeSpanIds } from '../tracing/tracing.js';
import { METRIC_NAMES, QUEUE_STATES } from '../../config/metric-names.js';
import type { Logger } from '../../ports/logger.port.js';
import type { JobOutcomeLabel, Metrics } from '../../ports/metrics.port.js';
import type { QueueStats } from '../../ports/queue-stats.port.js';

/** Job durations: 50 ms … 30 min, wide enough for short pooled jobs and long isolated ones alike. */
export const JOB_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** HTTP latency: 5 ms … 10 s. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface PromMetricsOptions {
  /** Read at scrape time; omit in processes that do not know the queues. */
  readonly queueStats?: QueueStats;
  /** Outbox rows waiting, read at scrape time (a count query). Without it the relay's last `outboxPending()` is reported. */
  readonly outboxCount?: () => Promise<number>;
  /** Labels on every series (e.g. `{ process: 'api' }`). */
  readonly defaultLabels?: Record<string, string>;
  /** Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly processDefaults?: boolean;
  readonly logger?: Logger;
  /** A queue snapshot slower than this counts as failed (Redis unreachable must not hang scrapes). Default 5000. */
  readonly snapshotTimeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue snapshot took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether an `Accept` header prefers OpenMetrics over the Prometheus text format (by q-value;
 * absent or equal means text, which every scraper reads).
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q);
  }
  return om > 0 && om > text;
}

/**
 * The `Metrics` port over prom-client. One registry per instance (never the global one), so tests
 * and several apps in one process do not collide. Queue depth and the outbox are gauges whose
 * `collect` runs at scrape time; a failed read drops those series for that scrape (an absent series
 * means "unknown", a stale number would lie) and is logged (the label-less outbox gauge reports NaN instead).
 */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly submitted: Counter<'type'>;
  private readonly completed: Counter<'type' | 'outcome'>;
  private readonly duration: Histogram<'type'>;
  private readonly http: Histogram<'method' | 'route' | 'status'>;
  private readonly outbox: Gauge;
  private readonly refused: Counter<'queue' | 'type' | 'reason'>;
  private readonly defaultLabels: Record<string, string> | undefined;

  constructor(opts: PromMetricsOptions = {}) {
    const registers = [this.registry];
    this.defaultLabels = opts.defaultLabels;
    if (opts.defaultLabels) this.registry.setDefaultLabels(opts.defaultLabels);
    if (opts.processDefaults ?? true) collectDefaultMetrics({ register: this.registry });
    this.submitted = new Counter({
      name: METRIC_NAMES.jobsSubmitted,
      help: 'Jobs accepted (idempotent replays are not counted).',
      labelNames: ['type'],
      registers,
    });
    this.completed = new Counter({
      name: METRIC_NAMES.jobsCompleted,
      help: 'Job attempts that ended, by outcome (failed = will be retried).',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: METRIC_NAMES.jobDuration,
      help: 'Duration of one job attempt in seconds.',
      labelNames: ['type'],
      buckets: JOB_DURATION_BUCKETS,
      // The trace of the attempt, shown by OpenMetrics scrapes (docs/observability.md). prom-client
      // refuses exemplars on a metric constructed into a text-format registry, so it joins the
      // registry after construction; the text rendering leaves exemplars out.
      enableExemplars: true,
      registers: [],
    });
    this.registry.registerMetric(this.duration);
    this.http = new Histogram({
      name: METRIC_NAMES.httpRequestDuration,
      help: 'HTTP request duration in seconds, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    this.refused = new Counter({
      name: METRIC_NAMES.flowRefused,
      help: 'Starts refused by flow control (concurrency key, queue cap or rate limit); the job waits, no attempt is used.',
      labelNames: ['queue', 'type', 'reason'],
      registers,
    });
    const logger = opts.logger;
    const outboxCount = opts.outboxCount;
    this.outbox = new Gauge({
      name: METRIC_NAMES.outboxPending,
      help: 'Outbox rows not yet published to the queue.',
      registers,
      collect: outboxCount
        ? async function (this: Gauge) {
            try {
              this.set(await outboxCount());
            } catch (err) {
              this.set(Number.NaN); // a label-less gauge cannot be dropped; NaN reads as "unknown"
              logger?.warn({ err }, 'metrics: outbox count failed');
            }
          }
        : undefined,
    });
    const queueStats = opts.queueStats;
    const snapshotTimeoutMs = opts.snapshotTimeoutMs ?? 5000;
    if (queueStats) {
      // Both gauges are filled by one snapshot per scrape.
      let pending: Promise<Awaited<ReturnType<QueueStats['snapshot']>> | null> | null = null;
      const snapshot = () => {
        pending ??= withTimeout(queueStats.snapshot(), snapshotTimeoutMs)
          .catch((err: unknown) => {
            logger?.warn({ err }, 'metrics: queue snapshot failed');
            return null;
          })
          .finally(() => setImmediate(() => (pending = null)));
        return pending;
      };
      new Gauge({
        name: METRIC_NAMES.queueJobs,
        help: 'Jobs in each BullMQ queue by state; the scalable backlog is waiting + prioritized + active.',
        labelNames: ['queue', 'state'],
        registers,
        async collect() {
          const snap = await snapshot();
          this.reset();
          for (const q of snap ?? [])
            for (const state of QUEUE_STATES) this.set({ queue: q.queue, state }, q[state]);
        },
      });
      new Gauge({
        name: METRIC_NAMES.queueOldestWaiting,
        help: 'Age in seconds of the oldest job waiting in each queue (0 when none waits).',
        labelNames: ['queue'],
        registers,
        async collect() {
          const snap = await snapshot();
          this.reset();
          for (const q of snap ?? []) this.set({ queue: q.queue }, q.oldestWaitingSeconds);
        },
      });
    }
  }

  jobSubmitted(type: string): void {
    this.submitted.inc({ type });
  }

  jobCompleted(type: string, outcome: JobOutcomeLabel, seconds: number): void {
    this.completed.inc({ type, outcome });
    const ids = activeSpanIds();
    this.duration.observe({
      labels: { type },
      value: seconds,
      // prom-client types exemplar labels as the metric's own label names; any name is valid.
      exemplarLabels: (ids ? { trace_id: ids.trace_id } : {}) as LabelValues<'type'>,
    });
  }

  outboxPending(count: number): void {
    this.outbox.set(count);
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  flowRefused(queue: string, type: string, reason: 'key' | 'queue' | 'rate'): void {
    this.refused.inc({ queue, type, reason });
  }

  /**
   * The exposition a scraper asked for: OpenMetrics (with the duration histogram's trace_id
   * exemplars) when its `Accept` prefers `application/openmetrics-text`, as Prometheus does;
   * otherwise the Prometheus text format (no exemplars).
   */
  exposition(accept?: string): Promise<{ contentType: string; body: string }> {
    // One at a time: an OpenMetrics rendering renames counters while it runs (see below).
    const run = this.exposing.then(() =>
      prefersOpenMetrics(accept) ? this.openMetrics() : this.prometheusText(),
    );
    this.exposing = run.catch(() => undefined);
    return run;
  }

  private exposing: Promise<unknown> = Promise.resolve();

  private async prometheusText(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * prom-client fixes a registry's format when it is made, so the same metrics are rendered
   * through a second, OpenMetrics registry. Its rendering strips `_total` from counter names in
   * place (OpenMetrics names the family without it); the names are put back afterwards.
   */
  private async openMetrics(): Promise<{ contentType: string; body: string }> {
    const om = new Registry<OpenMetricsContentType>();
    om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const metrics = this.registry.getMetricsAsArray() as unknown as Array<Metric & { name: string }>;
    const names = metrics.map((m) => m.name);
    for (const m of metrics) om.registerMetric(m);
    if (this.defaultLabels) om.setDefaultLabels(this.defaultLabels);
    try {
      return { contentType: om.contentType, body: await om.metrics() };
    } finally {
      metrics.forEach((m, i) => (m.name = names[i]!));
    }
  }
}
