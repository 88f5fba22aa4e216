/**
 * One planted defect per rule of the verifier's table (verify/rules.ts): each plant mutates a copy
 * of a clean environment (or of the Argo CD objects) and the rule must report it. The table and
 * the plants must list the same ids, and the meta-test shows that disabling any single rule lets
 * its planted defect through, so no rule can be removed without a test failing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEPLOYMENT } from '../deploy/synth.js';
import { platformNamespaces } from '../src/synth/main.js';
import { synthesizeEnvironment, synthesizeGitOps } from '../src/synth/synthesize.js';
import {
  BUILTIN_RULES,
  EXTERNAL_SECRETS,
  type Finding,
  type Manifest,
  renderRuleTable,
  verifyGitOps,
  verifyManifests,
} from '../src/verify/index.js';
import { type AnyJson, find, podSpec } from './helpers.js';

type Base = 'dev' | 'prod' | 'gitops';
type Plant = readonly [Base, (objects: Manifest[]) => void];

const { catalog } = DEPLOYMENT;
const envNamed = (name: string) => DEPLOYMENT.environments.find((e) => e.name === name)!;
const bases: Record<Base, Manifest[]> = {
  dev: synthesizeEnvironment(catalog, envNamed('dev'), 'abc') as Manifest[],
  prod: synthesizeEnvironment(catalog, envNamed('prod'), 'abc') as Manifest[],
  gitops: [...synthesizeGitOps(DEPLOYMENT.environments).values()].flat() as Manifest[],
};

async function verify(base: Base, objects: Manifest[], disable: string[] = []): Promise<Finding[]> {
  if (base === 'gitops') {
    return verifyGitOps(objects, {
      disable,
      paths: {
        folders: new Set(['argocd/apps', ...DEPLOYMENT.environments.map((e) => `charts-out/${e.name}`)]),
        environments: DEPLOYMENT.environments.map((e) => ({
          name: e.name,
          cluster: e.argocdCluster,
          namespace: platformNamespaces(e)[0]!,
        })),
      },
    });
  }
  const env = envNamed(base);
  return verifyManifests(objects, {
    catalog,
    disable,
    external: { secrets: EXTERNAL_SECRETS, namespaces: platformNamespaces(env) },
    environment: {
      capacity: env.capacity,
      ...(env.scheduling?.zoneSpread ? { zoneSpread: env.scheduling.zoneSpread } : {}),
    },
  });
}

const spec = (o: Manifest): AnyJson => o['spec'];
const api = (o: Manifest[]) => find(o, 'Deployment', 'jobplane-api');
const c0 = (o: Manifest[], name = 'jobplane-api'): AnyJson =>
  podSpec(find(o, 'Deployment', name)).containers[0];
const sc = (o: Manifest[]): AnyJson => c0(o).securityContext;
const worker = (o: Manifest[]) => find(o, 'Deployment', 'jobplane-worker-default');
const scaledJob = (o: Manifest[]) => find(o, 'ScaledJob', 'jobplane-run-backtest-full');
const wave = (w: string) => ({ 'argocd.argoproj.io/sync-wave': w });
const remove = (o: Manifest[], pick: (x: Manifest) => boolean) => o.splice(o.findIndex(pick), 1);

/** Rule id → the defect that only it catches. */
const PLANTS: Record<string, Plant> = {
  V1: ['dev', (o) => void (spec(api(o)).replicas = 'two')],
  'V1-strict': ['dev', (o) => void (c0(o).readinessProbes = {})],
  'V1-name': ['dev', (o) => void (find(o, 'Deployment', 'jobplane-relay').metadata.name = 'Relay')],
  'V1-label': ['dev', (o) => void (api(o).metadata.labels!['jobplane.dev/queue'] = 'q'.repeat(64))],
  'V1-dup': ['dev', (o) => void o.push(structuredClone(find(o, 'Service', 'jobplane-api')))],
  'API-port': ['dev', (o) => void c0(o).ports.push({ name: 'extra', containerPort: 70000, protocol: 'TCP' })],
  'API-port-dup': [
    'dev',
    (o) => void c0(o).ports.push({ name: 'http', containerPort: 8081, protocol: 'TCP' }),
  ],
  'API-resources': ['dev', (o) => void (c0(o).resources.requests.memory = '1Gi')],
  'API-env': [
    'dev',
    (o) => {
      const e = (c0(o).env as AnyJson[]).find((x) => x.name === 'LOG_LEVEL');
      e.valueFrom = { fieldRef: { fieldPath: 'metadata.name' } };
    },
  ],
  'API-handler': ['dev', (o) => void (c0(o).readinessProbe.tcpSocket = { port: 'http' })],
  'API-rollout': ['dev', (o) => void (spec(api(o)).strategy.rollingUpdate.maxSurge = 0)],
  'API-scale-bounds': ['prod', (o) => void (spec(find(o, 'HorizontalPodAutoscaler')).minReplicas = 20)],
  'REF-namespace': [
    'dev',
    (o) =>
      void o.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x', namespace: 'nowhere', annotations: wave('-2') },
      }),
  ],
  'REF-service': ['dev', (o) => void (spec(find(o, 'StatefulSet', 'jobplane-redis')).serviceName = 'ghost')],
  'REF-pdb': [
    'dev',
    (o) =>
      void (spec(find(o, 'PodDisruptionBudget', 'jobplane-relay')).selector.matchLabels[
        'app.kubernetes.io/component'
      ] = 'x'),
  ],
  'REF-scale-target': [
    'dev',
    (o) => void (spec(find(o, 'ScaledObject', 'jobplane-worker-backtest')).scaleTargetRef.name = 'nothing'),
  ],
  'REF-configmap': [
    'dev',
    (o) => void (podSpec(find(o, 'Deployment', 'jobplane-prometheus')).volumes[1].configMap.name = 'missing'),
  ],
  'REF-secret': [
    'dev',
    (o) =>
      void ((c0(o).env as AnyJson[]).find((e) => e.name === 'REDIS_URL').valueFrom.secretKeyRef.name =
        'redis-typo'),
  ],
  'REF-volume': ['dev', (o) => void c0(o).volumeMounts.push({ name: 'nowhere', mountPath: '/x' })],
  'REF-role': [
    'dev',
    (o) => void ((o.find((x) => x.kind === 'RoleBinding')!['roleRef'] as AnyJson).name = 'ghost'),
  ],
  'REF-subject': [
    'dev',
    (o) => void ((o.find((x) => x.kind === 'RoleBinding')!['subjects'] as AnyJson)[0].name = 'ghost'),
  ],
  'REF-ingress': [
    'prod',
    (o) => void (spec(find(o, 'Ingress')).rules[0].http.paths[0].backend.service.port.name = 'https'),
  ],
  K7: ['dev', (o) => void (podSpec(api(o)).serviceAccountName = 'ghost')],
  'K6-selector': [
    'dev',
    (o) => void (spec(api(o)).selector.matchLabels['app.kubernetes.io/instance'] = 'jobplane-apj'),
  ],
  'K6-service': [
    'dev',
    (o) =>
      void (spec(find(o, 'Service', 'jobplane-api')).selector['app.kubernetes.io/instance'] = 'jobplane-apj'),
  ],
  'K6-target-port': [
    'dev',
    (o) => void (spec(find(o, 'Service', 'jobplane-api')).ports[0].targetPort = 'web'),
  ],
  'K6-probe-port': ['dev', (o) => void (c0(o).readinessProbe.httpGet.port = 'web')],
  N1: [
    'dev',
    (o) =>
      void remove(
        o,
        (x) =>
          x.kind === 'NetworkPolicy' &&
          x.metadata.name === 'default-deny' &&
          x.metadata.namespace === 'jobplane-jobs',
      ),
  ],
  'X-monitor-port': [
    'prod',
    (o) => void (spec(find(o, 'ServiceMonitor', 'jobplane-api')).endpoints[0].port = 'metricz'),
  ],
  'X-scalers': [
    'prod',
    (o) => {
      const so = structuredClone(find(o, 'ScaledObject', 'jobplane-worker-default'));
      so.metadata.name = 'jobplane-api';
      spec(so).scaleTargetRef.name = 'jobplane-api';
      o.push(so);
    },
  ],
  'X-replicas': ['prod', (o) => void (spec(worker(o)).replicas = 2)],
  'X-priority': ['dev', (o) => void (podSpec(api(o)).priorityClassName = 'ghost')],
  'X-priority-order': ['dev', (o) => void (podSpec(worker(o)).priorityClassName = 'jobplane-platform')],
  'X-spread': [
    'prod',
    (o) =>
      void (podSpec(api(o)).topologySpreadConstraints[0].labelSelector.matchLabels[
        'app.kubernetes.io/component'
      ] = 'x'),
  ],
  'X-zone-spread': [
    'prod',
    (o) => void delete podSpec(find(o, 'Deployment', 'jobplane-relay')).topologySpreadConstraints,
  ],
  'CAP-fit': ['prod', (o) => void (podSpec(scaledJob(o)).containers[0].resources.requests.memory = '60Gi')],
  'CAP-pool': [
    'prod',
    (o) => void (spec(find(o, 'ScaledObject', 'jobplane-worker-default')).maxReplicaCount = 300),
  ],
  'CAP-quota': ['prod', (o) => void (spec(scaledJob(o)).maxReplicaCount = 21)],
  S1: [
    'dev',
    (o) =>
      void o.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'leak', namespace: 'jobplane', annotations: wave('-2') },
        stringData: { k: 'v' },
      }),
  ],
  OWN1: [
    'dev',
    (o) =>
      void o.push({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'jobplane',
          annotations: wave('-2'),
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'v1.34',
          },
        },
      }),
  ],
  P1: ['dev', (o) => void (podSpec(api(o)).hostNetwork = true)],
  P2: ['dev', (o) => void (sc(o).privileged = true)],
  P3: ['dev', (o) => void (sc(o).capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] })],
  P4: ['dev', (o) => void podSpec(api(o)).volumes.push({ name: 'host', hostPath: { path: '/var/run' } })],
  P5: ['dev', (o) => void (c0(o).ports[0].hostPort = 8080)],
  P6: ['dev', (o) => void (sc(o).allowPrivilegeEscalation = true)],
  P7: ['dev', (o) => void (sc(o).runAsNonRoot = false)],
  P8: ['dev', (o) => void (podSpec(api(o)).securityContext.runAsUser = 0)],
  P9: ['dev', (o) => void (sc(o).seccompProfile = { type: 'Unconfined' })],
  P10: ['dev', (o) => void (sc(o).seLinuxOptions = { type: 'spc_t' })],
  P11: [
    'dev',
    (o) => void (podSpec(api(o)).securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]),
  ],
  P12: ['dev', (o) => void (sc(o).appArmorProfile = { type: 'Unconfined' })],
  P13: ['dev', (o) => void (c0(o).livenessProbe.httpGet.host = 'example.com')],
  P14: [
    'dev',
    (o) =>
      void o.push({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'extra', annotations: wave('-2') },
      }),
  ],
  K1: ['dev', (o) => void (sc(o).readOnlyRootFilesystem = false)],
  K2: ['dev', (o) => void delete c0(o).resources.requests.cpu],
  K3: ['dev', (o) => void (c0(o).image = 'jobplane/runtime:latest')],
  K4: ['dev', (o) => void c0(o).env.push({ name: 'LOG_LEVEL', value: 'info' })],
  K5: ['dev', (o) => void delete spec(find(o, 'Job', 'jobplane-migrate')).ttlSecondsAfterFinished],
  K8: ['dev', (o) => void (spec(find(o, 'PodDisruptionBudget', 'jobplane-api')).maxUnavailable = 0)],
  RB1: [
    'dev',
    (o) =>
      void o.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'x', annotations: wave('-2') },
        rules: [],
      }),
  ],
  RB2: [
    'dev',
    (o) => void (podSpec(find(o, 'Deployment', 'jobplane-relay')).automountServiceAccountToken = true),
  ],
  J1: ['dev', (o) => void delete spec(find(o, 'Job', 'jobplane-migrate')).activeDeadlineSeconds],
  G1: ['dev', (o) => void (podSpec(worker(o)).terminationGracePeriodSeconds = 60)],
  'SYNC-wave': [
    'dev',
    (o) =>
      void delete find(o, 'Service', 'jobplane-api').metadata.annotations!['argocd.argoproj.io/sync-wave'],
  ],
  'SYNC-crd': [
    'dev',
    (o) => void delete scaledJob(o).metadata.annotations!['argocd.argoproj.io/sync-options'],
  ],
  'SYNC-order': [
    'dev',
    (o) =>
      void (find(o, 'PriorityClass', 'jobplane-workers').metadata.annotations![
        'argocd.argoproj.io/sync-wave'
      ] = '1'),
  ],
  'C-command': ['dev', (o) => void (c0(o, 'jobplane-relay').args = ['serve'])],
  'C-env': ['dev', (o) => void c0(o).env.push({ name: 'JOBPLANE_TYPO', value: '1' })],
  'C-queue': [
    'dev',
    (o) =>
      void ((c0(o, 'jobplane-worker-default').env as AnyJson[]).find(
        (e) => e.name === 'WORKER_QUEUES',
      ).value = 'backtest-full'),
  ],
  'C-port': ['dev', (o) => void (c0(o).ports[0].containerPort = 8081)],
  // `stan` was a scaler of KEDA 2.17 and is gone in 2.21, the version the stacks install.
  KEDA: ['dev', (o) => void (spec(scaledJob(o)).triggers[0].type = 'stan')],
  A1: [
    'gitops',
    (o) =>
      void (spec(o.find((x) => x.kind === 'Application' && x.metadata.name === 'jobplane-dev')!).project =
        'default'),
  ],
  'A1-path': [
    'gitops',
    (o) =>
      void (spec(o.find((x) => x.kind === 'Application' && x.metadata.name === 'jobplane-dev')!).source.path =
        'charts-out/prod'),
  ],
};

const ids = BUILTIN_RULES.map((r) => r.id);

describe('the rule table', () => {
  it('has one planted defect per rule, and no plant without a rule', () => {
    expect(Object.keys(PLANTS).sort()).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is rendered in docs/infra.md (regenerate with `npx tsx infra/scripts/render-rule-table.ts`)', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/infra.md', import.meta.url)), 'utf8');
    expect(doc).toContain(`<!-- rules:start -->\n${renderRuleTable()}\n<!-- rules:end -->`);
  });

  it.each(['dev', 'prod', 'gitops'] as const)('finds nothing in the clean %s objects', async (base) => {
    expect(await verify(base, structuredClone(bases[base]))).toEqual([]);
  });
});

describe.each(ids.map((id) => [id, PLANTS[id]!] as const))('rule %s', (id, [base, plant]) => {
  const planted = () => {
    const objects = structuredClone(bases[base]);
    plant(objects);
    return objects;
  };

  it('reports its planted defect', async () => {
    expect((await verify(base, planted())).map((f) => f.rule)).toContain(id);
  });

  it('disabled, lets its planted defect through (so removing it fails the test above)', async () => {
    const findings = await verify(base, planted(), [id]);
    expect(findings.filter((f) => f.rule === id)).toEqual([]);
  });
});

describe('disable', () => {
  it('refuses an id that is not a rule', async () => {
    await expect(verifyManifests([], { disable: ['P99'] })).rejects.toThrow(
      "'disable' names 'P99', which is not a verifier rule",
    );
  });
});
