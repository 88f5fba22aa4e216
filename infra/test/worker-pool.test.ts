import { defineCatalog, drainContract } from '@jobplane/sdk';
import { MAX_QUEUE_NAME_LENGTH } from '@jobplane/sdk/contract';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/worker-pool.js';
import { IMAGE, TEST_CATALOG, envOf, find, podSpec, synth, testJobType, type AnyJson } from './helpers.js';

const catalog = TEST_CATALOG;

describe('WorkerPool', () => {
  const defaults = synth((s) => new WorkerPool(s, 'w', { image: IMAGE, catalog, queue: 'default' }));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('derives grace period, preStop and DRAIN_TIMEOUT_SECONDS from the drain contract', () => {
    const drain = drainContract(catalog, 'default');
    const spec = podSpec(find(defaults, 'Deployment', 'jobplane-worker-default'));
    expect(spec.terminationGracePeriodSeconds).toBe(drain.terminationGracePeriodSeconds);
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(drain.drainSeconds + 10);
    const c = spec.containers[0];
    expect(c.lifecycle.preStop.sleep.seconds).toBe(drain.preStopSeconds);
    const env = envOf(c);
    expect(env['DRAIN_TIMEOUT_SECONDS']).toBe(String(drain.drainSeconds));
    expect(env['WORKER_QUEUES']).toBe('default');
    expect(env['WORKER_CONCURRENCY']).toBe('10');
    expect(env['METRICS_PORT']).toBe('9464');
    expect(c.args).toEqual(['worker']);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 9464, scheme: 'HTTP' });
  });

  it('defaults to 1 fixed replica, a PDB and a metrics Service, no scaler', () => {
    expect((find(defaults, 'Deployment')['spec'] as Record<string, unknown>)['replicas']).toBe(1);
    expect(find(defaults, 'PodDisruptionBudget')['spec']).toMatchObject({ maxUnavailable: 1 });
    expect(find(defaults, 'Service', 'jobplane-worker-default-metrics')['spec']).toMatchObject({
      clusterIP: 'None',
    });
    expect(defaults.some((o) => o.kind === 'ScaledObject')).toBe(false);
  });

  it('with scaling, a ScaledObject owns replicas and targets the concurrency per replica', () => {
    const objs = synth(
      (s) =>
        new WorkerPool(s, 'w', {
          image: IMAGE,
          catalog,
          queue: 'backtest',
          concurrency: 4,
          replicas: 3,
          scaling: { prometheusAddress: 'http://prom:9090', maxReplicas: 7 },
        }),
    );
    expect((find(objs, 'Deployment')['spec'] as Record<string, unknown>)['replicas']).toBeUndefined();
    const so = find(objs, 'ScaledObject', 'jobplane-worker-backtest')['spec'] as AnyJson;
    expect(so.maxReplicaCount).toBe(7);
    expect(so.triggers[0].metadata.threshold).toBe('4');
  });

  it("takes the queue's concurrency and drain budget from the catalog's job types", () => {
    const own = defineCatalog({
      name: 'acme',
      jobTypes: [
        testJobType('media.thumbnail', 'media', 45, 'pooled', 3),
        testJobType('media.probe', 'media', 200),
      ],
    });
    const objs = synth((s) => new WorkerPool(s, 'w', { image: IMAGE, catalog: own, queue: 'media' }));
    const spec = podSpec(find(objs, 'Deployment', 'jobplane-worker-media'));
    const env = envOf(spec.containers[0]);
    expect(env['WORKER_CONCURRENCY']).toBe('3');
    expect(env['DRAIN_TIMEOUT_SECONDS']).toBe('200');
    expect(spec.terminationGracePeriodSeconds).toBe(5 + 200 + 15);
    expect(drainContract(own, 'media').terminationGracePeriodSeconds).toBe(220);
    // An explicit concurrency wins over the catalog's.
    const sized = synth(
      (s) => new WorkerPool(s, 'w', { image: IMAGE, catalog: own, queue: 'media', concurrency: 8 }),
    );
    expect(envOf(podSpec(find(sized, 'Deployment')).containers[0])['WORKER_CONCURRENCY']).toBe('8');
  });

  it('fits every derived name of the longest queue name into a DNS label', () => {
    const q = 'q'.repeat(MAX_QUEUE_NAME_LENGTH);
    const own = defineCatalog({ name: 'long', jobTypes: [testJobType('long.type', q, 10)] });
    const objs = synth((s) => new WorkerPool(s, 'w', { image: IMAGE, catalog: own, queue: q }));
    const names = objs.map((o) => o.metadata.name);
    expect(names).toContain(`jobplane-worker-${q}-metrics`);
    for (const n of names) expect(n.length, n).toBeLessThanOrEqual(63);
  });

  it('honours name, namespace, resources and extraEnv', () => {
    const objs = synth(
      (s) =>
        new WorkerPool(s, 'w', {
          image: IMAGE,
          catalog,
          queue: 'default',
          name: 'pool-b',
          namespace: 'ns',
          resources: { cpu: '2', memory: '2Gi' },
          extraEnv: { MAX_STALLED_COUNT: '3' },
        }),
    );
    const dep = find(objs, 'Deployment', 'pool-b');
    expect(dep.metadata.namespace).toBe('ns');
    expect(podSpec(dep).containers[0].resources.requests).toEqual({ cpu: '2', memory: '2048Mi' });
    expect(envOf(podSpec(dep).containers[0])['MAX_STALLED_COUNT']).toBe('3');
  });

  it.each([
    [
      { queue: 'backtest-full' },
      `'queue' ('backtest-full') is isolated in catalog 'construct-tests', not pooled (pooled queues: default, backtest)`,
    ],
    [
      { queue: 'nope' },
      `'queue' ('nope') is not a queue of catalog 'construct-tests' (pooled queues: default, backtest)`,
    ],
    [
      { catalog: { name: 'fake', queues: () => [] } },
      `'catalog' (object) must be a catalog made by defineCatalog of @jobplane/sdk`,
    ],
    [{ concurrency: 0 }, `'concurrency' (0) must be an integer in [1, 1000]`],
    [
      { name: `pool-${'x'.repeat(51)}` },
      `'name' ('pool-${'x'.repeat(51)}') must be at most 55 characters: its metrics Service is '<name>-metrics'`,
    ],
    [{ replicas: -1 }, `'replicas' (-1) must be an integer ≥ 1`],
    [
      { extraEnv: { DRAIN_TIMEOUT_SECONDS: '1' } },
      `'extraEnv.DRAIN_TIMEOUT_SECONDS' is set by the construct`,
    ],
  ])('rejects %j', (props, message) => {
    expect(() =>
      synth((s) => new WorkerPool(s, 'w', { image: IMAGE, catalog, queue: 'default', ...(props as object) })),
    ).toThrow(message);
  });
});
