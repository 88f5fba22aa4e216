import { describe, expect, it } from 'vitest';
import { generate } from '../scripts/gen-schema-fields.js';
import { DEPLOYMENT } from '../deploy/synth.js';
import { synthesizeEnvironment } from '../src/synth/synthesize.js';
import { type Finding, type Manifest, unknownFields, verifyManifests } from '../src/verify/index.js';
import { checkSchemas } from '../src/verify/schema.js';
import fields from '../src/verify/schema-fields.json' with { type: 'json' };
import { type AnyJson, find, podSpec } from './helpers.js';

const { catalog } = DEPLOYMENT;
const envNamed = (name: string) => DEPLOYMENT.environments.find((e) => e.name === name)!;
const base = synthesizeEnvironment(catalog, envNamed('dev'), 'abc');

/** Verifies a copy of dev after `plant` mutates it. */
async function planted(plant: (objects: Manifest[]) => void): Promise<Finding[]> {
  const objects = structuredClone(base);
  plant(objects);
  return verifyManifests(objects, { catalog });
}
const rules = (f: Finding[]) => [...new Set(f.map((x) => x.rule))].sort();
const api = (objects: Manifest[]) => find(objects, 'Deployment', 'jobplane-api');
const apiContainer = (objects: Manifest[]): AnyJson => podSpec(api(objects)).containers[0];

describe('verifyManifests: planted defects', () => {
  it('a clean environment has no findings', async () => {
    expect(await verifyManifests(base, { catalog })).toEqual([]);
  });

  it('catches a wrong Service selector', async () => {
    const f = await planted((o) => {
      (find(o, 'Service', 'jobplane-api')['spec'] as AnyJson).selector['app.kubernetes.io/instance'] =
        'jobplane-apj';
    });
    expect(rules(f)).toEqual(['K6-service']);
  });

  it('catches a Deployment whose selector does not match its pods, and a PDB selecting nothing', async () => {
    const f = await planted((o) => {
      (api(o)['spec'] as AnyJson).selector.matchLabels['app.kubernetes.io/component'] = 'x';
      (find(o, 'PodDisruptionBudget', 'jobplane-relay')['spec'] as AnyJson).selector.matchLabels[
        'app.kubernetes.io/component'
      ] = 'x';
    });
    expect(rules(f)).toEqual(['K6-selector', 'REF-pdb']);
  });

  it('catches a root container', async () => {
    const f = await planted((o) => {
      const c = apiContainer(o);
      c.securityContext.runAsUser = 0;
      c.securityContext.runAsNonRoot = false;
      c.securityContext.allowPrivilegeEscalation = true;
      c.securityContext.readOnlyRootFilesystem = false;
      c.securityContext.capabilities = { add: ['SYS_ADMIN'] };
    });
    expect(rules(f)).toEqual(['K1', 'P3', 'P6', 'P7', 'P8']);
  });

  it('catches an unknown field (which the upstream schema lets through)', async () => {
    const f = await planted((o) => {
      apiContainer(o).readinessProbes = {};
      (find(o, 'ScaledObject', 'jobplane-worker-default')['spec'] as AnyJson).minReplicas = 1;
    });
    expect(f.map((x) => x.message)).toEqual([
      "unknown field 'spec.template.spec.containers[0].readinessProbes' (not in the Deployment schema)",
      "unknown field 'spec.minReplicas' (not in the ScaledObject schema)",
    ]);
  });

  it('catches a literal secret: a Secret with data and a credential env value', async () => {
    const f = await planted((o) => {
      o.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'leak',
          namespace: 'jobplane',
          annotations: { 'argocd.argoproj.io/sync-wave': '-2' },
        },
        stringData: { k: 'v' },
      });
      const env = apiContainer(o).env as AnyJson[];
      env.find((e) => e.name === 'DATABASE_URL')!.valueFrom = undefined;
      env.find((e) => e.name === 'DATABASE_URL')!.value = 'postgres://u:p@h/db';
    });
    expect(rules(f)).toEqual(['K4', 'S1']);
  });

  it('catches names and label values the API server would refuse', async () => {
    const f = await planted((o) => {
      find(o, 'Service', 'jobplane-api').metadata.name = `jobplane-${'x'.repeat(55)}`;
      api(o).metadata['labels'] = { 'jobplane.dev/queue': 'q'.repeat(64) };
      find(o, 'Deployment', 'jobplane-relay').metadata.name = 'Relay';
    });
    expect(f.filter((x) => x.rule === 'V1-label').map((x) => x.message)).toEqual([
      `label jobplane.dev/queue='${'q'.repeat(64)}' has 64 characters (at most 63)`,
    ]);
    const messages = f.filter((x) => x.rule === 'V1-name').map((x) => x.message);
    expect(messages).toHaveLength(2);
    expect(messages).toEqual(
      expect.arrayContaining([
        "metadata.name 'Relay' (5 characters) must be a DNS subdomain of at most 253 characters",
        `metadata.name 'jobplane-${'x'.repeat(55)}' (64 characters) must be a DNS label of at most 63 characters`,
      ]),
    );
  });

  it('catches schema violations (wrong types)', async () => {
    const f = await planted((o) => {
      (api(o)['spec'] as AnyJson).replicas = 'two';
    });
    expect(rules(f)).toEqual(['V1']);
  });

  it('catches contract violations: unknown env, missing required env, bad value, unknown subcommand', async () => {
    const f = await planted((o) => {
      const c = apiContainer(o);
      c.env = (c.env as AnyJson[]).filter((e) => e.name !== 'REDIS_URL');
      c.env.push({ name: 'JOBPLANE_TYPO', value: '1' }, { name: 'WORKER_CONCURRENCY', value: 'many' });
      podSpec(find(o, 'Deployment', 'jobplane-relay')).containers[0].args = ['serve'];
    });
    expect(f.map((x) => x.message)).toEqual(
      expect.arrayContaining([
        "spec.template container 'api': env JOBPLANE_TYPO is not a runtime config key",
        `spec.template container 'api': env WORKER_CONCURRENCY="many" is rejected by the runtime config schema`,
        "spec.template container 'api': 'jobplane api' requires env REDIS_URL",
        expect.stringContaining(`args ["serve"] must be one jobplane subcommand`),
      ]),
    );
  });

  it('catches unknown KEDA scaler types and metadata, and a backlog that misses active jobs', async () => {
    const f = await planted((o) => {
      const triggers = (find(o, 'ScaledObject', 'jobplane-worker-default')['spec'] as AnyJson).triggers;
      triggers[0].metadata.query = 'sum(jobplane_queue_jobs{queue="default",state="waiting"})';
      triggers[0].metadata.serverAdress = 'x';
      (find(o, 'ScaledJob', 'jobplane-run-backtest-full')['spec'] as AnyJson).triggers[0].type = 'redis-list';
    });
    expect(f.filter((x) => x.rule === 'KEDA').map((x) => x.message)).toEqual([
      "unknown prometheus scaler metadata 'serverAdress'",
      expect.stringContaining('backlog query must count waiting + prioritized + active'),
      "unknown KEDA scaler type 'redis-list'",
    ]);
  });

  it('catches dangling references: Secret, ConfigMap, ServiceAccount, probe port, scale target, volume', async () => {
    const f = await planted((o) => {
      const c = apiContainer(o);
      (c.env as AnyJson[]).find((e) => e.name === 'REDIS_URL')!.valueFrom.secretKeyRef.name = 'redis-typo';
      c.readinessProbe.httpGet.port = 'web';
      podSpec(api(o)).serviceAccountName = 'ghost';
      podSpec(find(o, 'Deployment', 'jobplane-prometheus')).volumes[1].configMap.name = 'missing';
      (find(o, 'ScaledObject', 'jobplane-worker-backtest')['spec'] as AnyJson).scaleTargetRef.name =
        'nothing';
      c.volumeMounts.push({ name: 'nowhere', mountPath: '/x' });
    });
    expect(rules(f)).toEqual([
      'K6-probe-port',
      'K7',
      'REF-configmap',
      'REF-scale-target',
      'REF-secret',
      'REF-volume',
    ]);
  });

  it('catches drain, Job-bound, PDB, RBAC, automount, NetworkPolicy and sync-option defects', async () => {
    const f = await planted((o) => {
      podSpec(find(o, 'Deployment', 'jobplane-worker-default')).terminationGracePeriodSeconds = 60;
      (find(o, 'ScaledObject', 'jobplane-worker-default')['spec'] as AnyJson).cooldownPeriod = 10;
      delete (find(o, 'Job', 'jobplane-migrate')['spec'] as AnyJson).ttlSecondsAfterFinished;
      delete (find(o, 'Job', 'jobplane-migrate')['spec'] as AnyJson).activeDeadlineSeconds;
      (find(o, 'PodDisruptionBudget', 'jobplane-api')['spec'] as AnyJson).maxUnavailable = 0;
      (find(o, 'Role', 'jobplane-prometheus')['rules'] as AnyJson[]).push({
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['*'],
      });
      podSpec(find(o, 'Deployment', 'jobplane-relay')).automountServiceAccountToken = true;
      o.splice(
        o.indexOf(
          o.find(
            (x) =>
              x.kind === 'NetworkPolicy' &&
              x.metadata.name === 'default-deny' &&
              x.metadata.namespace === 'jobplane-jobs',
          )!,
        ),
        1,
      );
      delete find(o, 'ScaledJob', 'jobplane-run-backtest-full').metadata.annotations![
        'argocd.argoproj.io/sync-options'
      ];
    });
    expect(rules(f)).toEqual(['G1', 'J1', 'K5', 'K8', 'N1', 'RB1', 'RB2', 'SYNC-crd']);
  });

  it('rejects kinds it cannot validate and cluster-wide RBAC', async () => {
    const f = await planted((o) => {
      o.push({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w', namespace: 'jobplane' },
      });
      o.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'x', annotations: { 'argocd.argoproj.io/sync-wave': '-2' } },
        rules: [],
      });
    });
    expect(rules(f)).toEqual(['RB1', 'SYNC-wave', 'V1']);
  });

  it('verifies staging with operator objects', async () => {
    expect(
      await verifyManifests(synthesizeEnvironment(catalog, envNamed('staging'), 'abc'), { catalog }),
    ).toEqual([]);
  });
});

describe('schema packages', () => {
  it('reports a schema package that cannot be loaded once, by name, with the kinds it would check', async () => {
    const missing = (pkg: string) => (specifier: string) =>
      specifier === pkg || specifier.startsWith(`${pkg}/`)
        ? Promise.reject(
            Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/verify/schema.js`), {
              code: 'ERR_MODULE_NOT_FOUND',
            }),
          )
        : import(specifier);
    const f = await checkSchemas(base, missing('@kubernetes-models/keda'));
    expect(f).toEqual([
      {
        rule: 'V1',
        object: '@kubernetes-models/keda',
        message: expect.stringMatching(
          /^schema package '@kubernetes-models\/keda' cannot be loaded, so keda\.sh\/v1alpha1\/ScaledJob, keda\.sh\/v1alpha1\/ScaledObject cannot be validated: install it/,
        ),
      },
    ]);
    const core = await checkSchemas(base, missing('kubernetes-models'));
    expect(core).toHaveLength(1);
    expect(core[0]!.message).toContain("schema package 'kubernetes-models' cannot be loaded");
    expect(await checkSchemas(base)).toEqual([]);
  });
});

describe('strict field tree', () => {
  it('knows nested fields, maps and arrays', () => {
    const ok: Manifest = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', labels: { any: 'label' } },
      data: { 'free-form-key': 'v' },
    };
    expect(unknownFields(ok)).toEqual([]);
    expect(unknownFields({ ...ok, datas: {} })).toEqual(['datas']);
  });

  it('is up to date with the installed kubernetes-models (regenerate with infra/scripts/gen-schema-fields.ts)', () => {
    expect(JSON.parse(JSON.stringify(generate()))).toEqual(fields);
  });
});
