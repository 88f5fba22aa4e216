/**
 * What the runtime measures. Use cases and workers call these; the prom-client adapter
 * (adapters/metrics) turns them into `METRIC_NAMES`. `NOOP_METRICS` is for tests and for
 * processes that do not export metrics.
 */
export type JobOutcomeLabel = 'succeeded' | 'failed' | 'dead_lettered' | 'cancelled';

export interface Metrics {
  /** A new job was accepted (not counted again on an idempotent replay). */
  jobSubmitted(type: string): void;
  /** An attempt ended: `failed` means it will be retried. `seconds` is the attempt's duration. */
  jobCompleted(type: string, outcome: JobOutcomeLabel, seconds: number): void;
  /** Rows waiting in the outbox after a relay pass. */
  outboxPending(count: number): void;
  /** One HTTP request finished. `route` is the route pattern, never the raw URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Flow control refused a start (the job was put back delayed, no attempt used). Optional for older adapters. */
  flowRefused?(queue: string, type: string, reason: 'key' | 'queue' | 'rate'): void;
  /**
   * Exposition for `/metrics` in the format the scraper's `Accept` header prefers (Prometheus
   * text, or OpenMetrics with exemplars); null when this process exports none.
   */
  exposition(accept?: string): Promise<{ contentType: string; body: string } | null>;
}

export const NOOP_METRICS: Metrics = {
  jobSubmitted: () => undefined,
  jobCompleted: () => undefined,
  outboxPending: () => undefined,
  httpRequest: () => undefined,
  flowRefused: () => undefined,
  exposition: async () => null,
};
