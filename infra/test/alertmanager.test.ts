/**
 * Alert delivery: the generated Alertmanager config passes `amtool check-config`, its routes send
 * each severity to its receiver (`amtool config routes test`), and a real Alertmanager (the
 * Debian `prometheus-alertmanager` package, which .ci/run installs with amtool) started on a free
 * port delivers critical and warning alerts to their webhooks while a down service inhibits its
 * backlog alert.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Alertmanager } from '../src/alertmanager.js';
import { ALERT_RECEIVERS, jobplaneAlertmanagerConfig } from '../src/alertmanager-config.js';
import { SERVICE_ALERTS, jobplaneAlertRules } from '../src/alert-rules.js';
import { Prometheus } from '../src/prometheus.js';
import { verifyManifests } from '../src/verify/index.js';
import { type AnyJson, find, podSpec, synth } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'jobplane-alertmanager-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RECEIVERS = {
  critical: { url: 'https://hooks.example.com/critical' },
  warning: { url: 'https://hooks.example.com/warning' },
};

function amtool(args: string[]): string {
  return execFileSync('amtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function writeConfig(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(config, { lineWidth: 0 }));
  return file;
}

describe('jobplaneAlertmanagerConfig', () => {
  const file = writeConfig('alertmanager.yml', jobplaneAlertmanagerConfig(RECEIVERS));

  it('passes amtool check-config', () => {
    const out = amtool(['check-config', file]);
    expect(out).toMatch(/SUCCESS/);
    expect(out).toMatch(/2 receivers/);
    expect(out).toMatch(/1 inhibit rules/);
  });

  it('amtool check-config fails on a broken config (the check can fail)', () => {
    const broken = writeConfig('broken.yml', {
      ...jobplaneAlertmanagerConfig(RECEIVERS),
      route: { receiver: 'nobody' },
    });
    expect(() => amtool(['check-config', broken])).toThrow(/failed to validate 1 file/);
  });

  it.each([
    [['severity=critical', 'alertname=JobplaneServiceDown', 'service=api'], ALERT_RECEIVERS.critical],
    [['severity=critical', 'alertname=JobplaneOldestWaitingJobTooOld'], ALERT_RECEIVERS.critical],
    [['severity=warning', 'alertname=JobplaneBacklogGrowing'], ALERT_RECEIVERS.warning],
    [['alertname=SomethingWithoutSeverity'], ALERT_RECEIVERS.warning],
  ])('routes %j to %s (amtool config routes test)', (labels, receiver) => {
    const out = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${file}`,
      `--verify.receivers=${receiver}`,
      ...labels,
    ]);
    expect(out.trim()).toBe(receiver);
  });

  it('routes test fails for the wrong receiver (the assertion can fail)', () => {
    expect(() =>
      amtool([
        'config',
        'routes',
        'test',
        `--config.file=${file}`,
        `--verify.receivers=${ALERT_RECEIVERS.warning}`,
        'severity=critical',
      ]),
    ).toThrow();
  });

  it('inhibits exactly the alerts a down service explains, keyed on the service label', () => {
    const rule = jobplaneAlertmanagerConfig(RECEIVERS).inhibit_rules[0] as AnyJson;
    expect(rule.source_matchers).toEqual(['alertname="JobplaneServiceDown"']);
    expect(rule.equal).toEqual(['service']);
    // Every inhibited alert exists in the rule file and carries the service label.
    const rules = jobplaneAlertRules().groups[0]!.rules;
    for (const name of SERVICE_ALERTS) {
      expect(rules.find((r) => r.alert === name)?.labels['service'], name).toBeDefined();
    }
  });

  it.each([
    [{ critical: { url: 'ftp://x' } }, `'critical.url' ("ftp://x") must be an absolute http(s) URL`],
    [{ critical: { url: 'not a url' } }, `'critical.url' ("not a url")`],
    [{ ...RECEIVERS, warning: { url: '/relative' } }, `'warning.url' ("/relative")`],
    [{ ...RECEIVERS, groupWait: '0s' }, `'groupWait' ("0s") must be a positive Prometheus duration`],
    [{ ...RECEIVERS, criticalRepeatInterval: '1 hour' }, `'criticalRepeatInterval' ("1 hour")`],
  ])('refuses %j', (options, message) => {
    expect(() => jobplaneAlertmanagerConfig(options as never)).toThrow(message);
  });
});

describe('Alertmanager construct', () => {
  const senders = { 'app.kubernetes.io/component': 'prometheus' };

  it('in-cluster: Deployment, ConfigMap that passes amtool, Service, ServiceAccount and its NetworkPolicy, verified', async () => {
    const objects = synth((s) => new Alertmanager(s, 'am', { receivers: RECEIVERS, senders }));
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'Service',
      'ServiceAccount',
    ]);
    const cm = find(objects, 'ConfigMap', 'jobplane-alertmanager') as AnyJson;
    const file = writeConfig('from-configmap.yml', parse(cm.data['alertmanager.yml']));
    expect(amtool(['check-config', file])).toMatch(/SUCCESS/);
    const pod = podSpec(find(objects, 'Deployment', 'jobplane-alertmanager'));
    expect(pod.containers[0].args).toContain('--cluster.listen-address=');
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    const np = find(objects, 'NetworkPolicy', 'allow-alertmanager') as AnyJson;
    expect(np.spec.ingress[0].from[0].podSelector.matchLabels).toEqual(senders);
    expect(np.spec.egress[0].ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    // Standalone (no namespaces, PriorityClasses or default-deny of a platform around it):
    // only the rules about the object itself.
    const findings = await verifyManifests(objects, {
      disable: ['REF-namespace', 'X-priority', 'N1'],
    });
    expect(findings).toEqual([]);
  });

  it('operator: one AlertmanagerConfig with the same routes, receivers and inhibition, schema-valid', async () => {
    const objects = synth(
      (s) => new Alertmanager(s, 'am', { receivers: RECEIVERS, mode: 'operator', namespace: 'jobplane' }),
    );
    expect(objects.map((o) => o.kind)).toEqual(['AlertmanagerConfig']);
    const spec = objects[0]!['spec'] as AnyJson;
    expect(spec.route.routes).toEqual([
      {
        receiver: 'jobplane-critical',
        matchers: [{ name: 'severity', value: 'critical', matchType: '=' }],
        repeatInterval: '1h',
      },
      {
        receiver: 'jobplane-warning',
        matchers: [{ name: 'severity', value: 'warning', matchType: '=' }],
        repeatInterval: '12h',
      },
    ]);
    expect(spec.inhibitRules[0].targetMatch[0]).toMatchObject({ name: 'alertname', matchType: '=~' });
    expect(spec.receivers[0].webhookConfigs[0].url).toBe(RECEIVERS.critical.url);
    expect(await verifyManifests(objects, { disable: ['REF-namespace'] })).toEqual([]);
  });

  it.each([
    [{ receivers: RECEIVERS }, `'senders' (undefined) must select the pods that send alerts`],
    [{ receivers: RECEIVERS, senders, receiverCidrs: ['10.0.0.0'] }, `'receiverCidrs[0]' ('10.0.0.0')`],
    [{ receivers: RECEIVERS, senders, mode: 'cloud' }, `'mode' ('cloud') must be 'in-cluster' or 'operator'`],
    [{ receivers: RECEIVERS, senders, name: 'AM' }, `'name' ('AM') must be a lowercase RFC 1123 label`],
  ])('refuses %j', (props, message) => {
    expect(() => synth((s) => new Alertmanager(s, 'am', props as never))).toThrow(message);
  });

  it('the in-cluster Prometheus sends to the Alertmanagers it is given; operator rules carry the namespace', () => {
    const objects = synth(
      (s) => new Prometheus(s, 'p', { alertmanagers: ['jobplane-alertmanager.jobplane.svc:9093'] }),
    );
    const config = parse((find(objects, 'ConfigMap') as AnyJson).data['prometheus.yml']);
    expect(config.alerting).toEqual({
      alertmanagers: [{ static_configs: [{ targets: ['jobplane-alertmanager.jobplane.svc:9093'] }] }],
    });
    expect(() => synth((s) => new Prometheus(s, 'p', { alertmanagers: ['http://am:9093'] }))).toThrow(
      `'alertmanagers[0]' ('http://am:9093') must be host:port`,
    );
    const operator = synth((s) => new Prometheus(s, 'p', { mode: 'operator', namespace: 'jobplane' }));
    const rule = find(operator, 'PrometheusRule') as AnyJson;
    for (const r of rule.spec.groups[0].rules) expect(r.labels.namespace, r.alert).toBe('jobplane');
  });
});

/** A free TCP port on 127.0.0.1 (bound and released). */
async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('a real Alertmanager with the generated config', () => {
  const received: { path: string; alerts: { labels: Record<string, string>; status: string }[] }[] = [];
  let receiver: Server;
  let am: ChildProcess;
  let amUrl = '';
  let stderr = '';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', alerts: (JSON.parse(body) as AnyJson).alerts });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const config = jobplaneAlertmanagerConfig({
      critical: { url: `${hook}/critical` },
      warning: { url: `${hook}/warning` },
      groupWait: '1s',
      groupInterval: '1s',
    });
    const file = writeConfig('live.yml', config);
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${file}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    am.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await pollUntil('Alertmanager ready', async () =>
      (await fetch(`${amUrl}/-/ready`)).ok ? true : undefined,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${stderr}`);
    });
  });

  afterAll(async () => {
    am?.kill('SIGTERM');
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  it('delivers critical and warning alerts to their receivers and inhibits the down service backlog alert', async () => {
    const alert = (labels: Record<string, string>) => ({
      labels,
      annotations: { summary: labels['alertname'] },
    });
    const res = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert({
          alertname: 'JobplaneServiceDown',
          severity: 'critical',
          service: 'worker',
          job: 'jobplane-worker',
        }),
        alert({
          alertname: 'JobplaneOldestWaitingJobTooOld',
          severity: 'critical',
          service: 'worker',
          queue: 'default',
        }),
        alert({ alertname: 'JobplaneScheduleLagHigh', severity: 'warning', service: 'relay' }),
      ]),
    });
    expect(res.status).toBe(200);

    const names = (path: string) =>
      received.filter((r) => r.path === path).flatMap((r) => r.alerts.map((a) => a.labels['alertname']));
    await pollUntil('both receivers notified', async () =>
      names('/critical').includes('JobplaneServiceDown') &&
      names('/warning').includes('JobplaneScheduleLagHigh')
        ? true
        : undefined,
    );
    // The backlog alert of the down service is suppressed by the inhibition rule, the relay's is not.
    const statuses = await pollUntil('inhibition marked', async () => {
      const alerts = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AnyJson[];
      const byName = Object.fromEntries(alerts.map((a) => [a.labels.alertname, a.status]));
      return byName['JobplaneOldestWaitingJobTooOld']?.inhibitedBy?.length > 0 ? byName : undefined;
    });
    expect(statuses['JobplaneOldestWaitingJobTooOld'].state).toBe('suppressed');
    expect(statuses['JobplaneScheduleLagHigh'].state).toBe('active');
    expect(statuses['JobplaneServiceDown'].state).toBe('active');
    expect(names('/critical')).not.toContain('JobplaneOldestWaitingJobTooOld');
    expect(names('/warning')).not.toContain('JobplaneServiceDown');
  });
});

describe('Alert delivery in the platform', () => {
  it('dev: Prometheus sends to the in-cluster Alertmanager Service, and its NetworkPolicy lets it', async () => {
    const { DEPLOYMENT } = await import('../deploy/synth.js');
    const { synthesizeEnvironment } = await import('../src/synth/synthesize.js');
    const { selects } = await import('../src/verify/types.js');
    const dev = DEPLOYMENT.environments.find((e) => e.name === 'dev')!;
    const objects = synthesizeEnvironment(DEPLOYMENT.catalog, dev, 'sha1') as AnyJson[];
    const config = parse(
      (find(objects, 'ConfigMap', 'jobplane-prometheus') as AnyJson).data['prometheus.yml'],
    );
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual([
      'jobplane-alertmanager.jobplane.svc:9093',
    ]);
    const svc = find(objects, 'Service', 'jobplane-alertmanager') as AnyJson;
    expect(svc.spec.ports[0].port).toBe(9093);
    const amPods = (find(objects, 'Deployment', 'jobplane-alertmanager') as AnyJson).spec.template.metadata
      .labels;
    const promPods = (find(objects, 'Deployment', 'jobplane-prometheus') as AnyJson).spec.template.metadata
      .labels;
    const egress = (find(objects, 'NetworkPolicy', 'allow-prometheus') as AnyJson).spec.egress as AnyJson[];
    expect(
      egress.some(
        (r) =>
          r.to.some((p: AnyJson) => p.podSelector && selects(p.podSelector, amPods)) &&
          r.ports[0].port === 9093,
      ),
    ).toBe(true);
    const ingress = (find(objects, 'NetworkPolicy', 'allow-alertmanager') as AnyJson).spec.ingress[0];
    expect(selects(ingress.from[0].podSelector, promPods)).toBe(true);
  });

  it('staging: an AlertmanagerConfig in the platform namespace, and rules labelled for it', async () => {
    const { DEPLOYMENT } = await import('../deploy/synth.js');
    const { synthesizeEnvironment } = await import('../src/synth/synthesize.js');
    const staging = DEPLOYMENT.environments.find((e) => e.name === 'staging')!;
    const objects = synthesizeEnvironment(DEPLOYMENT.catalog, staging, 'sha1') as AnyJson[];
    const amc = find(objects, 'AlertmanagerConfig', 'jobplane') as AnyJson;
    expect(amc.metadata.namespace).toBe('jobplane');
    expect(amc.metadata.annotations['argocd.argoproj.io/sync-options']).toContain(
      'SkipDryRunOnMissingResource',
    );
    expect(objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'jobplane-alertmanager')).toBe(
      false,
    );
    const rule = find(objects, 'PrometheusRule', 'jobplane') as AnyJson;
    for (const r of rule.spec.groups[0].rules) expect(r.labels.namespace, r.alert).toBe('jobplane');
  });
});
