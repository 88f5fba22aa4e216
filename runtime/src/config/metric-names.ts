/** Metric names live in `@jobplane/sdk/contract` (shared with the constructs and dashboards). */
export {
  METRIC_NAMES,
  QUEUE_STATES,
  BACKLOG_STATES,
  JOB_OUTCOMES,
  SCHEDULE_FIRE_OUTCOMES,
  FLOW_REFUSAL_REASONS,
  type FlowRefusalReason,
  type MetricName,
  type QueueState,
  type JobOutcome,
} from '@jobplane/sdk/contract';
