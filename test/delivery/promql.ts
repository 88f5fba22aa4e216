import { createRequire } from 'node:module';
import { join } from 'node:path';
import { METRIC_NAMES } from '@jobplane/sdk/contract';
import type * as PromClient from 'prom-client';
import { ROOT } from './support.js';

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names a PromQL expression selects: identifiers that are not functions, aggregations,
 * keywords, label names (matchers, by/without/on/ignoring lists) or durations.
 * Grafana's `label_values(<selector>, <label>)` is understood too.
 */
export function promqlMetricNames(expr: string): string[] {
  const lv = /^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/.exec(expr);
  const source = lv ? (lv[1] as string) : expr;
  const stripped = source
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w.:])[A-Za-z_:][A-Za-z0-9_:]*(?![\w:])/g)) {
    const id = m[0];
    // Followed by `(`: a function or an aggregation, not a metric.
    if (/^\s*\(/.test(stripped.slice((m.index ?? 0) + id.length))) continue;
    if (KEYWORDS.has(id.toLowerCase())) continue;
    if (!names.includes(id)) names.push(id);
  }
  return names;
}

/** `label op "value"` pairs inside the expression's selectors. */
export function promqlLabelMatchers(expr: string): { label: string; op: string; value: string }[] {
  const out: { label: string; op: string; value: string }[] = [];
  for (const block of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const m of (block[1] as string).matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
      out.push({ label: m[1] as string, op: m[2] as string, value: m[3] as string });
    }
  }
  return out.filter((m) => !m.value.includes('$'));
}

/** Grafana's variables replaced by values PromQL accepts, for syntax checks. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '.*');
}

/**
 * Every metric name the runtime exports: `METRIC_NAMES` (histograms with their _bucket/_sum/_count
 * series), prom-client's process/Node.js defaults (asked from the runtime's own prom-client), and
 * Prometheus' synthetic `up`.
 */
export function allowedMetricNames(): Set<string> {
  // `up` and `ALERTS` are Prometheus' own series (scrape health, alert rule states).
  const names = new Set<string>(['up', 'ALERTS']);
  for (const name of Object.values(METRIC_NAMES)) {
    names.add(name);
    if (name.endsWith('_duration_seconds') || name.endsWith('_lag_seconds'))
      for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  const req = createRequire(join(ROOT, 'runtime', 'package.json'));
  const prom = req('prom-client') as typeof PromClient;
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (String(type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}
