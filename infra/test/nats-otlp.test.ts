/**
 * The event spine's NATS (in-cluster StatefulSet with JetStream, or an external URL) and the OTLP
 * endpoint: which pods get NATS_URL / OTEL_*, the NetworkPolicies, prop validation, and the
 * generated nats.conf run by a real nats-server (JetStream on, file store in a temp dir).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT } from '../deploy/synth.js';
import type { EnvironmentConfig } from '../src/environments/index.js';
import { Nats } from '../src/nats.js';
import { synthesizeEnvironment } from '../src/synth/synthesize.js';
import { selects } from '../src/verify/types.js';
import { verifyManifests } from '../src/verify/index.js';
import { type AnyJson, envOf, find, podSpec, synth } from './helpers.js';

const { catalog } = DEPLOYMENT;
const dev = DEPLOYMENT.environments.find((e) => e.name === 'dev')!;
const prod = DEPLOYMENT.environments.find((e) => e.name === 'prod')!;
const dir = mkdtempSync(join(tmpdir(), 'jobplane-nats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runtimeDeployments = (objects: AnyJson[]) =>
  objects.filter((o) => o.kind === 'Deployment' && podSpec(o).containers[0].args?.length === 1);
const envByDeployment = (objects: AnyJson[]): Record<string, Record<string, AnyJson>> =>
  Object.fromEntries(
    runtimeDeployments(objects).map((o) => [o.metadata.name, envOf(podSpec(o).containers[0])]),
  );

describe('NATS in the platform', () => {
  const objects = synthesizeEnvironment(catalog, dev, 'sha1') as AnyJson[];

  it('dev: a JetStream StatefulSet on a PVC, its Service, and NATS_URL on api, relay and workers only', () => {
    const sts = find(objects, 'StatefulSet', 'jobplane-nats') as AnyJson;
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
    expect(podSpec(sts).containers[0].image).toBe('nats:2.12.8');
    const conf = (find(objects, 'ConfigMap', 'jobplane-nats') as AnyJson).data['nats.conf'];
    expect(conf).toMatch(/jetstream \{\n {2}store_dir: \/data/);
    expect(find(objects, 'Service', 'jobplane-nats')).toBeDefined();
    const env = envByDeployment(objects);
    for (const [name, e] of Object.entries(env)) {
      const expected = /^jobplane-(api|relay|worker-)/.test(name)
        ? 'nats://jobplane-nats.jobplane.svc:4222'
        : undefined;
      expect(e['NATS_URL'], name).toBe(expected);
    }
    expect(env['jobplane-launcher']?.['NATS_URL']).toBeUndefined();
  });

  it('admits only api, relay and worker pods to NATS, and lets them connect', () => {
    const ingress = find(objects, 'NetworkPolicy', 'allow-nats-clients') as AnyJson;
    const from = ingress.spec.ingress[0].from[0].podSelector;
    const labelsOf = (name: string) =>
      (find(objects, 'Deployment', name) as AnyJson).spec.template.metadata.labels;
    expect(selects(from, labelsOf('jobplane-relay'))).toBe(true);
    expect(selects(from, labelsOf('jobplane-api'))).toBe(true);
    expect(selects(from, labelsOf('jobplane-worker-default'))).toBe(true);
    expect(selects(from, labelsOf('jobplane-launcher'))).toBe(false);
    expect(selects(from, labelsOf('jobplane-prometheus'))).toBe(false);
    expect(ingress.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 4222 }]);
    const egress = find(objects, 'NetworkPolicy', 'allow-runtime-to-nats') as AnyJson;
    expect(egress.spec.podSelector).toEqual(from);
    expect(egress.spec.egress[0].to[0].podSelector.matchLabels['app.kubernetes.io/component']).toBe('nats');
  });

  it('external: no NATS objects, NATS_URL is the URL and the egress goes to its CIDRs', async () => {
    const env: EnvironmentConfig = {
      ...prod,
      nats: { external: 'tls://nats.example.com:4443', cidrs: ['10.20.0.0/16'] },
    };
    const out = synthesizeEnvironment(catalog, env, 'sha1') as AnyJson[];
    expect(out.some((o) => o.metadata.name === 'jobplane-nats')).toBe(false);
    expect(envByDeployment(out)['jobplane-relay']?.['NATS_URL']).toBe('tls://nats.example.com:4443');
    const egress = find(out, 'NetworkPolicy', 'allow-runtime-to-nats') as AnyJson;
    expect(egress.spec.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: '10.20.0.0/16' } }],
      ports: [{ protocol: 'TCP', port: 4443 }],
    });
    const findings = await verifyManifests(out, { catalog, environment: env });
    expect(findings).toEqual([]);
  });

  it('admits named consumers by namespace and pod labels', () => {
    const out = synth(
      (s) => new Nats(s, 'n', { consumers: [{ namespace: 'billing', podLabels: { app: 'invoicer' } }] }),
    ) as AnyJson[];
    const np = find(out, 'NetworkPolicy', 'allow-nats-clients') as AnyJson;
    // One rule per peer (cdk8s-plus): the platform's clients, then each consumer.
    expect(np.spec.ingress[1].from[0]).toEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'billing' } },
      podSelector: { matchLabels: { app: 'invoicer' } },
    });
  });

  it.each([
    [
      { external: 'http://nats:4222', cidrs: ['10.0.0.0/8'] },
      `'nats.external' ("http://nats:4222") must be a nats:// or tls:// URL`,
    ],
    [{ external: 'nats://u:p@nats:4222', cidrs: ['10.0.0.0/8'] }, `'nats.external' carries credentials`],
    [
      { external: 'nats://nats:4222', cidrs: [] },
      `'nats.cidrs' ([]) must list the CIDRs of the external NATS servers`,
    ],
    [
      { external: 'nats://nats:4222', cidrs: ['0.0.0.0/0'] },
      `'nats.cidrs[0]' ('0.0.0.0/0') must be an IPv4 CIDR narrower than 0.0.0.0/0`,
    ],
    [{ storage: 'lots' }, `'nats.storage' ('lots') must be a positive quantity`],
    [
      { consumers: [{ namespace: 'billing', podLabels: {} }] },
      `'nats.consumers[0].podLabels' ({}) must select the consumer's pods`,
    ],
    [{ name: 'NATS' }, `'nats.name' ('NATS') must be a lowercase RFC 1123 label`],
  ])('refuses %j', (props, message) => {
    expect(() => synth((s) => new Nats(s, 'n', props as never))).toThrow(message);
  });

  it('the generated nats.conf runs a real nats-server with JetStream enabled', async () => {
    const free = async () => {
      const srv = createServer();
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const { port } = srv.address() as AddressInfo;
      await new Promise<void>((r) => srv.close(() => r()));
      return port;
    };
    const conf = (
      find(
        synth((s) => new Nats(s, 'n', {})),
        'ConfigMap',
      ) as AnyJson
    ).data['nats.conf'] as string;
    const [client, monitor] = [await free(), await free()];
    // Same file, but this machine's ports and a temp store instead of the pod's /data.
    const local = conf
      .replace(/^port: \d+$/m, `port: ${client}`)
      .replace(/^http_port: \d+$/m, `http_port: ${monitor}`)
      .replace('store_dir: /data', `store_dir: ${JSON.stringify(join(dir, 'js'))}`)
      .concat(`host: 127.0.0.1\nhttp: 127.0.0.1:${monitor}\n`)
      .replace(/^http_port: \d+\n/m, '');
    const file = join(dir, 'nats.conf');
    writeFileSync(file, local);
    const server = spawn('nats-server', ['--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr.on('data', (c: Buffer) => (log += c.toString()));
    try {
      const deadline = Date.now() + 15000;
      let jsz: AnyJson;
      for (;;) {
        try {
          const res = await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`);
          if (res.ok) {
            jsz = await (await fetch(`http://127.0.0.1:${monitor}/jsz`)).json();
            break;
          }
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`nats-server did not become healthy:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(jsz.config.store_dir).toContain(join(dir, 'js'));
      expect(jsz.config.max_storage).toBe(Math.floor(2 * 1024 * 0.9) * 1024 * 1024);
    } finally {
      server.kill('SIGTERM');
    }
  });
});

describe('OTLP endpoint', () => {
  const otlpEnv: EnvironmentConfig = {
    ...dev,
    otlp: { endpoint: 'http://collector.observability.svc:4318' },
  };

  it('sets OTEL_EXPORTER_OTLP_ENDPOINT and a per-component OTEL_SERVICE_NAME on api, relay, workers and launcher, verified', async () => {
    const objects = synthesizeEnvironment(catalog, otlpEnv, 'sha1') as AnyJson[];
    const env = envByDeployment(objects);
    const expected: Record<string, string> = {
      'jobplane-api': 'jobplane-api',
      'jobplane-relay': 'jobplane-relay',
      'jobplane-worker-default': 'jobplane-worker',
      'jobplane-worker-backtest': 'jobplane-worker',
      'jobplane-launcher': 'jobplane-launcher',
    };
    for (const [name, service] of Object.entries(expected)) {
      expect(env[name]?.['OTEL_EXPORTER_OTLP_ENDPOINT'], name).toBe(
        'http://collector.observability.svc:4318',
      );
      expect(env[name]?.['OTEL_SERVICE_NAME'], name).toBe(service);
    }
    const np = find(objects, 'NetworkPolicy', 'allow-runtime-to-otlp') as AnyJson;
    expect(np.spec.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
      ports: [{ protocol: 'TCP', port: 4318 }],
    });
    expect(await verifyManifests(objects, { catalog, environment: otlpEnv })).toEqual([]);
  });

  it('narrows the egress to an in-cluster collector namespace', () => {
    const objects = synthesizeEnvironment(
      catalog,
      { ...dev, otlp: { endpoint: 'http://otel.observability.svc:4318', namespace: 'observability' } },
      'sha1',
    ) as AnyJson[];
    const np = objects.find(
      (o) => o.metadata.name === 'allow-runtime-to-otlp' && o.metadata.namespace === 'jobplane-jobs',
    );
    expect(np.spec.egress[0].to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } },
        podSelector: {},
      },
    ]);
  });

  it.each([
    ['collector:4318', `'environment.otlp.endpoint' ("collector:4318") must be an http(s) OTLP endpoint`],
    ['grpc://collector:4317', `'environment.otlp.endpoint' ("grpc://collector:4317")`],
    ['http://user:pw@collector:4318', `'environment.otlp.endpoint' carries credentials`],
  ])('refuses endpoint %s', (endpoint, message) => {
    expect(() => synthesizeEnvironment(catalog, { ...dev, otlp: { endpoint } }, 'sha1')).toThrow(message);
  });

  it('the verifier still refuses an env name that is neither a config key nor OTEL_*/NATS_URL (C-env)', async () => {
    const objects = synthesizeEnvironment(catalog, otlpEnv, 'sha1') as AnyJson[];
    const api = find(objects, 'Deployment', 'jobplane-api') as AnyJson;
    podSpec(api).containers[0].env.push({ name: 'OTEL_TRACES_SAMPLER_TYPO', value: 'x' });
    const findings = await verifyManifests(objects, { catalog, environment: otlpEnv });
    expect(findings.map((f) => f.rule)).toContain('C-env');
  });
});
