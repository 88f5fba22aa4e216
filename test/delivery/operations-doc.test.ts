import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_ENV_VARS, METRIC_NAMES } from '@jobplane/sdk/contract';
import { OTEL_ENV_VARS, jobplaneAlertRules } from '@jobplane/constructs';
import { JobState } from '@jobplane/proto';
import { describe, expect, it } from 'vitest';
import { ROOT, readText } from './support.js';

const doc = readText('docs/operations.md');

describe('docs/operations.md', () => {
  it('links only to files that exist', () => {
    const links = [...doc.matchAll(/\]\((?!https?:|#)([^)#]+)\)/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(existsSync(join(ROOT, 'docs', link)), link).toBe(true);
  });

  it('names only env vars of the config schema, metrics the runtime exports and alerts that exist', () => {
    const known = new Set<string>(CONFIG_ENV_VARS);
    const otherNames = new Set([
      'METRIC_NAMES',
      'JOBPLANE_API_PORT',
      'PROMETHEUS_PORT',
      'ALERTMANAGER_PORT',
      'JAEGER_UI_PORT',
      'ALERTS', // Prometheus' series of alert states
      'GRAFANA_PORT',
      // The OpenTelemetry SDK's standard variables (read outside the config schema).
      ...OTEL_ENV_VARS,
      'AWS_ROLE_ARN',
      'AWS_REGION',
      'REGISTRY_USERNAME',
      'REGISTRY_PASSWORD',
      // OpenTelemetry's own variable (docs/observability.md), read by the SDK, not the config schema
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    ]);
    for (const [, v] of doc.matchAll(/`([A-Z][A-Z0-9_]{3,})`/g)) {
      if ((v as string).startsWith('JOB_STATE_')) {
        expect(JobState[(v as string).slice('JOB_STATE_'.length) as keyof typeof JobState], v).toBeDefined();
      } else expect(known.has(v as string) || otherNames.has(v as string), v).toBe(true);
    }
    const metrics = new Set<string>(Object.values(METRIC_NAMES));
    for (const [, m] of doc.matchAll(/\b(jobplane_[a-z_]+)\b/g))
      expect(metrics.has(m as string), m).toBe(true);
    const alerts = new Set(jobplaneAlertRules().groups.flatMap((g) => g.rules.map((r) => r.alert)));
    for (const [, a] of doc.matchAll(/`(Jobplane[A-Za-z]+)`/g)) expect(alerts.has(a as string), a).toBe(true);
  });

  it('covers both local paths, the release flow, rollback and stuck jobs', () => {
    for (const heading of [
      '### `make dev`',
      '### `make dev-local`',
      '## Release flow',
      '## Rollback',
      '## When a job is stuck',
    ]) {
      expect(doc, heading).toContain(heading);
    }
  });
});
