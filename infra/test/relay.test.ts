import { describe, expect, it } from 'vitest';
import { Relay } from '../src/relay.js';
import { PlatformServiceAccount } from '../src/service-account.js';
import { type AnyJson, IMAGE, envOf, find, podSpec, synth } from './helpers.js';

describe('Relay', () => {
  const defaults = synth((s) => new Relay(s, 'r', { image: IMAGE }));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('defaults: one `jobplane relay` replica with metrics port, probes, PDB and metrics Service', () => {
    const dep = find(defaults, 'Deployment', 'jobplane-relay');
    expect((dep['spec'] as AnyJson).replicas).toBe(1);
    const c = podSpec(dep).containers[0];
    expect(c.args).toEqual(['relay']);
    expect(envOf(c)).toMatchObject({
      METRICS_PORT: '9464',
      REDIS_URL: { secretKeyRef: { name: 'jobplane-redis', key: 'REDIS_URL' } },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 9464, scheme: 'HTTP' });
    expect(podSpec(dep).affinity).toBeUndefined();
    expect(find(defaults, 'Service', 'jobplane-relay-metrics')['spec']).toMatchObject({ clusterIP: 'None' });
    expect(find(defaults, 'PodDisruptionBudget', 'jobplane-relay')['spec']).toMatchObject({
      maxUnavailable: 1,
    });
  });

  it('two replicas spread over nodes; name, namespace, resources, secrets and extraEnv apply', () => {
    const objs = synth(
      (s) =>
        new Relay(s, 'r', {
          image: IMAGE,
          replicas: 2,
          name: 'relay-b',
          namespace: 'ns',
          resources: { cpu: '10m', memory: '64Mi' },
          secrets: { redis: { name: 'r', key: 'u' } },
          extraEnv: { RELAY_POLL_MS: '250' },
        }),
    );
    const dep = find(objs, 'Deployment', 'relay-b');
    expect(dep.metadata.namespace).toBe('ns');
    expect(podSpec(dep).affinity.podAntiAffinity).toBeDefined();
    const c = podSpec(dep).containers[0];
    expect(c.resources.requests).toEqual({ cpu: '10m', memory: '64Mi' });
    expect(envOf(c)).toMatchObject({
      RELAY_POLL_MS: '250',
      REDIS_URL: { secretKeyRef: { name: 'r', key: 'u' } },
    });
  });

  it.each([
    [{ replicas: 3 }, `'replicas' (3) must be an integer in [1, 2]`],
    [
      { extraEnv: { RELAY_IN_PROCESS: 'true', REDIS_URL: 'redis://x' } },
      `'extraEnv.REDIS_URL' is set by the construct`,
    ],
  ])('rejects %j', (props, message) => {
    expect(() => synth((s) => new Relay(s, 'r', { image: IMAGE, ...props }))).toThrow(message);
  });
});

describe('PlatformServiceAccount', () => {
  it('never auto-mounts its token and carries cloud IAM annotations', () => {
    const objs = synth(
      (s) =>
        new PlatformServiceAccount(s, 'sa', {
          name: 'w',
          namespace: 'ns',
          annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' },
        }),
    );
    expect(objs).toMatchSnapshot();
    const sa = find(objs, 'ServiceAccount', 'w');
    expect(sa['automountServiceAccountToken']).toBe(false);
    expect(sa.metadata.annotations).toMatchObject({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x',
      'argocd.argoproj.io/sync-wave': '-2',
    });
  });

  it('rejects an invalid name', () => {
    expect(() => synth((s) => new PlatformServiceAccount(s, 'sa', { name: 'W', namespace: 'ns' }))).toThrow(
      `'name' ('W') must be a lowercase RFC 1123 label`,
    );
  });
});
