/**
 * Prometheus metric names exported by the runtime. `@jobplane/constructs` builds its alert rules,
 * scalers and dashboards from these, so a rename breaks the build, not production.
 */
export const METRIC_NAMES = {
  jobsSubmitted: 'jobplane_jobs_submitted_total',
  jobsCompleted: 'jobplane_jobs_completed_total',
  jobDuration: 'jobplane_job_duration_seconds',
  queueJobs: 'jobplane_queue_jobs',
  queueOldestWaiting: 'jobplane_queue_oldest_waiting_seconds',
  outboxPending: 'jobplane_outbox_pending',
  httpRequestDuration: 'jobplane_http_request_duration_seconds',
} as const;
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** `state` label values of `jobplane_queue_jobs`; the scalable backlog is waiting + prioritized + active. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
export const BACKLOG_STATES: readonly QueueState[] = ['waiting', 'prioritized', 'active'];

/** `outcome` label values of `jobplane_jobs_completed_total`. */
export const JOB_OUTCOMES = ['succeeded', 'failed', 'dead_lettered', 'cancelled'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];
