import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JOB_OUTCOMES, METRIC_NAMES, QUEUE_STATES } from '@jobplane/sdk/contract';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  DASHBOARD_DIR,
  DATASOURCE_UID,
  FIRING_ALERTS_EXPR,
  JAEGER_DATASOURCE_UID,
  TRACED_SERVICES,
  renderDashboards,
} from '../../scripts/generate-dashboards.js';
import { readYaml } from './support.js';
import {
  allowedMetricNames,
  promqlLabelMatchers,
  promqlMetricNames,
  substituteGrafanaVariables,
} from './promql.js';

const run = promisify(execFile);

interface Target {
  expr: string;
  datasource: { uid: string; type: string };
  queryType?: string;
  service?: string;
}
interface Panel {
  title: string;
  type: string;
  datasource?: { uid: string; type: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  options?: Record<string, unknown>;
}
interface DashboardJson {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { query: { query: string }; datasource: { uid: string } }[] };
  annotations: { list: { name: string; expr?: string; datasource: { uid: string }; enable: boolean }[] };
}

const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'));
const dashboards = files.map(
  (f) => JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as DashboardJson,
);
const byUid = Object.fromEntries(dashboards.map((d) => [d.uid, d]));
const promTargets = (p: Panel) => (p.targets ?? []).filter((t) => t.datasource.type === 'prometheus');
/** Every PromQL query of every dashboard: panels, variables and annotations. */
const queries = dashboards.flatMap((d) => [
  ...d.panels.flatMap((p) => promTargets(p).map((t) => ({ where: `${d.uid} / ${p.title}`, expr: t.expr }))),
  ...d.templating.list.map((v) => ({ where: `${d.uid} / $variable`, expr: v.query.query })),
  ...d.annotations.list.flatMap((a) =>
    a.expr === undefined ? [] : [{ where: `${d.uid} / annotation ${a.name}`, expr: a.expr }],
  ),
]);

describe('PromQL metric-name extraction (the checker itself)', () => {
  it('finds metric names and ignores functions, keywords, labels, durations and strings', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, type) (rate(foo_bucket{type=~"a|b", x!="rate"}[5m]))) / on (type) group_left bar offset 1h > bool 0',
      ),
    ).toEqual(['foo_bucket', 'bar']);
    expect(promqlMetricNames('label_values(jobplane_queue_jobs, queue)')).toEqual(['jobplane_queue_jobs']);
    expect(promqlMetricNames('sum(up{job=~"jobplane-.*"})')).toEqual(['up']);
  });

  it('rejects a name the runtime does not export', () => {
    const allowed = allowedMetricNames();
    const bogus = promqlMetricNames('sum(rate(jobplane_jobs_finished_total[5m]))').filter(
      (n) => !allowed.has(n),
    );
    expect(bogus).toEqual(['jobplane_jobs_finished_total']);
  });
});

describe('deploy/grafana/dashboards', () => {
  it('are exactly what scripts/generate-dashboards.ts writes (no hand edits, no drift)', async () => {
    const rendered = await renderDashboards();
    expect(Object.keys(rendered).sort()).toEqual([...files].sort());
    for (const [file, text] of Object.entries(rendered)) {
      expect(readFileSync(join(DASHBOARD_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('cover system overview, queue health and job SLA', () => {
    expect(Object.keys(byUid).sort()).toEqual(['jobplane-job-sla', 'jobplane-overview', 'jobplane-queues']);
  });

  it('use only metric names the runtime exports (METRIC_NAMES + histogram series, prom-client defaults, up)', () => {
    const allowed = allowedMetricNames();
    const unknown = queries.flatMap((q) =>
      promqlMetricNames(q.expr)
        .filter((n) => !allowed.has(n))
        .map((n) => `${q.where}: ${n}`),
    );
    expect(unknown).toEqual([]);
    // And every runtime metric is on some dashboard.
    const used = new Set(queries.flatMap((q) => promqlMetricNames(q.expr)));
    for (const name of Object.values(METRIC_NAMES)) {
      expect(
        [...used].some((u) => u === name || u.startsWith(`${name}_`)),
        name,
      ).toBe(true);
    }
  });

  it('select only label values the runtime emits (queue states, job outcomes)', () => {
    for (const q of queries) {
      for (const m of promqlLabelMatchers(q.expr)) {
        const values = m.value.split('|');
        if (m.label === 'state') for (const v of values) expect(QUEUE_STATES, q.where).toContain(v);
        if (m.label === 'outcome') for (const v of values) expect(JOB_OUTCOMES, q.where).toContain(v);
      }
    }
  });

  it('parse as PromQL (promtool check rules over every query)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobplane-dashboards-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const rules = queries
      .filter((q) => !q.expr.startsWith('label_values('))
      .map((q, i) => ({ record: `dashboard:query_${i}`, expr: substituteGrafanaVariables(q.expr) }));
    const file = join(dir, 'queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('job SLA shows duration percentiles, failure rate and the oldest waiting job', () => {
    const exprs = byUid['jobplane-job-sla']?.panels.flatMap((p) => promTargets(p).map((t) => t.expr)) ?? [];
    for (const p of [0.5, 0.95, 0.99]) {
      expect(
        exprs.some(
          (e) => e.startsWith(`histogram_quantile(${p},`) && e.includes(`${METRIC_NAMES.jobDuration}_bucket`),
        ),
      ).toBe(true);
    }
    expect(exprs.some((e) => /outcome=~"failed\|dead_lettered".*\/ sum/.test(e))).toBe(true);
    expect(exprs.some((e) => e.includes(METRIC_NAMES.queueOldestWaiting))).toBe(true);
  });

  it('refer to the provisioned Prometheus datasource everywhere', () => {
    const provisioned = readYaml<{ datasources: { uid: string }[] }>(
      'deploy/grafana/provisioning/datasources/prometheus.yml',
    );
    expect(provisioned.datasources.map((d) => d.uid)).toEqual([DATASOURCE_UID]);
    const jaeger = readYaml<{ datasources: { uid: string }[] }>(
      'deploy/grafana/provisioning/datasources/jaeger.yml',
    );
    expect(jaeger.datasources.map((d) => d.uid)).toEqual([JAEGER_DATASOURCE_UID]);
    const uidOf: Record<string, string> = { prometheus: DATASOURCE_UID, jaeger: JAEGER_DATASOURCE_UID };
    for (const d of dashboards) {
      for (const p of d.panels) {
        if (p.type === 'alertlist') continue; // reads the alert rules, no datasource query
        expect(uidOf[p.datasource!.type], `${d.uid} / ${p.title}`).toBe(p.datasource!.uid);
        for (const t of p.targets ?? []) expect(t.datasource.uid).toBe(p.datasource!.uid);
      }
      for (const v of d.templating.list) expect(v.datasource.uid).toBe(DATASOURCE_UID);
      for (const a of d.annotations.list) expect(a.datasource.uid).toBe(DATASOURCE_UID);
    }
  });

  it('overview has a traces panel (Jaeger search for the api and worker services) and an alert list', () => {
    const overview = byUid['jobplane-overview']!;
    const traces = overview.panels.filter((p) => p.datasource?.type === 'jaeger');
    expect(traces).toHaveLength(1);
    expect(traces[0]!.targets?.map((t) => [t.queryType, t.service])).toEqual(
      TRACED_SERVICES.map((s) => ['search', s]),
    );
    expect(TRACED_SERVICES).toEqual(['jobplane-api', 'jobplane-worker']);
    const alerts = overview.panels.find((p) => p.type === 'alertlist');
    expect(alerts?.options).toMatchObject({ stateFilter: { firing: true, pending: true } });
  });

  it('every dashboard annotates firing alerts from ALERTS{alertstate="firing"}', () => {
    for (const d of dashboards) {
      expect(d.annotations.list, d.uid).toEqual([
        expect.objectContaining({ name: 'Firing alerts', expr: FIRING_ALERTS_EXPR, enable: true }),
      ]);
    }
  });

  it('lay panels out on the 24-column grid without overlaps', () => {
    for (const d of dashboards) {
      const cells = new Set<string>();
      for (const p of d.panels) {
        const { x, y, w, h } = p.gridPos;
        expect(x + w, `${d.uid} / ${p.title}`).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            const key = `${i},${j}`;
            expect(cells.has(key), `${d.uid} / ${p.title} overlaps at ${key}`).toBe(false);
            cells.add(key);
          }
        }
      }
    }
  });
});
