/**
 * Grafana dashboards as code: writes deploy/grafana/dashboards/*.json (provisioned by the
 * docker compose Grafana), built with Grafana's maintained builders
 * (`@grafana/grafana-foundation-sdk`: dashboard, timeseries, stat, table, prometheus). Every query is
 * built from `METRIC_NAMES` of `@jobplane/sdk/contract`, so a renamed metric breaks the build here,
 * not a dashboard at 3 a.m.; test/delivery checks the written files against this generator and
 * every PromQL metric name against the runtime's list. Besides the metric panels: a traces panel
 * (Jaeger search for the api and worker services), an alert list panel, and an annotation of
 * firing alerts (`ALERTS{alertstate="firing"}`) on every dashboard.
 *
 * Usage: npx tsx scripts/generate-dashboards.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { BACKLOG_STATES, METRIC_NAMES, QUEUE_STATES } from '@jobplane/sdk/contract';
import * as prettier from 'prettier';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DASHBOARD_DIR = join(ROOT, 'deploy', 'grafana', 'dashboards');
/** Must equal the uid in deploy/grafana/provisioning/datasources/prometheus.yml. */
export const DATASOURCE_UID = 'jobplane-prometheus';
/** Must equal the uid in deploy/grafana/provisioning/datasources/jaeger.yml. */
export const JAEGER_DATASOURCE_UID = 'jobplane-jaeger';
/** Services whose traces the overview lists (OTEL_SERVICE_NAME of the compose api and worker). */
export const TRACED_SERVICES = ['jobplane-api', 'jobplane-worker'] as const;
/** The annotation query of firing alerts (Prometheus' synthetic series of alert rules). */
export const FIRING_ALERTS_EXPR = 'ALERTS{alertstate="firing"}';
/** Failure-rate threshold shared with the platform's alert rule (job failure rate > 5 %). */
export const FAILURE_RATE_THRESHOLD = 0.05;

const ds: dashboard.DataSourceRef = { type: 'prometheus', uid: DATASOURCE_UID };
const jaeger: dashboard.DataSourceRef = { type: 'jaeger', uid: JAEGER_DATASOURCE_UID };
const M = METRIC_NAMES;
const RATE = '$__rate_interval';
const backlog = BACKLOG_STATES.join('|');
const failedOutcomes = 'failed|dead_lettered';

interface Target {
  expr: string;
  legend?: string;
  instant?: boolean;
}

interface Layout {
  title: string;
  description: string;
  w?: number;
  h?: number;
}

interface MetricPanelSpec extends Layout {
  type: 'timeseries' | 'stat';
  unit: string;
  targets: Target[];
  thresholds?: { value: number; color: string }[];
  min?: number;
}

/** Recent traces of some services (Jaeger search), one table row per trace, linked to it. */
interface TracesPanelSpec extends Layout {
  type: 'traces';
  services: readonly string[];
}

/** Firing and pending alerts of the Prometheus rules (Grafana's alert list panel). */
interface AlertListPanelSpec extends Layout {
  type: 'alertlist';
}

type PanelSpec = MetricPanelSpec | TracesPanelSpec | AlertListPanelSpec;

interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  rows: PanelSpec[][];
  variables?: { name: string; label: string; query: string }[];
}

/**
 * A Jaeger search query. The SDK has no Jaeger datasource package, so this is a `cog.Builder` of
 * the datasource's query model (queryType `search`, `service`, `limit`).
 */
class JaegerSearchQuery implements cog.Builder<cog.Dataquery> {
  constructor(
    private readonly refId: string,
    private readonly service: string,
  ) {}
  build(): cog.Dataquery {
    return {
      refId: this.refId,
      datasource: jaeger,
      queryType: 'search',
      service: this.service,
      limit: 20,
      _implementsDataqueryVariant() {},
    } as unknown as cog.Dataquery;
  }
}

function thresholds(spec: MetricPanelSpec): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([
      { color: 'green', value: null as unknown as number },
      ...(spec.thresholds ?? []).map((t) => ({ color: t.color, value: t.value })),
    ]);
}

function promTargets(spec: MetricPanelSpec): prometheus.DataqueryBuilder[] {
  return spec.targets.map((t, i) => {
    const q = new prometheus.DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(ds)
      .expr(t.expr)
      .legendFormat(t.legend ?? '__auto');
    return t.instant ? q.instant() : q.range();
  });
}

function panel(spec: PanelSpec, id: number, gridPos: dashboard.GridPos): cog.Builder<dashboard.Panel> {
  if (spec.type === 'traces') {
    return new table.PanelBuilder()
      .id(id)
      .title(spec.title)
      .description(spec.description)
      .datasource(jaeger)
      .gridPos(gridPos)
      .targets(spec.services.map((svc, i) => new JaegerSearchQuery(String.fromCharCode(65 + i), svc)));
  }
  if (spec.type === 'alertlist') {
    // Not modelled by the SDK: the generic panel with the alert list's options (unified alerting,
    // which lists the Prometheus data source's own rules next to Grafana-managed ones).
    return new dashboard.PanelBuilder()
      .type('alertlist')
      .id(id)
      .title(spec.title)
      .description(spec.description)
      .gridPos(gridPos)
      .options({
        viewMode: 'list',
        groupMode: 'default',
        groupBy: [],
        maxItems: 20,
        sortOrder: 1,
        dashboardAlerts: false,
        alertName: 'Jobplane',
        alertInstanceLabelFilter: '',
        datasource: 'Prometheus',
        showInstances: true,
        stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
      });
  }
  if (spec.type === 'stat') {
    const b = new stat.PanelBuilder()
      .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
      .colorMode(common.BigValueColorMode.Background)
      .graphMode(common.BigValueGraphMode.Area)
      .textMode(common.BigValueTextMode.Auto);
    return withMetricCommon(b, spec, id, gridPos);
  }
  const b = new timeseries.PanelBuilder()
    .drawStyle(common.GraphDrawStyle.Line)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  return withMetricCommon(b, spec, id, gridPos);
}

function withMetricCommon<B extends stat.PanelBuilder | timeseries.PanelBuilder>(
  b: B,
  spec: MetricPanelSpec,
  id: number,
  gridPos: dashboard.GridPos,
): B {
  b.id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(ds)
    .gridPos(gridPos)
    .unit(spec.unit)
    .thresholds(thresholds(spec))
    .targets(promTargets(spec));
  if (spec.min !== undefined) b.min(spec.min);
  return b;
}

function dashboardJson(d: Dashboard): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(d.title)
    .uid(d.uid)
    .description(d.description)
    .tags(d.tags)
    .readonly()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .version(1)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .link(
      new dashboard.DashboardLinkBuilder('Jobplane')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['jobplane'])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    )
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name('Firing alerts')
        .datasource(ds)
        .enable(true)
        .iconColor('red')
        .expr(FIRING_ALERTS_EXPR),
    );
  for (const v of d.variables ?? []) {
    builder.withVariable(
      new dashboard.QueryVariableBuilder(v.name)
        .label(v.label)
        .datasource(ds)
        .query({ query: v.query, refId: `${v.name}-var` })
        .includeAll(true)
        .allValue('.*')
        .multi(true)
        .current({ selected: true, text: ['All'], value: ['$__all'] })
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc),
    );
  }
  let y = 0;
  let id = 1;
  for (const row of d.rows) {
    const width = Math.floor(24 / row.length);
    let x = 0;
    let rowHeight = 0;
    for (const spec of row) {
      const w = spec.w ?? width;
      const h = spec.h ?? (spec.type === 'stat' ? 5 : 8);
      builder.withPanel(panel(spec, id++, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  const built = builder.build();
  // Grafana reads `templating.list`; the SDK leaves the object empty without variables.
  built.templating = { list: built.templating?.list ?? [] };
  // Escape hatch: the SDK's AnnotationQuery lacks the Prometheus annotation's title/tag fields.
  for (const a of built.annotations?.list ?? []) {
    Object.assign(a, {
      titleFormat: '{{alertname}}',
      textFormat: '{{service}} {{queue}} severity={{severity}}',
      tagKeys: 'severity,service',
      useValueForTime: false,
      step: '60s',
    });
  }
  return built;
}

const q = '{queue=~"$queue"}';
const t = '{type=~"$type"}';

export const DASHBOARDS: Record<string, Dashboard> = {
  'jobplane-overview': {
    uid: 'jobplane-overview',
    title: 'Jobplane / System overview',
    description: 'Is the platform up, taking jobs and finishing them?',
    tags: ['jobplane'],
    rows: [
      [
        {
          title: 'Targets up',
          description: 'Scrape targets answering, by component (api, relay, worker).',
          type: 'stat',
          unit: 'none',
          targets: [
            { expr: 'sum by (component) (up{job=~"jobplane-.*"})', legend: '{{component}}', instant: true },
          ],
          thresholds: [],
        },
        {
          title: 'Backlog (waiting + prioritized + active)',
          description: `Sum of ${M.queueJobs} over the scalable states, the number autoscaling follows.`,
          type: 'stat',
          unit: 'none',
          targets: [
            { expr: `sum(max by (queue, state) (${M.queueJobs}{state=~"${backlog}"}))`, instant: true },
          ],
        },
        {
          title: 'Oldest waiting job',
          description: 'Age of the oldest job waiting in any queue.',
          type: 'stat',
          unit: 's',
          targets: [{ expr: `max(${M.queueOldestWaiting})`, instant: true }],
          thresholds: [
            { value: 60, color: 'orange' },
            { value: 300, color: 'red' },
          ],
        },
        {
          title: 'Outbox pending',
          description: 'Accepted jobs not yet published to Redis by the relay.',
          type: 'stat',
          unit: 'none',
          targets: [{ expr: `max(${M.outboxPending})`, instant: true }],
          thresholds: [{ value: 1000, color: 'orange' }],
        },
      ],
      [
        {
          title: 'Jobs submitted / s',
          description: 'Accepted submissions per second by job type.',
          type: 'timeseries',
          unit: 'reqps',
          targets: [{ expr: `sum by (type) (rate(${M.jobsSubmitted}[${RATE}]))`, legend: '{{type}}' }],
        },
        {
          title: 'Attempts finished / s by outcome',
          description: 'Job attempts that ended, by outcome (failed attempts are retried).',
          type: 'timeseries',
          unit: 'reqps',
          targets: [{ expr: `sum by (outcome) (rate(${M.jobsCompleted}[${RATE}]))`, legend: '{{outcome}}' }],
        },
      ],
      [
        {
          title: 'API latency',
          description: 'HTTP request duration percentiles across routes.',
          type: 'timeseries',
          unit: 's',
          targets: [0.5, 0.95, 0.99].map((p) => ({
            expr: `histogram_quantile(${p}, sum by (le) (rate(${M.httpRequestDuration}_bucket[${RATE}])))`,
            legend: `p${p * 100}`,
          })),
        },
        {
          title: 'API requests / s by status',
          description: 'HTTP requests per second by status code.',
          type: 'timeseries',
          unit: 'reqps',
          targets: [
            { expr: `sum by (status) (rate(${M.httpRequestDuration}_count[${RATE}]))`, legend: '{{status}}' },
          ],
        },
      ],
      [
        {
          title: 'CPU by component',
          description: 'Process CPU seconds per second.',
          type: 'timeseries',
          unit: 'percentunit',
          targets: [
            {
              expr: `sum by (component) (rate(process_cpu_seconds_total{job=~"jobplane-.*"}[${RATE}]))`,
              legend: '{{component}}',
            },
          ],
        },
        {
          title: 'Resident memory by instance',
          description: 'Process RSS per scraped instance.',
          type: 'timeseries',
          unit: 'bytes',
          targets: [
            {
              expr: 'process_resident_memory_bytes{job=~"jobplane-.*"}',
              legend: '{{component}} {{instance}}',
            },
          ],
        },
      ],
      [
        {
          type: 'traces',
          title: 'Recent traces (api, worker)',
          description:
            'The latest traces of the api and the workers in Jaeger; a trace follows one job from the POST through the relay to every attempt.',
          services: TRACED_SERVICES,
          w: 16,
        },
        {
          type: 'alertlist',
          title: 'Alerts',
          description: 'Firing and pending Jobplane alerts (the rules of jobplaneAlertRules()).',
          w: 8,
        },
      ],
    ],
  },
  'jobplane-queues': {
    uid: 'jobplane-queues',
    title: 'Jobplane / Queue health',
    description: 'Depth, age and flow of every BullMQ queue.',
    tags: ['jobplane'],
    variables: [{ name: 'queue', label: 'Queue', query: `label_values(${M.queueJobs}, queue)` }],
    rows: [
      [
        {
          title: 'Backlog by queue',
          description: `Waiting + prioritized + active jobs (${BACKLOG_STATES.join(' + ')}), the autoscaling signal.`,
          type: 'timeseries',
          unit: 'none',
          min: 0,
          targets: [
            {
              expr: `sum by (queue) (max by (queue, state) (${M.queueJobs}{queue=~"$queue", state=~"${backlog}"}))`,
              legend: '{{queue}}',
            },
          ],
        },
        {
          title: 'Jobs by state',
          description: `Queue depth by BullMQ state (${QUEUE_STATES.join(', ')}).`,
          type: 'timeseries',
          unit: 'none',
          min: 0,
          targets: [{ expr: `max by (queue, state) (${M.queueJobs}${q})`, legend: '{{queue}} {{state}}' }],
        },
      ],
      [
        {
          title: 'Oldest waiting job by queue',
          description: 'Age of the oldest waiting job: grows when workers are missing or stuck.',
          type: 'timeseries',
          unit: 's',
          min: 0,
          targets: [{ expr: `max by (queue) (${M.queueOldestWaiting}${q})`, legend: '{{queue}}' }],
          thresholds: [{ value: 300, color: 'red' }],
        },
        {
          title: 'Delayed jobs (retry backoff, run_at)',
          description: 'Jobs waiting for their backoff or scheduled time.',
          type: 'timeseries',
          unit: 'none',
          min: 0,
          targets: [
            {
              expr: `max by (queue) (${M.queueJobs}{queue=~"$queue", state="delayed"})`,
              legend: '{{queue}}',
            },
          ],
        },
      ],
      [
        {
          title: 'Flow: submitted vs finished / s',
          description: 'When submissions outpace finished attempts, the backlog grows.',
          type: 'timeseries',
          unit: 'reqps',
          targets: [
            { expr: `sum(rate(${M.jobsSubmitted}[${RATE}]))`, legend: 'submitted' },
            { expr: `sum(rate(${M.jobsCompleted}{outcome!="failed"}[${RATE}]))`, legend: 'finished' },
          ],
        },
        {
          title: 'Outbox pending',
          description: 'Rows in the transactional outbox not yet published to BullMQ.',
          type: 'timeseries',
          unit: 'none',
          min: 0,
          targets: [{ expr: `max(${M.outboxPending})`, legend: 'pending' }],
        },
      ],
    ],
  },
  'jobplane-job-sla': {
    uid: 'jobplane-job-sla',
    title: 'Jobplane / Job SLA',
    description: 'How long jobs take and how often they fail, by job type.',
    tags: ['jobplane'],
    variables: [{ name: 'type', label: 'Job type', query: `label_values(${M.jobsCompleted}, type)` }],
    rows: [
      [
        {
          title: 'Failure rate (5 m)',
          description: `Failed or dead-lettered attempts over all finished attempts; the alert fires above ${FAILURE_RATE_THRESHOLD * 100} %.`,
          type: 'stat',
          unit: 'percentunit',
          targets: [
            {
              expr: `sum(rate(${M.jobsCompleted}{type=~"$type", outcome=~"${failedOutcomes}"}[5m])) / sum(rate(${M.jobsCompleted}${t}[5m]))`,
              instant: true,
            },
          ],
          thresholds: [{ value: FAILURE_RATE_THRESHOLD, color: 'red' }],
        },
        {
          title: 'p95 job duration',
          description: 'Duration of one attempt, 95th percentile over all selected types.',
          type: 'stat',
          unit: 's',
          targets: [
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(${M.jobDuration}_bucket${t}[5m])))`,
              instant: true,
            },
          ],
        },
        {
          title: 'Oldest waiting job',
          description: 'Time the oldest queued job has been waiting: the start-latency side of the SLA.',
          type: 'stat',
          unit: 's',
          targets: [{ expr: `max(${M.queueOldestWaiting})`, instant: true }],
          thresholds: [
            { value: 60, color: 'orange' },
            { value: 300, color: 'red' },
          ],
        },
        {
          title: 'Dead-lettered (1 h)',
          description: 'Jobs that exhausted their attempts in the last hour; retry them through the API.',
          type: 'stat',
          unit: 'none',
          targets: [
            {
              expr: `sum(increase(${M.jobsCompleted}{type=~"$type", outcome="dead_lettered"}[1h]))`,
              instant: true,
            },
          ],
          thresholds: [{ value: 1, color: 'red' }],
        },
      ],
      [
        {
          title: 'Job duration percentiles',
          description: 'p50 / p95 / p99 of one attempt, by job type.',
          type: 'timeseries',
          unit: 's',
          w: 24,
          targets: [0.5, 0.95, 0.99].map((p) => ({
            expr: `histogram_quantile(${p}, sum by (le, type) (rate(${M.jobDuration}_bucket${t}[${RATE}])))`,
            legend: `p${p * 100} {{type}}`,
          })),
        },
      ],
      [
        {
          title: 'Failure rate by type',
          description: 'Failed or dead-lettered attempts over all finished attempts, by job type.',
          type: 'timeseries',
          unit: 'percentunit',
          min: 0,
          targets: [
            {
              expr: `sum by (type) (rate(${M.jobsCompleted}{type=~"$type", outcome=~"${failedOutcomes}"}[${RATE}])) / sum by (type) (rate(${M.jobsCompleted}${t}[${RATE}]))`,
              legend: '{{type}}',
            },
          ],
          thresholds: [{ value: FAILURE_RATE_THRESHOLD, color: 'red' }],
        },
        {
          title: 'Outcomes / s by type',
          description: 'Finished attempts per second by job type and outcome.',
          type: 'timeseries',
          unit: 'reqps',
          targets: [
            {
              expr: `sum by (type, outcome) (rate(${M.jobsCompleted}${t}[${RATE}]))`,
              legend: '{{type}} {{outcome}}',
            },
          ],
        },
      ],
      [
        {
          title: 'Schedule lag',
          description: 'Fire time → job created (docs/schedules.md); the alert fires above 30 s at p99.',
          type: 'timeseries',
          unit: 's',
          targets: [0.5, 0.99].map((p) => ({
            expr: `histogram_quantile(${p}, sum by (le) (rate(${M.scheduleFireLag}_bucket[${RATE}])))`,
            legend: `p${p * 100}`,
          })),
          thresholds: [{ value: 30, color: 'red' }],
        },
        {
          title: 'Schedule fires / s by outcome',
          description: 'created, skipped / buffered (overlap policy), missed (catch-up policy), failed.',
          type: 'timeseries',
          unit: 'reqps',
          targets: [{ expr: `sum by (outcome) (rate(${M.scheduleFires}[${RATE}]))`, legend: '{{outcome}}' }],
        },
        {
          title: 'Overdue schedules',
          description: 'Unpaused schedules past their fire time after a scheduler pass: they stopped firing.',
          type: 'stat',
          unit: 'none',
          targets: [{ expr: `max(${M.schedulesOverdue})`, instant: true }],
          thresholds: [{ value: 1, color: 'red' }],
        },
        {
          title: 'Since the last scheduler pass',
          description: 'Seconds since any relay finished a scheduler pass; the alert fires above 300 s.',
          type: 'stat',
          unit: 's',
          targets: [{ expr: `time() - max(${M.schedulerLastPass})`, instant: true }],
          thresholds: [{ value: 300, color: 'red' }],
        },
      ],
      [
        {
          title: 'Flow control: starts put back / s',
          description:
            'Starts refused by a concurrency key, a queue cap or a rate limit (docs/flow-control.md): the job waits, delayed, without using an attempt.',
          type: 'timeseries',
          unit: 'reqps',
          targets: [
            {
              expr: `sum by (queue, type, reason) (rate(${M.flowRefused}[${RATE}]))`,
              legend: '{{queue}} {{type}} {{reason}}',
            },
          ],
        },
      ],
    ],
  },
};

/** The dashboards' files, formatted exactly as committed. */
export async function renderDashboards(): Promise<Record<string, string>> {
  const options = (await prettier.resolveConfig(join(DASHBOARD_DIR, 'x.json'))) ?? {};
  const out: Record<string, string> = {};
  for (const [name, d] of Object.entries(DASHBOARDS)) {
    out[`${name}.json`] = await prettier.format(JSON.stringify(dashboardJson(d)), {
      ...options,
      parser: 'json',
    });
  }
  return out;
}

async function main() {
  const check = process.argv.includes('--check');
  const files = await renderDashboards();
  let stale = 0;
  for (const [file, text] of Object.entries(files)) {
    const path = join(DASHBOARD_DIR, file);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing: written below, or reported as stale
    }
    if (current === text) continue;
    stale++;
    if (check)
      console.error(`drift: deploy/grafana/dashboards/${file} differs from scripts/generate-dashboards.ts`);
    else writeFileSync(path, text);
  }
  if (check && stale > 0) process.exit(1);
  console.log(
    check ? 'drift: deploy/grafana/dashboards is in sync' : `wrote ${Object.keys(files).length} dashboards`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
