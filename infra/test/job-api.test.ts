import { ApiObject, JsonPatch } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { JobApi } from '../src/job-api.js';
import { verifyManifests } from '../src/verify/index.js';
import { IMAGE, envOf, find, podSpec, synth } from './helpers.js';

describe('JobApi', () => {
  const defaults = synth((s) => new JobApi(s, 'api', { image: IMAGE }));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('defaults: 2 replicas, safe rolling update, probes, preStop, secrets by reference', () => {
    const dep = find(defaults, 'Deployment', 'jobplane-api');
    const spec = dep['spec'] as Record<string, unknown>;
    expect(spec['replicas']).toBe(2);
    expect(spec['strategy']).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    const c = podSpec(dep).containers[0];
    expect(c.args).toEqual(['api']);
    expect(c.image).toBe('jobplane/runtime:0123abc');
    // cdk8s-plus takes probe ports as numbers: the container port of 'http'.
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 8080, scheme: 'HTTP' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 8080, scheme: 'HTTP' });
    expect(c.lifecycle.preStop.sleep.seconds).toBe(5);
    const env = envOf(c);
    expect(env['DATABASE_URL']).toEqual({ secretKeyRef: { name: 'jobplane-postgres', key: 'DATABASE_URL' } });
    expect(env['JOBPLANE_API_KEYS']).toEqual({
      secretKeyRef: { name: 'jobplane-api-keys', key: 'JOBPLANE_API_KEYS' },
    });
    expect(env['PORT']).toBe('8080');
    expect(podSpec(dep).affinity.podAntiAffinity).toBeDefined();
    expect(podSpec(dep).automountServiceAccountToken).toBe(false);
    expect(find(defaults, 'PodDisruptionBudget')['spec']).toMatchObject({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    expect(defaults.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it('is secure by default: restricted pod security context', () => {
    const spec = podSpec(find(defaults, 'Deployment'));
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
  });

  it('autoscaling adds an HPA and leaves replicas to it', () => {
    const objs = synth(
      (s) =>
        new JobApi(s, 'api', {
          image: IMAGE,
          autoscaling: { minReplicas: 2, maxReplicas: 5, cpuUtilization: 60 },
        }),
    );
    const hpa = find(objs, 'HorizontalPodAutoscaler')['spec'] as Record<string, unknown>;
    expect(hpa).toMatchObject({
      minReplicas: 2,
      maxReplicas: 5,
      scaleTargetRef: { kind: 'Deployment', name: 'jobplane-api' },
    });
    expect(JSON.stringify(hpa['metrics'])).toContain('"averageUtilization":60');
    expect((find(objs, 'Deployment')['spec'] as Record<string, unknown>)['replicas']).toBeUndefined();
  });

  it('honours name, namespace, replicas, resources, secrets, extraEnv and timing props', () => {
    const objs = synth(
      (s) =>
        new JobApi(s, 'api', {
          image: IMAGE,
          name: 'edge',
          namespace: 'other',
          replicas: 1,
          resources: { cpu: '1', memory: '1Gi', cpuLimit: '2' },
          secrets: { database: { name: 'db', key: 'url' } },
          extraEnv: { RATE_LIMIT_PER_MINUTE: '100' },
          preStopSeconds: 10,
          terminationGracePeriodSeconds: 40,
        }),
    );
    const dep = find(objs, 'Deployment', 'edge');
    expect(dep.metadata.namespace).toBe('other');
    const spec = podSpec(dep);
    expect(spec.terminationGracePeriodSeconds).toBe(40);
    expect(spec.affinity).toBeUndefined();
    const c = spec.containers[0];
    expect(c.resources).toEqual({
      // cdk8s-plus renders memory in Mi.
      requests: { cpu: '1', memory: '1024Mi' },
      limits: { cpu: '2', memory: '1024Mi' },
    });
    expect(c.lifecycle.preStop.sleep.seconds).toBe(10);
    expect(envOf(c)['DATABASE_URL']).toEqual({ secretKeyRef: { name: 'db', key: 'url' } });
    expect(envOf(c)['RATE_LIMIT_PER_MINUTE']).toBe('100');
    expect(find(objs, 'Service', 'edge')['spec']).toMatchObject({
      selector: { 'app.kubernetes.io/instance': 'edge' },
    });
  });

  it('exposes the Deployment as the Resource escape hatch', () => {
    const objs = synth((s) => {
      const api = new JobApi(s, 'api', { image: IMAGE });
      api.resource.addJsonPatch(JsonPatch.add('/spec/minReadySeconds', 7));
      // The child 'Resource' is the cdk8s-plus Deployment; `resource` is its L1.
      expect(ApiObject.of(api.node.findChild('Resource')) === api.resource).toBe(true);
    });
    expect((find(objs, 'Deployment')['spec'] as Record<string, unknown>)['minReadySeconds']).toBe(7);
  });

  it('passes the verifier when combined with its namespace and policies', async () => {
    const findings = await verifyManifests(defaults);
    // Standalone, only the NetworkPolicy and PriorityClass context is missing.
    expect([...new Set(findings.map((f) => f.rule))].sort()).toEqual(['N1', 'X-priority']);
  });

  it.each([
    [{ replicas: 0 }, `'replicas' (0) must be an integer ≥ 1`],
    [
      { autoscaling: { minReplicas: 3, maxReplicas: 2 } },
      `'autoscaling.maxReplicas' (2) must be ≥ 'autoscaling.minReplicas' (3)`,
    ],
    [
      { autoscaling: { maxReplicas: 4, cpuUtilization: 120 } },
      `'autoscaling.cpuUtilization' (120) must be an integer in [1, 100]`,
    ],
    [
      { preStopSeconds: 30, terminationGracePeriodSeconds: 30 },
      `'terminationGracePeriodSeconds' (30) must be > 'preStopSeconds' (30)`,
    ],
    [{ name: 'Bad_Name' }, `'name' ('Bad_Name') must be a lowercase RFC 1123 label`],
    [
      { image: { repository: 'jobplane/runtime', tag: 'latest' } },
      `'image.tag' ('latest') must be an explicit tag other than 'latest'`,
    ],
    [
      { image: { repository: 'jobplane/runtime:1', tag: 'x' } },
      `'image.repository' ('jobplane/runtime:1') must be a repository without a tag`,
    ],
    [{ extraEnv: { NOT_A_KEY: '1' } }, `'extraEnv.NOT_A_KEY' is not a runtime config key`],
    [{ extraEnv: { PORT: '1' } }, `'extraEnv.PORT' is set by the construct and cannot be overridden`],
    [{ extraEnv: { JOBPLANE_WEBHOOKS: '{}' } }, `'extraEnv.JOBPLANE_WEBHOOKS'`],
  ])('rejects %j', (props, message) => {
    expect(() => synth((s) => new JobApi(s, 'api', { image: IMAGE, ...props }))).toThrow(message);
  });
});
