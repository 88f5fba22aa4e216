import { describe, expect, it } from 'vitest';
import { DEPLOYMENT } from '../deploy/synth.js';
import { ApiIngress } from '../src/api-ingress.js';
import { parseQuantity } from '../src/lib/quantity.js';
import { PRIORITY_CLASSES, PriorityClasses } from '../src/priority-classes.js';
import { synthesizeEnvironment } from '../src/synth/synthesize.js';
import { capacityReport, formatCapacityReport } from '../src/verify/index.js';
import { podTemplates, selects } from '../src/verify/types.js';
import { type AnyJson, find, podSpec, synth } from './helpers.js';

const { catalog } = DEPLOYMENT;
const envNamed = (name: string) => DEPLOYMENT.environments.find((e) => e.name === name)!;

describe('ApiIngress', () => {
  const props = {
    host: 'api.example.com',
    namespace: 'jobplane',
    service: { name: 'jobplane-api', portName: 'http' },
  };

  it('routes the host to the API Service over TLS issued by the cluster issuer', () => {
    const ing = find(
      synth((s) => new ApiIngress(s, 'i', props)),
      'Ingress',
    );
    expect(ing.metadata.annotations).toMatchObject({ 'cert-manager.io/cluster-issuer': 'jobplane' });
    expect(ing['spec']).toEqual({
      ingressClassName: 'traefik',
      tls: [{ hosts: ['api.example.com'], secretName: 'jobplane-api-tls' }],
      rules: [
        {
          host: 'api.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'jobplane-api', port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    });
  });

  it.each([
    '*.example.com',
    'API.example.com',
    'localhost',
    '10.0.0.1',
    'a..b',
    `${'x'.repeat(64)}.example.com`,
  ])('rejects host %s', (host) => {
    expect(() => synth((s) => new ApiIngress(s, 'i', { ...props, host }))).toThrow(
      `'host' ('${host}') must be a lower-case DNS name such as 'api.example.com' (no wildcard, no IP address)`,
    );
  });
});

describe('PriorityClasses', () => {
  it('orders platform > workers > batch; batch never preempts', () => {
    const objs = synth((s) => new PriorityClasses(s, 'p'));
    const value = (n: string) => Number(find(objs, 'PriorityClass', n)['value']);
    expect(value('jobplane-platform')).toBeGreaterThan(value('jobplane-workers'));
    expect(value('jobplane-workers')).toBeGreaterThan(value('jobplane-batch'));
    expect(find(objs, 'PriorityClass', 'jobplane-batch')['preemptionPolicy']).toBe('Never');
    expect(objs.every((o) => o['globalDefault'] === false)).toBe(true);
  });

  it.each([
    [
      { ...PRIORITY_CLASSES, batch: { ...PRIORITY_CLASSES.batch, value: 10_000 } },
      `'classes.batch.value' (10000) must be < 'classes.workers.value' (10000)`,
    ],
    [
      { ...PRIORITY_CLASSES, platform: { ...PRIORITY_CLASSES.platform, value: 2_000_000_000 } },
      `'classes.platform.value' (2000000000) must be an integer in [0, 1000000000]`,
    ],
    [
      { ...PRIORITY_CLASSES, workers: { ...PRIORITY_CLASSES.workers, name: 'system-x' } },
      `'classes.workers.name' ('system-x') must not start with 'system-'`,
    ],
  ])('rejects %#', (classes, message) => {
    expect(() => synth((s) => new PriorityClasses(s, 'p', { classes }))).toThrow(message);
  });
});

describe('JobPlatform scheduling', () => {
  it('gives every pod a PriorityClass: api/relay/data stores platform, workers, Jobs batch', () => {
    const dev = synthesizeEnvironment(catalog, envNamed('dev'), 'x');
    const prio = Object.fromEntries(
      dev
        .flatMap((o) => podTemplates(o as never))
        .map((t) => [t.owner.metadata.name, t.spec['priorityClassName']]),
    );
    expect(prio).toEqual({
      'jobplane-redis': 'jobplane-platform',
      'jobplane-postgres': 'jobplane-platform',
      'jobplane-prometheus': 'jobplane-platform',
      'jobplane-alertmanager': 'jobplane-platform',
      'jobplane-nats': 'jobplane-platform',
      'jobplane-migrate': 'jobplane-platform',
      'jobplane-api': 'jobplane-platform',
      'jobplane-relay': 'jobplane-platform',
      'jobplane-launcher': 'jobplane-platform',
      'jobplane-worker-default': 'jobplane-workers',
      'jobplane-worker-backtest': 'jobplane-workers',
      'jobplane-run-backtest-full': 'jobplane-batch',
    });
    expect(dev.some((o) => podTemplates(o as never).some((t) => t.spec['topologySpreadConstraints']))).toBe(
      false,
    );
  });

  it('spreads prod over zones: api and relay strictly, workers and Jobs preferred', () => {
    const prod = synthesizeEnvironment(catalog, envNamed('prod'), 'x');
    const spread = (kind: string, name: string): AnyJson =>
      podSpec(find(prod as never, kind, name)).topologySpreadConstraints[0];
    expect(spread('Deployment', 'jobplane-api')).toEqual({
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'api' }) },
    });
    expect(spread('Deployment', 'jobplane-relay').whenUnsatisfiable).toBe('DoNotSchedule');
    expect(spread('Deployment', 'jobplane-worker-default').whenUnsatisfiable).toBe('ScheduleAnyway');
    expect(spread('ScaledJob', 'jobplane-run-backtest-full').whenUnsatisfiable).toBe('ScheduleAnyway');
  });

  it('reports prod capacity: the ScaledJob fills the quota exactly, the total fits the node pool', () => {
    const prod = synthesizeEnvironment(catalog, envNamed('prod'), 'x');
    const r = capacityReport(prod as never, envNamed('prod').capacity);
    expect(r.quotas[0]).toMatchObject({ namespace: 'jobplane-jobs', cpu: { used: 40, hard: 40 } });
    expect(r.total.cpu).toBeCloseTo(78.3, 5);
    expect(r.total.cpu).toBeLessThanOrEqual(r.nodePoolLimits!.cpu);
    expect(formatCapacityReport(r)).toContain('quota jobplane-jobs: requests.cpu 40/40');
  });
});

describe('selects', () => {
  const labels = { app: 'api', tier: 'web' };
  it.each([
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'relay'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['api'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [
      { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] },
      false,
    ],
    [{ matchExpressions: [{ key: 'app', operator: 'Matches', values: ['api'] }] }, false],
    [{ app: 'api' }, true],
    [{}, false],
  ])('%j → %s', (selector, expected) => {
    expect(selects(selector, labels)).toBe(expected);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['2', 2],
    ['1.5', 1.5],
    ['512Mi', 512 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['1k', 1000],
    ['1e3', 1000],
    ['bad', undefined],
    ['1Gb', undefined],
  ])('%s → %s', (q, v) => {
    expect(parseQuantity(q)).toBe(v);
  });
});
