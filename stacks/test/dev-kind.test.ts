import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADDON_CHARTS } from '../src/addon-charts.js';
import { KIND_CREATE_SCRIPT, KIND_DELETE_SCRIPT } from '../src/kind-cluster.js';
import { DEV_DATA_STORES } from '../src/program.js';
import { INGRESS } from '../src/ingress.js';
import {
  assertBootstrap,
  assertIngress,
  assertPinnedReleases,
  assertPlatformNamespaces,
  assertPlatformSecrets,
  assertSecretsCoverCharts,
  release,
  secretData,
} from './policy.js';
import { runProgram, stackFileConfig, type ProgramRun } from './mocks.js';

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram('dev', stackFileConfig('dev'));
});

describe('dev stack (kind)', () => {
  it('creates no AWS resources', () => {
    expect(run.resources.filter((r) => r.type.startsWith('aws:'))).toEqual([]);
  });

  it('creates the kind cluster from the generated config and deletes it on destroy', () => {
    const [cmd, ...more] = run.ofType('command:local:Command');
    expect(more).toEqual([]);
    expect(cmd!.name).toBe('jobplane-dev-kind');
    expect(cmd!.inputs.create).toBe(KIND_CREATE_SCRIPT);
    expect(cmd!.inputs.create).toContain('kind create cluster --name "$KIND_CLUSTER_NAME" --config "$cfg"');
    expect(cmd!.inputs.delete).toBe(KIND_DELETE_SCRIPT);
    expect(cmd!.inputs.delete).toContain('kind delete cluster');
    expect(cmd!.inputs.environment.KIND_CLUSTER_NAME).toBe('jobplane-dev');
    const kindConfig = parse(cmd!.inputs.environment.KIND_CONFIG);
    expect(kindConfig).toMatchObject({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'jobplane-dev',
    });
    expect(kindConfig.nodes.map((n: { role: string }) => n.role)).toEqual(['control-plane', 'worker']);
    for (const node of kindConfig.nodes) expect(node.image).toBe('kindest/node:v1.34.0');
    // A config change must replace the cluster, and the kubeconfig on stdout must not be logged.
    expect(cmd!.inputs.triggers).toEqual([cmd!.inputs.environment.KIND_CONFIG]);
    expect(cmd!.inputs.logging).toBe('stderr');
  });

  it('exports the kubeconfig as a secret, the cluster name and the Argo CD hint', () => {
    expect(run.outputs.kubeconfig).toContain('kind-jobplane-dev');
    expect(run.secret!.kubeconfig).toBe(true);
    expect(run.outputs.clusterName).toBe('jobplane-dev');
    expect(run.outputs.argocdUrlHint).toContain('port-forward svc/argocd-server');
    expect(run.outputs.ecrRepositoryUrl).toBeUndefined();
  });

  it('points the Kubernetes provider at the kind kubeconfig, with server-side apply', () => {
    const [provider] = run.ofType('pulumi:providers:kubernetes');
    expect(provider!.inputs.kubeconfig).toContain('kind-jobplane-dev');
    expect(provider!.secretPaths).toContain('kubeconfig');
    expect(String(provider!.inputs.enableServerSideApply)).toBe('true');
  });

  it('installs the add-ons with pinned versions; metrics-server accepts kind kubelet certificates', () => {
    const releases = assertPinnedReleases(run, 'kind');
    const ms = releases.find((r) => r.inputs.chart === 'metrics-server')!;
    expect(ms.inputs.version).toBe(ADDON_CHARTS.metricsServer.version);
    expect(ms.inputs.values.args).toEqual(['--kubelet-insecure-tls']);
  });

  it('installs Traefik on node ports the kind cluster maps to 127.0.0.1:80/443, cert-manager and a self-signed issuer', () => {
    assertIngress(run, 'selfSigned');
    const traefik = release(run, 'traefik');
    expect(traefik.inputs.values.service).toEqual({ type: 'NodePort' });
    const nodePorts = {
      http: traefik.inputs.values.ports.web.nodePort as number,
      https: traefik.inputs.values.ports.websecure.nodePort as number,
    };
    expect(nodePorts).toEqual(INGRESS.nodePorts);
    const [cmd] = run.ofType('command:local:Command');
    const [controlPlane, ...workers] = parse(cmd!.inputs.environment.KIND_CONFIG).nodes;
    expect(controlPlane.extraPortMappings).toEqual([
      { containerPort: nodePorts.http, hostPort: 80, listenAddress: '127.0.0.1', protocol: 'TCP' },
      { containerPort: nodePorts.https, hostPort: 443, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    for (const w of workers) expect(w.extraPortMappings).toBeUndefined();
    // No autoscaler on kind.
    expect(run.ofType('kubernetes:karpenter.sh/v1:NodePool')).toEqual([]);
  });

  it('owns the platform Namespaces', () => {
    assertPlatformNamespaces(run, '1.34');
  });

  it('bootstraps Argo CD with the synthesized AppProject and root Application', () => {
    assertBootstrap(run, 'dev');
  });

  it('creates the platform namespaces and Secrets', () => {
    assertPlatformSecrets(run, true);
    assertSecretsCoverCharts(run, 'dev');
  });

  it('writes dev Secrets pointing at the in-cluster stores, with random passwords', () => {
    const pg = secretData(run, 'jobplane', 'jobplane-postgres');
    const url = new URL(pg.DATABASE_URL!);
    expect(url.protocol).toBe('postgresql:');
    expect(url.hostname).toBe(DEV_DATA_STORES.postgres.host);
    expect(url.username).toBe('jobplane');
    expect(url.pathname).toBe('/jobplane');
    // The in-cluster PostgreSQL initialises with the same random password.
    expect(url.password).toMatch(/^[a-f0-9]{32}$/);
    expect(secretData(run, 'jobplane', 'jobplane-postgres-credentials')).toEqual({
      POSTGRES_PASSWORD: url.password,
    });
    expect(secretData(run, 'jobplane', 'jobplane-redis').REDIS_URL).toBe(
      'redis://jobplane-redis.jobplane.svc.cluster.local:6379',
    );
    const keys = secretData(run, 'jobplane', 'jobplane-api-keys');
    expect(keys.JOBPLANE_API_KEYS).toMatch(/^default:[A-Za-z0-9]{48}$/);
    expect(keys.JOBPLANE_ADMIN_KEY).toMatch(/^[A-Za-z0-9]{48}$/);
  });
});
