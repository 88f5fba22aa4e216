import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SERVICE_ALERTS, jobplaneAlertRules } from '../src/alert-rules.js';

/** promtool ships with the Debian `prometheus` package (.ci/run installs it). */
const dir = mkdtempSync(join(tmpdir(), 'jobplane-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function promtool(args: string[]): string {
  return execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('jobplaneAlertRules', () => {
  const rules = jobplaneAlertRules();
  writeFileSync(join(dir, 'rules.yaml'), stringify(rules));

  it('has the seven alerts, built from the runtime metric names', () => {
    const names = rules.groups[0]!.rules.map((r) => r.alert);
    expect(names).toEqual([
      'JobplaneJobFailureRateHigh',
      'JobplaneBacklogGrowing',
      'JobplaneOldestWaitingJobTooOld',
      'JobplaneServiceDown',
      'JobplaneScheduleLagHigh',
      'JobplaneSchedulesOverdue',
      'JobplaneSchedulerStalled',
    ]);
    expect(rules.groups[0]!.rules[0]!.expr).toContain('jobplane_jobs_completed_total');
    expect(rules.groups[0]!.rules[0]!.expr).toContain('> 0.05');
  });

  it('passes promtool check rules', () => {
    expect(promtool(['check', 'rules', 'rules.yaml'])).toMatch(/SUCCESS: 7 rules found/);
  });

  it('passes promtool unit tests: each alert fires when it should and stays quiet otherwise', () => {
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          // 10 % of demo.sleep jobs fail → fires after 10m; backtest.sweep at 2 % stays quiet.
          interval: '1m',
          input_series: [
            {
              series: 'jobplane_jobs_completed_total{type="demo.sleep",outcome="succeeded"}',
              values: '0+90x30',
            },
            {
              series: 'jobplane_jobs_completed_total{type="demo.sleep",outcome="failed"}',
              values: '0+10x30',
            },
            {
              series: 'jobplane_jobs_completed_total{type="backtest.sweep",outcome="succeeded"}',
              values: '0+98x30',
            },
            {
              series: 'jobplane_jobs_completed_total{type="backtest.sweep",outcome="failed"}',
              values: '0+2x30',
            },
          ],
          alert_rule_test: [
            { eval_time: '5m', alertname: 'JobplaneJobFailureRateHigh', exp_alerts: [] },
            {
              eval_time: '25m',
              alertname: 'JobplaneJobFailureRateHigh',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', type: 'demo.sleep' },
                  exp_annotations: {
                    summary: 'More than 5 % of demo.sleep jobs fail',
                    description: '10% of demo.sleep jobs failed over the last 10 minutes.',
                  },
                },
              ],
            },
          ],
        },
        {
          // default grows steadily; backtest is flat. Two replicas export the same queue gauge:
          // the backlog must be counted once (235), not once per replica (470).
          interval: '1m',
          input_series: [
            { series: 'jobplane_queue_jobs{queue="default",state="waiting",pod="api"}', values: '10+5x60' },
            {
              series: 'jobplane_queue_jobs{queue="default",state="waiting",pod="worker"}',
              values: '10+5x60',
            },
            { series: 'jobplane_queue_jobs{queue="default",state="prioritized"}', values: '0x60' },
            { series: 'jobplane_queue_jobs{queue="backtest",state="waiting"}', values: '50x60' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'JobplaneBacklogGrowing', exp_alerts: [] },
            {
              eval_time: '45m',
              alertname: 'JobplaneBacklogGrowing',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', queue: 'default', service: 'worker' },
                  exp_annotations: {
                    summary: 'Queue default backlog keeps growing',
                    description:
                      'The waiting backlog of default has grown for 15 minutes (now 235); workers are not keeping up.',
                  },
                },
              ],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [
            { series: 'jobplane_queue_oldest_waiting_seconds{queue="default",pod="a"}', values: '0+60x30' },
            { series: 'jobplane_queue_oldest_waiting_seconds{queue="backtest",pod="a"}', values: '30x30' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'JobplaneOldestWaitingJobTooOld', exp_alerts: [] },
            {
              eval_time: '20m',
              alertname: 'JobplaneOldestWaitingJobTooOld',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', queue: 'default', service: 'worker' },
                  exp_annotations: {
                    summary: 'Jobs on default wait too long',
                    description: 'The oldest waiting job on default has waited 20m 0s (limit 600 s).',
                  },
                },
              ],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [
            { series: 'up{job="jobplane-api",instance="10.0.0.1:8080"}', values: '1 1 1 0 0 0 0 0' },
            { series: 'up{job="jobplane-worker-default-metrics",instance="10.0.0.2:9464"}', values: '1x8' },
            { series: 'up{job="kube-state-metrics",instance="10.0.0.3:8080"}', values: '0x8' },
          ],
          alert_rule_test: [
            { eval_time: '4m', alertname: 'JobplaneServiceDown', exp_alerts: [] },
            {
              eval_time: '6m',
              alertname: 'JobplaneServiceDown',
              exp_alerts: [
                {
                  exp_labels: {
                    severity: 'critical',
                    job: 'jobplane-api',
                    instance: '10.0.0.1:8080',
                    service: 'api',
                  },
                  exp_annotations: {
                    summary: 'jobplane-api is down',
                    description: 'jobplane-api target 10.0.0.1:8080 has not answered scrapes for 2 minutes.',
                  },
                },
              ],
            },
          ],
        },
        {
          // Lag: fires take 0.5 s until minute 10, then 60 s (the scheduler cannot keep up).
          interval: '1m',
          input_series: [
            { series: 'jobplane_schedule_fire_lag_seconds_bucket{le="1"}', values: '0+10x10 100x30' },
            { series: 'jobplane_schedule_fire_lag_seconds_bucket{le="60"}', values: '0+10x10 100+10x30' },
            { series: 'jobplane_schedule_fire_lag_seconds_bucket{le="+Inf"}', values: '0+10x10 100+10x30' },
          ],
          alert_rule_test: [
            { eval_time: '9m', alertname: 'JobplaneScheduleLagHigh', exp_alerts: [] },
            {
              eval_time: '30m',
              alertname: 'JobplaneScheduleLagHigh',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', service: 'relay' },
                  exp_annotations: {
                    summary: 'Schedules fire late',
                    description:
                      '99 % of schedule fires created their job within 59.41s of their fire time over 10 minutes (limit 30 s).',
                  },
                },
              ],
            },
          ],
        },
        {
          // Two relays report the same overdue count; it becomes 2 at minute 3. The scheduler's
          // last pass stops advancing at minute 5 (the pass hangs).
          interval: '1m',
          input_series: [
            { series: 'jobplane_schedules_overdue{pod="relay-a"}', values: '0 0 0 2 2 2 2 2 2 2 2 2 2 2 2' },
            { series: 'jobplane_schedules_overdue{pod="relay-b"}', values: '0 0 0 2 2 2 2 2 2 2 2 2 2 2 2' },
            {
              series: 'jobplane_scheduler_last_pass_timestamp_seconds{pod="relay-a"}',
              values: '0+60x5 300x15',
            },
          ],
          alert_rule_test: [
            { eval_time: '5m', alertname: 'JobplaneSchedulesOverdue', exp_alerts: [] },
            {
              eval_time: '9m',
              alertname: 'JobplaneSchedulesOverdue',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', service: 'relay' },
                  exp_annotations: {
                    summary: 'Schedules stopped firing',
                    description:
                      '2 unpaused schedules are past their fire time by more than SCHEDULER_GRACE_SECONDS after a scheduler pass.',
                  },
                },
              ],
            },
            { eval_time: '9m', alertname: 'JobplaneSchedulerStalled', exp_alerts: [] },
            {
              eval_time: '13m',
              alertname: 'JobplaneSchedulerStalled',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', service: 'relay' },
                  exp_annotations: {
                    summary: 'The scheduler stopped running passes',
                    description: 'No scheduler finished a pass for 8m 0s (limit 300 s): no schedule fires.',
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
    expect(promtool(['test', 'rules', 'tests.yaml'])).toMatch(/SUCCESS/);
  });

  it('honours thresholds', () => {
    const custom = jobplaneAlertRules({
      failureRateThreshold: 0.1,
      oldestWaitingSeconds: 60,
      backlogGrowingMinutes: 5,
      jobRegex: 'jp.*',
    });
    const byName = Object.fromEntries(custom.groups[0]!.rules.map((r) => [r.alert, r]));
    expect(byName['JobplaneJobFailureRateHigh']!.expr).toContain('> 0.1');
    expect(byName['JobplaneOldestWaitingJobTooOld']!.expr).toContain('> 60');
    expect(byName['JobplaneBacklogGrowing']!.for).toBe('5m');
    expect(byName['JobplaneServiceDown']!.expr).toBe(
      'label_replace(up{job=~"jp.*"} == 0, "service", "$1", "job", "jobplane-(api|relay|worker).*")',
    );
  });

  it('labels every alert a down service explains with that service (the inhibition key)', () => {
    for (const r of rules.groups[0]!.rules.filter((x) =>
      (SERVICE_ALERTS as readonly string[]).includes(x.alert),
    ))
      expect(['worker', 'relay'], r.alert).toContain(r.labels['service']);
  });

  it('adds extraLabels to every alert and refuses reserved or malformed names', () => {
    const labelled = jobplaneAlertRules({ extraLabels: { namespace: 'jobplane' } });
    for (const r of labelled.groups[0]!.rules) expect(r.labels['namespace'], r.alert).toBe('jobplane');
    expect(() => jobplaneAlertRules({ extraLabels: { severity: 'x' } })).toThrow(
      "'extraLabels.severity' must be a Prometheus label name other than severity, service and alertname",
    );
    expect(() => jobplaneAlertRules({ extraLabels: { 'a-b': 'x' } })).toThrow("'extraLabels.a-b'");
  });

  it.each([
    [{ failureRateThreshold: 1.5 }, `'failureRateThreshold' (1.5) must be in (0, 1)`],
    [{ oldestWaitingSeconds: 0 }, `'oldestWaitingSeconds' (0) must be an integer ≥ 1`],
    [{ scheduleLagSeconds: 0 }, `'scheduleLagSeconds' (0) must be an integer ≥ 1`],
    [{ schedulerStalledSeconds: -1 }, `'schedulerStalledSeconds' (-1) must be an integer ≥ 1`],
  ])('rejects %j', (opts, message) => {
    expect(() => jobplaneAlertRules(opts)).toThrow(message);
  });
});
