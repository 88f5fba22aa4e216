/**
 * The stacks and the construct library must agree on what each environment's cluster provides:
 * network ranges the NetworkPolicies allow, image repository, Argo CD cluster names, the
 * monitoring stack and the in-cluster dev data stores. Both sides are read from their sources of
 * truth (`@jobplane/constructs` environments, `charts-out/`), never restated here.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_INGRESS,
  ENVIRONMENTS as INFRA_ENVIRONMENTS,
  EXTERNAL_NAMESPACES,
  KEDA_VERSION,
  parseQuantity,
} from '@jobplane/constructs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ADDON_CHARTS } from '../src/addon-charts.js';
import { PLATFORM_NAMESPACES, parseStackConfig, type StackConfig } from '../src/config.js';
import { INGRESS } from '../src/ingress.js';
import { addonReleases } from '../src/platform-addons.js';
import { DEV_DATA_STORES } from '../src/program.js';
import { stackFileConfig } from './mocks.js';

const chartsOut = (file: string) =>
  parse(readFileSync(fileURLToPath(new URL(`../../charts-out/${file}`, import.meta.url)), 'utf8'));

describe.each(INFRA_ENVIRONMENTS.map((env) => [env.name, env] as const))('environment %s', (name, env) => {
  const cfg: StackConfig = parseStackConfig(stackFileConfig(name), name);

  it('runs on the cluster kind its data stores need (in-cluster on kind, managed on EKS)', () => {
    expect(cfg.cluster).toBe(env.dataStores.mode === 'in-cluster' ? 'kind' : 'eks');
  });

  it('registers the Argo CD cluster name the Application targets', () => {
    expect(env.argocdCluster).toBe(`jobplane-${name}`);
  });

  it('installs KEDA where the scalers expect it, and the Prometheus Operator when the environment uses it', () => {
    expect(env.kedaNamespace ?? 'keda').toBe(ADDON_CHARTS.keda.namespace);
    const releases = addonReleases({ cluster: cfg.cluster });
    const operator = releases.find((r) => r.id === 'prometheusStack');
    if (env.monitoring.mode === 'operator') {
      expect(operator?.namespace).toBe(env.monitoring.namespace);
      expect(env.monitoring.prometheusAddress).toContain(`prometheus-operated.${operator!.namespace}.svc`);
      // The operator's Prometheus selects ServiceMonitors by `release: <release name>`.
      const monitor = chartsOut(`${name}/jobplane.servicemonitor.jobplane-api.yaml`);
      expect(monitor.metadata.labels.release).toBe(ADDON_CHARTS.prometheusStack.releaseName);
    } else {
      expect(operator).toBeUndefined();
    }
  });

  it('leaves the platform Namespaces to the stacks: none in charts-out, the same names on both sides', () => {
    expect([...EXTERNAL_NAMESPACES].sort()).toEqual([...PLATFORM_NAMESPACES].sort());
    expect(chartObjects(name).filter((o) => o.kind === 'Namespace')).toEqual([]);
  });

  it('publishes the API through an Ingress of the controller the stacks install', () => {
    expect(env.ingress?.host, `${name} ingress host`).toBeDefined();
    expect(chartObjects(name).filter((o) => o.kind === 'Ingress')).toHaveLength(1);
    expect(DEFAULT_INGRESS.className).toBe(INGRESS.className);
    expect(DEFAULT_INGRESS.clusterIssuer).toBe(INGRESS.clusterIssuer);
    expect(DEFAULT_INGRESS.controller.namespace).toBe(INGRESS.namespace);
    expect(DEFAULT_INGRESS.controller.podLabels).toEqual(INGRESS.podLabels);
  });

  it('checks the scaler list of the KEDA version the stacks install', () => {
    expect(ADDON_CHARTS.keda.version.startsWith(`${KEDA_VERSION}.`)).toBe(true);
  });

  if (cfg.cluster === 'eks') {
    it("sizes the verifier's node pool limits as the stack's Karpenter NodePool", () => {
      const limits = env.capacity.nodePoolLimits;
      expect(limits, `${name} nodePoolLimits`).toBeDefined();
      expect(parseQuantity(limits!.cpu)).toBe(cfg.eks.karpenter.cpuLimit);
      expect(parseQuantity(limits!.memory)).toBe(cfg.eks.karpenter.memoryGiLimit * 2 ** 30);
    });

    it('places RDS and ElastiCache in the VPC range the NetworkPolicies allow', () => {
      const stores = env.dataStores;
      if (stores.mode !== 'external') throw new Error(`${name}: expected external data stores`);
      expect(stores.redis.cidrs).toContain(cfg.eks.vpcCidr);
      expect(stores.postgres.cidrs).toContain(cfg.eks.vpcCidr);
    });

    it('creates the ECR repository the image reference points at, in the stack region', () => {
      const m = /^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/(.+)$/.exec(env.imageRepository);
      expect(m, env.imageRepository).not.toBeNull();
      expect(m![1]).toBe(cfg.eks.region);
      expect(m![2]).toBe(cfg.eks.ecrRepository);
    });
  } else {
    it('points DATABASE_URL and REDIS_URL at the synthesized dev Services', () => {
      for (const [store, port] of [
        ['postgres', DEV_DATA_STORES.postgres.port],
        ['redis', DEV_DATA_STORES.redis.port],
      ] as const) {
        const svc = chartsOut(`${name}/jobplane.service.jobplane-${store}.yaml`);
        expect(`${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`).toBe(
          DEV_DATA_STORES[store].host,
        );
        expect(svc.spec.ports.map((p: { port: number }) => p.port)).toContain(port);
      }
      const sts = chartsOut(`${name}/jobplane.statefulset.jobplane-postgres.yaml`);
      const env0 = sts.spec.template.spec.containers[0].env as { name: string; value?: string }[];
      expect(env0.find((e) => e.name === 'POSTGRES_USER')?.value).toBe(DEV_DATA_STORES.postgres.username);
      expect(env0.find((e) => e.name === 'POSTGRES_DB')?.value).toBe(DEV_DATA_STORES.postgres.database);
    });
  }
});

/** Every object of `charts-out/<env>`. */
function chartObjects(environment: string): Record<string, any>[] {
  const dir = fileURLToPath(new URL(`../../charts-out/${environment}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
    .filter((o): o is Record<string, any> => o !== null && typeof o === 'object');
}

describe.each(INFRA_ENVIRONMENTS.map((env) => env.name))('ingress contract, %s', (name) => {
  const objects = chartObjects(name);

  it('routes every Ingress through the controller and issuer the stacks install', () => {
    for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
      const id = `${ing.metadata.namespace}/${ing.metadata.name}`;
      expect(ing.spec.ingressClassName, id).toBe(INGRESS.className);
      expect(ing.metadata.annotations?.['cert-manager.io/cluster-issuer'], id).toBe(INGRESS.clusterIssuer);
      expect(ing.spec.tls?.length, `${id} tls`).toBeGreaterThan(0);
    }
  });

  it('admits the ingress controller in NetworkPolicies by its real namespace and pod labels', () => {
    for (const np of objects.filter((o) => o.kind === 'NetworkPolicy')) {
      for (const rule of np.spec.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          const ns = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
          if (ns !== INGRESS.namespace) continue;
          expect(peer.podSelector?.matchLabels ?? {}, np.metadata.name).toMatchObject(INGRESS.podLabels);
        }
      }
    }
  });
});
