/**
 * Policy assertions shared by the stack tests (kind and EKS). Each throws (via expect) when the
 * program breaks the rule, so the tests fail on the rule, not only on a missing resource.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EXACT_SEMVER } from '../src/addon-charts.js';
import { GIT_REPO_URL, PLATFORM_NAMESPACES } from '../src/config.js';
import type { ProgramRun, RecordedResource } from './mocks.js';

/** Every Helm release names an exact chart version (no range) and an https repository or an OCI chart. */
export function assertPinnedReleases(run: ProgramRun, cluster: 'kind' | 'eks'): RecordedResource[] {
  const releases = run.ofType('kubernetes:helm.sh/v3:Release');
  const everywhere = ['argo-cd', 'cert-manager', 'keda', 'metrics-server', 'traefik'];
  expect(releases.map((r) => r.inputs.chart).sort()).toEqual(
    cluster === 'kind'
      ? everywhere
      : [...everywhere, 'kube-prometheus-stack', 'oci://public.ecr.aws/karpenter/karpenter'].sort(),
  );
  for (const r of releases) {
    expect(r.inputs.version, r.name).toMatch(EXACT_SEMVER);
    if (String(r.inputs.chart).startsWith('oci://')) expect(r.inputs.repositoryOpts, r.name).toBeUndefined();
    else expect(r.inputs.repositoryOpts.repo, r.name).toMatch(/^https:\/\//);
  }
  return releases;
}

/** The one Helm release of a chart. */
export function release(run: ProgramRun, chart: string): RecordedResource {
  const found = run.ofType('kubernetes:helm.sh/v3:Release').filter((r) => r.inputs.chart === chart);
  expect(found, chart).toHaveLength(1);
  return found[0]!;
}

/**
 * Ingress on every cluster: Traefik serves the `traefik` class, cert-manager installs its CRDs, and
 * the `jobplane` ClusterIssuer is created after the cert-manager release.
 */
export function assertIngress(run: ProgramRun, issuer: 'selfSigned' | 'acme'): void {
  const traefik = release(run, 'traefik');
  expect(traefik.inputs).toMatchObject({ name: 'traefik', namespace: 'traefik', createNamespace: true });
  expect(traefik.inputs.values.ingressClass).toEqual({
    enabled: true,
    isDefaultClass: false,
    name: 'traefik',
  });
  expect(traefik.inputs.values.providers.kubernetesIngress.enabled).toBe(true);
  const cm = release(run, 'cert-manager');
  expect(cm.inputs).toMatchObject({ name: 'cert-manager', namespace: 'cert-manager' });
  expect(cm.inputs.values.crds).toEqual({ enabled: true, keep: true });
  const [ci, ...more] = run.ofType('kubernetes:cert-manager.io/v1:ClusterIssuer');
  expect(more).toEqual([]);
  expect(ci!.inputs.metadata.name).toBe('jobplane');
  expect(Object.keys(ci!.inputs.spec)).toEqual([issuer]);
}

/** The AppProject and the root Application are applied, pointing at this repository's argocd/apps. */
export function assertBootstrap(run: ProgramRun, environment: string): void {
  const projects = run.ofType('kubernetes:argoproj.io/v1alpha1:AppProject');
  expect(projects.map((p) => p.inputs.metadata.name).sort()).toEqual(['default', 'jobplane']);
  const project = projects.find((p) => p.inputs.metadata.name === 'jobplane')!;
  expect(project.inputs.metadata.namespace).toBe('argocd');
  expect(project.inputs.spec.sourceRepos).toEqual([GIT_REPO_URL]);
  // Argo CD's own `default` project is locked down (checklist A1), taken over with patchForce.
  const locked = projects.find((p) => p.inputs.metadata.name === 'default')!;
  expect(locked.inputs.spec).toMatchObject({ sourceRepos: [], destinations: [] });
  for (const p of projects) expect(p.inputs.metadata.annotations['pulumi.com/patchForce']).toBe('true');
  const [root, ...moreApps] = run.ofType('kubernetes:argoproj.io/v1alpha1:Application');
  expect(moreApps).toEqual([]);
  expect(root!.inputs.spec.project).toBe('jobplane');
  expect(root!.inputs.spec.source.repoURL).toBe(GIT_REPO_URL);
  expect(root!.inputs.spec.source.path.replace(/\/$/, '')).toBe('argocd/apps');
  expect(root!.inputs.metadata.namespace).toBe('argocd');
  // The cluster syncs only its own environment's Application from argocd/apps.
  expect(root!.inputs.spec.source.directory.include).toBe(`${environment}.yaml`);
  // The cluster is registered in its own Argo CD under the name the environment's Application targets.
  const clusters = run
    .ofType('kubernetes:core/v1:Secret')
    .filter((s) => s.inputs.metadata.labels?.['argocd.argoproj.io/secret-type'] === 'cluster');
  expect(clusters).toHaveLength(1);
  expect(clusters[0]!.inputs.metadata.namespace).toBe('argocd');
  expect(clusters[0]!.inputs.stringData).toMatchObject({
    name: `jobplane-${environment}`,
    server: 'https://kubernetes.default.svc',
  });
  expect(JSON.parse(clusters[0]!.inputs.stringData.config)).toEqual({ tlsClientConfig: { insecure: false } });
  expect(run.outputs.rootApplication).toBe(root!.inputs.metadata.name);
}

/** The `stringData` of a platform Secret in a namespace. */
export function secretData(run: ProgramRun, namespace: string, name: string): Record<string, string> {
  const found = run
    .ofType('kubernetes:core/v1:Secret')
    .filter((s) => s.inputs.metadata.name === name && s.inputs.metadata.namespace === namespace);
  expect(found, `${namespace}/${name}`).toHaveLength(1);
  expect(found[0]!.secretPaths, `${namespace}/${name} stringData is secret`).toContain('stringData');
  return found[0]!.inputs.stringData as Record<string, string>;
}

/**
 * Pulumi owns the platform Namespaces (restricted Pod Security Standard, pinned to the cluster
 * version) and marks them, like its Secrets, as never to be pruned or deleted by Argo CD.
 */
export function assertPlatformNamespaces(run: ProgramRun, kubernetesVersion: string): void {
  const namespaces = run.ofType('kubernetes:core/v1:Namespace');
  expect(namespaces.map((n) => n.inputs.metadata.name).sort()).toEqual([...PLATFORM_NAMESPACES].sort());
  for (const ns of namespaces) {
    for (const mode of ['enforce', 'audit', 'warn']) {
      expect(ns.inputs.metadata.labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
      expect(ns.inputs.metadata.labels[`pod-security.kubernetes.io/${mode}-version`]).toBe(
        `v${kubernetesVersion}`,
      );
    }
    expect(ns.inputs.metadata.annotations['argocd.argoproj.io/sync-options']).toBe(
      'Prune=false,Delete=false',
    );
  }
  for (const s of run
    .ofType('kubernetes:core/v1:Secret')
    .filter((x) => x.inputs.metadata.namespace !== 'argocd')) {
    expect(s.inputs.metadata.annotations['argocd.argoproj.io/sync-options'], s.name).toBe(
      'Prune=false,Delete=false',
    );
  }
}

/** Platform Secrets: API keys stay out of the Jobs namespace. */
export function assertPlatformSecrets(run: ProgramRun, inClusterStores: boolean): void {
  const where = run
    .ofType('kubernetes:core/v1:Secret')
    .filter((s) => s.inputs.metadata.namespace !== 'argocd')
    .map((s) => `${s.inputs.metadata.namespace}/${s.inputs.metadata.name}`)
    .sort();
  expect(where).toEqual(
    [
      'jobplane-jobs/jobplane-postgres',
      'jobplane-jobs/jobplane-redis',
      'jobplane/jobplane-api-keys',
      'jobplane/jobplane-postgres',
      'jobplane/jobplane-redis',
      ...(inClusterStores ? ['jobplane/jobplane-postgres-credentials'] : []),
    ].sort(),
  );
}

/** AWS resource types that have no `tags` argument (checked against @pulumi/aws 7 *Args). */
export const NON_TAGGABLE_AWS_TYPES = new Set([
  'aws:ec2/routeTableAssociation:RouteTableAssociation',
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  'aws:kms/alias:Alias',
  'aws:ecr/lifecyclePolicy:LifecyclePolicy',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:sqs/queuePolicy:QueuePolicy',
  'aws:cloudwatch/eventTarget:EventTarget',
]);

/** Every taggable AWS resource carries the project, environment and managed-by tags. */
export function assertTagged(run: ProgramRun, expected: Record<string, string>): void {
  const aws = run.resources.filter((r) => r.type.startsWith('aws:'));
  expect(aws.length).toBeGreaterThan(20);
  for (const r of aws) {
    if (NON_TAGGABLE_AWS_TYPES.has(r.type)) continue;
    expect(r.inputs.tags, `${r.type} ${r.name} tags`).toMatchObject(expected);
  }
  const [provider] = run.ofType('pulumi:providers:aws');
  expect(JSON.parse(provider!.inputs.defaultTags).tags).toMatchObject(expected);
}

/** The subnet ids whose route table sends 0.0.0.0/0 to a NAT gateway and never to an internet gateway. */
export function privateSubnetIds(run: ProgramRun): Set<string> {
  const tables = new Map(run.ofType('aws:ec2/routeTable:RouteTable').map((t) => [t.id, t]));
  const ids = new Set<string>();
  for (const assoc of run.ofType('aws:ec2/routeTableAssociation:RouteTableAssociation')) {
    const routes = (tables.get(assoc.inputs.routeTableId)?.inputs.routes ?? []) as Record<string, string>[];
    const viaIgw = routes.some((r) => r.gatewayId?.startsWith('igw-'));
    const viaNat = routes.some((r) => r.cidrBlock === '0.0.0.0/0' && r.natGatewayId?.startsWith('nat-'));
    const subnet = run.byId(assoc.inputs.subnetId);
    if (!viaIgw && viaNat && subnet?.inputs.mapPublicIpOnLaunch === false) ids.add(assoc.inputs.subnetId);
  }
  return ids;
}

/** A security group admits traffic only on `port` from other security groups, never from CIDRs. */
export function assertOnlyFromSecurityGroup(sg: RecordedResource, port: number, sourceSg: string): void {
  expect(sg.inputs.ingress).toHaveLength(1);
  const [rule] = sg.inputs.ingress;
  expect(rule).toMatchObject({ protocol: 'tcp', fromPort: port, toPort: port, securityGroups: [sourceSg] });
  expect(rule.cidrBlocks ?? []).toEqual([]);
  expect(rule.ipv6CidrBlocks ?? []).toEqual([]);
  expect(sg.inputs.egress).toEqual([]);
}

/** Every `secretKeyRef` (non-optional) in `charts-out/<env>`, as `namespace/secret:key`. */
export function chartSecretRefs(environment: string): string[] {
  const dir = fileURLToPath(new URL(`../../charts-out/${environment}/`, import.meta.url));
  const refs = new Set<string>();
  const walk = (node: unknown, namespace: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, namespace));
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const ref = o['secretKeyRef'] as { name?: string; key?: string; optional?: boolean } | undefined;
    if (ref && !ref.optional) refs.add(`${namespace}/${ref.name}:${ref.key}`);
    for (const v of Object.values(o)) walk(v, namespace);
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = doc.toJS() as { metadata?: { namespace?: string } } | null;
      if (obj) walk(obj, obj.metadata?.namespace ?? '');
    }
  }
  return [...refs].sort();
}

/** The program writes every Secret key the synthesized manifests of `environment` reference. */
export function assertSecretsCoverCharts(run: ProgramRun, environment: string): void {
  const refs = chartSecretRefs(environment);
  expect(refs.length).toBeGreaterThan(3);
  for (const ref of refs) {
    const [, namespace, name, key] = /^(.*)\/(.*):(.*)$/.exec(ref)!;
    expect(secretData(run, namespace!, name!)[key!], ref).toBeTruthy();
  }
}
