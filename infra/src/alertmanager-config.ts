/**
 * Jobplane's Alertmanager configuration as an object (`alertmanager.yml`): routes by severity
 * (critical and warning to their own webhook receivers), inhibition (a service that is down mutes
 * the backlog, wait and schedule alerts of that same service) and the grouping timers. The
 * in-cluster Alertmanager (construct `Alertmanager`), the operator's `AlertmanagerConfig` and the
 * docker compose Alertmanager are built from it; `amtool check-config` and
 * `amtool config routes test` run over it in infra/test/alertmanager.test.ts.
 * @see https://prometheus.io/docs/alerting/latest/configuration/
 */
import { ALERT_SERVICE_LABEL, SERVICE_ALERTS, SERVICE_DOWN_ALERT } from './alert-rules.js';
import { PropValidationError } from './lib/errors.js';

/** Where the alerts of one severity are posted (Alertmanager's webhook JSON, version 4). */
export interface WebhookReceiver {
  /** http(s) URL; a documented placeholder is fine for a cluster without a receiver yet. */
  readonly url: string;
  /** Also post when the alert resolves. @default true */
  readonly sendResolved?: boolean;
}

export interface AlertmanagerConfigOptions {
  /** Receiver of `severity="critical"` alerts. */
  readonly critical: WebhookReceiver;
  /** Receiver of `severity="warning"` alerts (and of anything without a severity). @default critical */
  readonly warning?: WebhookReceiver;
  /** Wait before the first notification of a group. @default '30s' */
  readonly groupWait?: string;
  /** Wait before notifying about new alerts of a notified group. @default '5m' */
  readonly groupInterval?: string;
  /** Re-notify a still-firing critical group. @default '1h' */
  readonly criticalRepeatInterval?: string;
  /** Re-notify a still-firing warning group. @default '12h' */
  readonly warningRepeatInterval?: string;
}

/** Receiver names (stable: routes, tests and docs refer to them). */
export const ALERT_RECEIVERS = { critical: 'jobplane-critical', warning: 'jobplane-warning' } as const;

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

function checkDuration(prop: string, value: string): string {
  if (typeof value !== 'string' || !DURATION.test(value) || /^0+[a-z]+$/.test(value))
    throw new PropValidationError(
      `'${prop}' (${JSON.stringify(value)}) must be a positive Prometheus duration such as '30s' or '5m'`,
    );
  return value;
}

/** An absolute http(s) URL with a host (Alertmanager refuses anything else at load time). */
export function checkWebhookUrl(prop: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.hostname === '')
    throw new PropValidationError(
      `'${prop}' (${JSON.stringify(value)}) must be an absolute http(s) URL such as 'https://hooks.example.com/alerts'`,
    );
  return value;
}

export interface AlertmanagerConfigFile {
  readonly route: Record<string, unknown>;
  readonly receivers: readonly Record<string, unknown>[];
  readonly inhibit_rules: readonly Record<string, unknown>[];
}

export function jobplaneAlertmanagerConfig(options: AlertmanagerConfigOptions): AlertmanagerConfigFile {
  if (!options || !options.critical)
    throw new PropValidationError(`'critical' (undefined) must be a webhook receiver { url }`);
  const critical = { ...options.critical, url: checkWebhookUrl('critical.url', options.critical.url) };
  const warning = options.warning
    ? { ...options.warning, url: checkWebhookUrl('warning.url', options.warning.url) }
    : critical;
  const groupWait = checkDuration('groupWait', options.groupWait ?? '30s');
  const groupInterval = checkDuration('groupInterval', options.groupInterval ?? '5m');
  const criticalRepeat = checkDuration('criticalRepeatInterval', options.criticalRepeatInterval ?? '1h');
  const warningRepeat = checkDuration('warningRepeatInterval', options.warningRepeatInterval ?? '12h');
  const webhook = (r: WebhookReceiver) => ({
    webhook_configs: [{ url: r.url, send_resolved: r.sendResolved ?? true }],
  });
  return {
    route: {
      receiver: ALERT_RECEIVERS.warning,
      group_by: ['alertname', ALERT_SERVICE_LABEL, 'queue'],
      group_wait: groupWait,
      group_interval: groupInterval,
      repeat_interval: warningRepeat,
      routes: [
        {
          receiver: ALERT_RECEIVERS.critical,
          matchers: ['severity="critical"'],
          repeat_interval: criticalRepeat,
        },
        {
          receiver: ALERT_RECEIVERS.warning,
          matchers: ['severity="warning"'],
          repeat_interval: warningRepeat,
        },
      ],
    },
    receivers: [
      { name: ALERT_RECEIVERS.critical, ...webhook(critical) },
      { name: ALERT_RECEIVERS.warning, ...webhook(warning) },
    ],
    inhibit_rules: [
      {
        // A service that does not answer scrapes explains its backlog and lag: page once, for the outage.
        source_matchers: [`alertname="${SERVICE_DOWN_ALERT}"`],
        target_matchers: [`alertname=~"${SERVICE_ALERTS.join('|')}"`],
        equal: [ALERT_SERVICE_LABEL],
      },
    ],
  };
}
