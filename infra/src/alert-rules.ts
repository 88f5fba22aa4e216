/**
 * Jobplane's Prometheus alert rules as a rule-file object (`{ groups: [...] }`), built from the
 * runtime's metric names. Used by the Prometheus construct (ConfigMap or PrometheusRule) and by
 * the docker-compose Prometheus. Checked and unit-tested with `promtool` in infra/test.
 * @see https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/
 */
import { BACKLOG_STATES, METRIC_NAMES } from '@jobplane/sdk/contract';
import { checkInt, PropValidationError } from './lib/errors.js';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export interface AlertRuleFile {
  readonly groups: { readonly name: string; readonly rules: AlertRule[] }[];
}

export interface AlertRuleOptions {
  /** Failed (+ dead-lettered) share of completed jobs over 10 minutes. @default 0.05 */
  readonly failureRateThreshold?: number;
  /** Age of the oldest waiting job, per queue. @default 600 */
  readonly oldestWaitingSeconds?: number;
  /** Minutes the waiting backlog must grow before alerting. @default 15 */
  readonly backlogGrowingMinutes?: number;
  /** Regex of the scrape `job` labels of Jobplane services. @default 'jobplane.*' */
  readonly jobRegex?: string;
  /** p99 schedule lag (fire time → job created) over 10 minutes. @default 30 */
  readonly scheduleLagSeconds?: number;
  /** Seconds without a finished scheduler pass before the scheduler counts as stalled. @default 300 */
  readonly schedulerStalledSeconds?: number;
  /**
   * Static labels added to every alert, e.g. `{ namespace: 'jobplane' }` for prometheus-operator's
   * AlertmanagerConfig, which only routes alerts labelled with its own namespace. @default none
   */
  readonly extraLabels?: Readonly<Record<string, string>>;
}

/** Label naming the Jobplane service an alert is about (`api`, `relay`, `worker`): inhibition keys on it. */
export const ALERT_SERVICE_LABEL = 'service';
/** The alert that inhibits the others of its service (Alertmanager `inhibit_rules`). */
export const SERVICE_DOWN_ALERT = 'JobplaneServiceDown';
/** Alerts a down service explains: its backlog, wait and schedule lag (muted while it is down). */
export const SERVICE_ALERTS = [
  'JobplaneBacklogGrowing',
  'JobplaneOldestWaitingJobTooOld',
  'JobplaneScheduleLagHigh',
  'JobplaneSchedulesOverdue',
  'JobplaneSchedulerStalled',
] as const;

/**
 * The rule file: job failure rate > 5 %, backlog growing, oldest waiting job too old, service down,
 * schedule lag high, schedules that stopped firing (overdue), scheduler stalled.
 */
export function jobplaneAlertRules(options: AlertRuleOptions = {}): AlertRuleFile {
  const rate = options.failureRateThreshold ?? 0.05;
  if (!(rate > 0 && rate < 1))
    throw new PropValidationError(`'failureRateThreshold' (${rate}) must be in (0, 1)`);
  const oldest = checkInt('oldestWaitingSeconds', options.oldestWaitingSeconds ?? 600, 1);
  const growing = checkInt('backlogGrowingMinutes', options.backlogGrowingMinutes ?? 15, 1);
  const jobRegex = options.jobRegex ?? 'jobplane.*';
  const lag = checkInt('scheduleLagSeconds', options.scheduleLagSeconds ?? 30, 1);
  const stalled = checkInt('schedulerStalledSeconds', options.schedulerStalledSeconds ?? 300, 1);
  const completed = METRIC_NAMES.jobsCompleted;
  const waitingStates = BACKLOG_STATES.filter((s) => s !== 'active').join('|');
  // De-duplicate first: every replica exports the same queue gauges (see backlogQuery).
  const waiting = `sum by (queue) (max by (queue, state) (${METRIC_NAMES.queueJobs}{state=~"${waitingStates}"}))`;
  const pct = `${Math.round(rate * 1000) / 10} %`;
  const extra = { ...(options.extraLabels ?? {}) };
  for (const key of Object.keys(extra)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key) || ['severity', ALERT_SERVICE_LABEL, 'alertname'].includes(key))
      throw new PropValidationError(
        `'extraLabels.${key}' must be a Prometheus label name other than severity, ${ALERT_SERVICE_LABEL} and alertname`,
      );
  }
  // Queue alerts belong to the workers, schedule alerts to the relay (it runs the scheduler).
  const service = (name: 'worker' | 'relay') => ({ [ALERT_SERVICE_LABEL]: name });
  const file: AlertRuleFile = {
    groups: [
      {
        name: 'jobplane',
        rules: [
          {
            alert: 'JobplaneJobFailureRateHigh',
            expr:
              `sum by (type) (rate(${completed}{outcome=~"failed|dead_lettered"}[10m]))` +
              ` / sum by (type) (rate(${completed}[10m])) > ${rate}`,
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: `More than ${pct} of {{ $labels.type }} jobs fail`,
              description: `{{ $value | humanizePercentage }} of {{ $labels.type }} jobs failed over the last 10 minutes.`,
            },
          },
          {
            alert: 'JobplaneBacklogGrowing',
            expr: `${waiting} > 0 and deriv(${waiting}[${growing}m:1m]) > 0`,
            for: `${growing}m`,
            labels: { severity: 'warning', ...service('worker') },
            annotations: {
              summary: 'Queue {{ $labels.queue }} backlog keeps growing',
              description: `The waiting backlog of {{ $labels.queue }} has grown for ${growing} minutes (now {{ $value }}); workers are not keeping up.`,
            },
          },
          {
            alert: 'JobplaneOldestWaitingJobTooOld',
            expr: `max by (queue) (${METRIC_NAMES.queueOldestWaiting}) > ${oldest}`,
            for: '5m',
            labels: { severity: 'critical', ...service('worker') },
            annotations: {
              summary: 'Jobs on {{ $labels.queue }} wait too long',
              description: `The oldest waiting job on {{ $labels.queue }} has waited {{ $value | humanizeDuration }} (limit ${oldest} s).`,
            },
          },
          {
            alert: SERVICE_DOWN_ALERT,
            // The scrape job is the Service name (jobplane-api, jobplane-worker-<queue>-metrics, …).
            expr: `label_replace(up{job=~"${jobRegex}"} == 0, "${ALERT_SERVICE_LABEL}", "$1", "job", "jobplane-(api|relay|worker).*")`,
            for: '2m',
            labels: { severity: 'critical' },
            annotations: {
              summary: '{{ $labels.job }} is down',
              description:
                '{{ $labels.job }} target {{ $labels.instance }} has not answered scrapes for 2 minutes.',
            },
          },
          {
            alert: 'JobplaneScheduleLagHigh',
            expr:
              `histogram_quantile(0.99, sum by (le) (rate(${METRIC_NAMES.scheduleFireLag}_bucket[10m])))` +
              ` > ${lag}`,
            for: '10m',
            labels: { severity: 'warning', ...service('relay') },
            annotations: {
              summary: 'Schedules fire late',
              description: `99 % of schedule fires created their job within {{ $value | humanizeDuration }} of their fire time over 10 minutes (limit ${lag} s).`,
            },
          },
          {
            alert: 'JobplaneSchedulesOverdue',
            // Replicas agree on the count (one database): max, not sum.
            expr: `max(${METRIC_NAMES.schedulesOverdue}) > 0`,
            for: '5m',
            labels: { severity: 'critical', ...service('relay') },
            annotations: {
              summary: 'Schedules stopped firing',
              description:
                '{{ $value }} unpaused schedules are past their fire time by more than SCHEDULER_GRACE_SECONDS after a scheduler pass.',
            },
          },
          {
            alert: 'JobplaneSchedulerStalled',
            expr: `time() - max(${METRIC_NAMES.schedulerLastPass}) > ${stalled}`,
            for: '2m',
            labels: { severity: 'critical', ...service('relay') },
            annotations: {
              summary: 'The scheduler stopped running passes',
              description: `No scheduler finished a pass for {{ $value | humanizeDuration }} (limit ${stalled} s): no schedule fires.`,
            },
          },
        ],
      },
    ],
  };
  if (Object.keys(extra).length === 0) return file;
  return {
    groups: file.groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) => ({ ...r, labels: { ...r.labels, ...extra } })),
    })),
  };
}
