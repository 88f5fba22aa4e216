import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { jobplaneAlertRules } from '../src/alert-rules.js';
import { Prometheus } from '../src/prometheus.js';
import { type AnyJson, find, podSpec, synth } from './helpers.js';

describe('Prometheus', () => {
  const defaults = synth((s) => new Prometheus(s, 'p', { scrapeNamespaces: ['jobplane', 'jobplane-jobs'] }));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('in-cluster: config scrapes Jobplane services in the given namespaces and loads the alert rules', () => {
    const cm = find(defaults, 'ConfigMap', 'jobplane-prometheus')['data'] as Record<string, string>;
    const config = parse(cm['prometheus.yml']!) as AnyJson;
    const job = config.scrape_configs.find((j: AnyJson) => j.job_name === 'jobplane');
    expect(job.kubernetes_sd_configs[0].namespaces.names).toEqual(['jobplane', 'jobplane-jobs']);
    expect(parse(cm['jobplane.rules.yaml']!)).toEqual(jobplaneAlertRules());
    const dir = mkdtempSync(join(tmpdir(), 'jobplane-prom-'));
    try {
      // promtool validates the generated configuration (rule files resolved relative to it).
      // Debian's promtool is built without Kubernetes service discovery, so the discovery block
      // is swapped for a static target; relabelling, globals and rule files are still checked.
      const checkable = structuredClone(config);
      checkable.rule_files = ['jobplane.rules.yaml'];
      for (const j of checkable.scrape_configs) {
        if (j.kubernetes_sd_configs) {
          delete j.kubernetes_sd_configs;
          j.static_configs = [{ targets: ['127.0.0.1:9464'] }];
        }
      }
      writeFileSync(join(dir, 'prometheus.yml'), stringify(checkable));
      writeFileSync(join(dir, 'jobplane.rules.yaml'), cm['jobplane.rules.yaml']!);
      const out = execFileSync('promtool', ['check', 'config', 'prometheus.yml'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(out).toMatch(/SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in-cluster: namespaced discovery RBAC only, token mounted for discovery', () => {
    const roles = defaults.filter((o) => o.kind === 'Role');
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['jobplane', 'jobplane-jobs']);
    expect(JSON.stringify(roles)).not.toContain('secrets');
    expect(defaults.some((o) => o.kind.startsWith('Cluster'))).toBe(false);
    const pod = podSpec(find(defaults, 'Deployment', 'jobplane-prometheus'));
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(65534);
  });

  it('operator: ServiceMonitors and a PrometheusRule with the same rules, no Deployment', () => {
    const objs = synth(
      (s) =>
        new Prometheus(s, 'p', {
          mode: 'operator',
          operatorSelectorLabels: { team: 'x' },
          rules: { oldestWaitingSeconds: 60 },
        }),
    );
    expect(objs.filter((o) => o.kind === 'ServiceMonitor').map((o) => o.metadata.name)).toEqual([
      'jobplane-api',
      'jobplane-workers',
      'jobplane-relay',
    ]);
    const rule = find(objs, 'PrometheusRule', 'jobplane');
    // AlertmanagerConfig routes only alerts labelled with its namespace (the platform's).
    expect(rule['spec']).toEqual(
      jobplaneAlertRules({ oldestWaitingSeconds: 60, extraLabels: { namespace: 'jobplane' } }),
    );
    expect(rule.metadata.labels?.['team']).toBe('x');
    expect(objs.some((o) => o.kind === 'Deployment')).toBe(false);
  });

  it('honours image and retention', () => {
    const objs = synth(
      (s) =>
        new Prometheus(s, 'p', { image: { repository: 'prom/prometheus', tag: 'v3.4.0' }, retention: '7d' }),
    );
    const c = podSpec(find(objs, 'Deployment')).containers[0];
    expect(c.image).toBe('prom/prometheus:v3.4.0');
    expect(c.args).toContain('--storage.tsdb.retention.time=7d');
  });

  it('rejects an invalid scrape namespace', () => {
    expect(() => synth((s) => new Prometheus(s, 'p', { scrapeNamespaces: ['OK', 'x'] }))).toThrow(
      `'scrapeNamespaces[0]' ('OK') must be a lowercase RFC 1123 label`,
    );
  });
});
