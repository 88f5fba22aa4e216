import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../scripts/image-smoke.js';
import { DASHBOARD_DIR } from '../../scripts/generate-dashboards.js';
import { substituteGrafanaVariables } from './promql.js';
import { ROOT } from './support.js';

export interface QueryResult {
  where: string;
  expr: string;
  status: string;
  error?: string;
  series: { metric: Record<string, string>; value: string }[];
}

export interface PrometheusCheck {
  queries: QueryResult[];
  rules: { name: string; health: string; lastError?: string; state?: string; evaluated: boolean }[];
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  dns_sd_configs?: unknown;
  [k: string]: unknown;
}

/** Every PromQL query of the dashboards, with Grafana's variables replaced (1 m rate windows). */
export function dashboardQueries(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const file of ['jobplane-overview.json', 'jobplane-queues.json', 'jobplane-job-sla.json']) {
    const d = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as {
      uid: string;
      panels: { title: string; targets?: { expr: string; datasource: { type: string } }[] }[];
      templating: { list: { name: string; query: { query: string } }[] };
      annotations: { list: { name: string; expr?: string }[] };
    };
    // PromQL only: the traces panel queries Jaeger, the alert list panel has no query.
    for (const p of d.panels)
      for (const t of p.targets ?? [])
        if (t.datasource.type === 'prometheus') out.push({ where: `${d.uid} / ${p.title}`, expr: t.expr });
    for (const a of d.annotations.list)
      if (a.expr !== undefined) out.push({ where: `${d.uid} / annotation ${a.name}`, expr: a.expr });
    for (const v of d.templating.list) {
      // label_values(<selector>, <label>) is Grafana's; Prometheus evaluates the selector.
      const m = /^label_values\((.*),\s*\w+\)$/.exec(v.query.query);
      out.push({ where: `${d.uid} / $${v.name}`, expr: m ? (m[1] as string) : v.query.query });
    }
  }
  return out.map((q) => ({
    ...q,
    expr: substituteGrafanaVariables(q.expr)
      .replace(/\[5m\]/g, '[1m]')
      .replace(/\[5m:/g, '[1m:'),
  }));
}

/**
 * Runs the real Prometheus (Debian's `prometheus`, same package as promtool) with the compose
 * config and alert rules, its api and worker targets pointed at the given ports (DNS discovery
 * replaced by static targets, relabelling kept), scraping every second; then evaluates every
 * dashboard query and reads the rule health.
 */
export async function checkWithPrometheus(ports: { api: number; worker: number }): Promise<PrometheusCheck> {
  const dir = mkdtempSync(join(tmpdir(), 'jobplane-prom-'));
  const base = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  const targets: Record<string, number> = { 'jobplane-api': ports.api, 'jobplane-worker': ports.worker };
  const scrapeConfigs = base.scrape_configs
    .filter((c) => c.job_name in targets)
    .map((c) => {
      const { dns_sd_configs: _dns, static_configs, ...rest } = c;
      return {
        ...rest,
        scrape_interval: '1s',
        static_configs: [
          {
            targets: [`127.0.0.1:${targets[c.job_name]}`],
            ...(static_configs?.[0]?.labels ? { labels: static_configs[0].labels } : {}),
          },
        ],
      };
    });
  for (const f of base.rule_files) copyFileSync(join(ROOT, 'deploy/prometheus', f), join(dir, f));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: base.rule_files,
      scrape_configs: scrapeConfigs,
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const query = async (expr: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
  };
  const until = async (what: string, ok: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}:\n${log}`);
      if (await ok().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`prometheus: timed out waiting for ${what}\n${log}`);
  };
  try {
    await until('readiness', async () => (await fetch(`${url}/-/ready`)).ok);
    // Both targets scraped, and enough samples for rate() windows (≥ 2 per series).
    await until(
      'both targets up',
      async () => (await query('count_over_time(up{job=~"jobplane-.*"}[1m]) >= 3')).data?.result.length === 2,
    );
    const queries: QueryResult[] = [];
    for (const q of dashboardQueries()) {
      const r = await query(q.expr);
      queries.push({
        ...q,
        status: r.status,
        ...(r.error ? { error: r.error } : {}),
        series: (r.data?.result ?? []).map((s) => ({ metric: s.metric, value: s.value[1] })),
      });
    }
    await until('rules evaluated', async () => {
      const res = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { lastEvaluation: string }[] }[] };
      };
      return res.data.groups.every((g) => g.rules.every((r) => !r.lastEvaluation.startsWith('0001-')));
    });
    const rulesRes = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
      data: {
        groups: {
          rules: {
            name: string;
            health: string;
            lastError?: string;
            state?: string;
            lastEvaluation: string;
          }[];
        }[];
      };
    };
    const rules = rulesRes.data.groups.flatMap((g) =>
      g.rules.map((r) => ({
        name: r.name,
        health: r.health,
        ...(r.lastError ? { lastError: r.lastError } : {}),
        ...(r.state ? { state: r.state } : {}),
        evaluated: !r.lastEvaluation.startsWith('0001-'),
      })),
    );
    return { queries, rules };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.on('close', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}
