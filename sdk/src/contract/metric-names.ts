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
  /** Schedule lag: nominal fire time → job created (histogram, seconds). */
  scheduleFireLag: 'jobplane_schedule_fire_lag_seconds',
  /** Schedule fires by `outcome` (created, skipped, missed, failed, buffered). */
  scheduleFires: 'jobplane_schedule_fires_total',
  /** Unpaused schedules more than SCHEDULER_GRACE_SECONDS past their fire time after a pass. */
  schedulesOverdue: 'jobplane_schedules_overdue',
  /** Unix time of the scheduler's last finished pass. */
  schedulerLastPass: 'jobplane_scheduler_last_pass_timestamp_seconds',
  /** Starts refused by flow control, by `queue`, `type` and `reason` (key, queue, rate); the job waits. */
  flowRefused: 'jobplane_flow_refused_total',
} as const;
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** `state` label values of `jobplane_queue_jobs`; the scalable backlog is waiting + prioritized + active. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
export const BACKLOG_STATES: readonly QueueState[] = ['waiting', 'prioritized', 'active'];

/** `outcome` label values of `jobplane_jobs_completed_total`. */
export const JOB_OUTCOMES = ['succeeded', 'failed', 'dead_lettered', 'cancelled'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

/** `outcome` label values of `jobplane_schedule_fires_total`. */
export const SCHEDULE_FIRE_OUTCOMES = ['created', 'skipped', 'missed', 'failed', 'buffered'] as const;

/** `reason` label values of `jobplane_flow_refused_total`: the key's slots, the queue cap, the rate limit. */
export const FLOW_REFUSAL_REASONS = ['key', 'queue', 'rate'] as const;
export type FlowRefusalReason = (typeof FLOW_REFUSAL_REASONS)[number];
