import { defineCatalog, drainContract } from '@jobplane/sdk';
import { describe, expect, it } from 'vitest';
import { DEPLOYMENT } from '../deploy/synth.js';
import type { EnvironmentConfig } from '../src/environments/index.js';
import { JobPlatform } from '../src/job-platform.js';
import { synthesizeEnvironment } from '../src/synth/synthesize.js';
import { verifyManifests } from '../src/verify/index.js';
import { type AnyJson, find, podSpec, synth, testJobType } from './helpers.js';

const { catalog } = DEPLOYMENT;
const envNamed = (name: string): EnvironmentConfig => DEPLOYMENT.environments.find((e) => e.name === name)!;
const devEnvironment = envNamed('dev');
const stagingEnvironment = envNamed('staging');
const prodEnvironment = envNamed('prod');

describe('JobPlatform', () => {
  const dev = synthesizeEnvironment(catalog, devEnvironment, 'sha1');

  it('matches the dev snapshot', () => {
    expect(dev).toMatchSnapshot();
  });

  it('derives one WorkerPool per pooled queue and one ScaledJob per isolated queue from the catalog', () => {
    expect(catalog.queues().length).toBeGreaterThan(1);
    for (const q of catalog.queues()) {
      if (q.mode === 'pooled') {
        const dep = find(dev, 'Deployment', `jobplane-worker-${q.name}`);
        expect(podSpec(dep).terminationGracePeriodSeconds).toBe(
          drainContract(catalog, q.name).terminationGracePeriodSeconds,
        );
        expect(find(dev, 'ScaledObject', `jobplane-worker-${q.name}`)).toBeDefined();
      } else {
        expect(find(dev, 'ScaledJob', `jobplane-run-${q.name}`).metadata.namespace).toBe('jobplane-jobs');
      }
    }
  });

  it('dev: in-cluster stores and Prometheus, migrations as a Sync hook between stores and workloads', () => {
    expect(find(dev, 'StatefulSet', 'jobplane-redis')).toBeDefined();
    expect(find(dev, 'StatefulSet', 'jobplane-postgres')).toBeDefined();
    const migrate = find(dev, 'Job', 'jobplane-migrate');
    expect(migrate.metadata.annotations?.['argocd.argoproj.io/hook']).toBe('Sync');
    const wave = (o: AnyJson) => Number(o.metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave(find(dev, 'StatefulSet', 'jobplane-postgres'))).toBeLessThan(wave(migrate));
    expect(wave(migrate)).toBeLessThan(wave(find(dev, 'Deployment', 'jobplane-api')));
    expect(wave(find(dev, 'Deployment', 'jobplane-api'))).toBeLessThan(
      wave(find(dev, 'ScaledObject', 'jobplane-worker-default')),
    );
    expect(wave(find(dev, 'PriorityClass', 'jobplane-platform'))).toBeLessThan(
      wave(find(dev, 'StatefulSet', 'jobplane-redis')),
    );
    // The stacks own the Namespaces: none is synthesized.
    expect(dev.some((o) => o.kind === 'Namespace')).toBe(false);
    const so = find(dev, 'ScaledObject', 'jobplane-worker-default')['spec'] as AnyJson;
    expect(so.triggers[0].metadata.serverAddress).toBe('http://jobplane-prometheus.jobplane.svc:9090');
    expect(podSpec(find(dev, 'Deployment', 'jobplane-api')).containers[0].image).toBe(
      'jobplane/runtime:sha1',
    );
  });

  it('staging/prod: external stores, operator monitoring, Sync-hook migrations, ECR image', () => {
    for (const env of [stagingEnvironment, prodEnvironment]) {
      const objs = synthesizeEnvironment(catalog, env, 'sha2');
      expect(objs.some((o) => o.kind === 'StatefulSet')).toBe(false);
      expect(find(objs, 'Job', 'jobplane-migrate').metadata.annotations?.['argocd.argoproj.io/hook']).toBe(
        'Sync',
      );
      expect(find(objs, 'PrometheusRule', 'jobplane')).toBeDefined();
      expect(podSpec(find(objs, 'Deployment', 'jobplane-api')).containers[0].image).toBe(
        `${env.imageRepository}:sha2`,
      );
      expect(find(objs, 'HorizontalPodAutoscaler', 'jobplane-api')).toBeDefined();
    }
  });

  it.each([
    ['dev', devEnvironment],
    ['staging', stagingEnvironment],
    ['prod', prodEnvironment],
  ])('%s passes the verifier with zero findings', async (_name, env) => {
    expect(await verifyManifests(synthesizeEnvironment(catalog, env, 'abc'), { catalog })).toEqual([]);
  });

  it('accepts extra worker pools (benchmarks) that still verify', async () => {
    const objs = synthesizeEnvironment(catalog, devEnvironment, 'abc', {
      extraWorkerPools: [
        { name: 'jobplane-worker-default-b', queue: 'default', concurrency: 50, maxReplicas: 4 },
        { name: 'jobplane-worker-default-c', queue: 'default' },
      ],
    });
    expect(find(objs, 'Deployment', 'jobplane-worker-default-b')).toBeDefined();
    expect((find(objs, 'ScaledObject', 'jobplane-worker-default-b')['spec'] as AnyJson).maxReplicaCount).toBe(
      4,
    );
    expect(await verifyManifests(objs, { catalog })).toEqual([]);
  });

  it.each([
    [
      { extraWorkerPools: [{ name: 'jobplane-worker-default', queue: 'default' }] },
      `'extraWorkerPools[0].name' ('jobplane-worker-default') is already used by another worker pool`,
    ],
    [
      { environment: { ...devEnvironment, namespaces: { platform: 'a', jobs: 'a' } } },
      `'environment.namespaces.jobs' ('a') must differ from the platform namespace`,
    ],
    [{ imageTag: 'latest' }, `'image.tag' ('latest') must be an explicit tag other than 'latest'`],
    [
      { environment: { ...devEnvironment, relay: { replicas: 3 } } },
      `'replicas' (3) must be an integer in [1, 2]`,
    ],
    [
      { extraWorkerPools: [{ name: 'pool-x', queue: 'backtest-full' }] },
      `'extraWorkerPools[0].queue' ('backtest-full') is isolated in catalog 'examples', not pooled`,
    ],
    [
      { environment: { ...devEnvironment, workers: { ...devEnvironment.workers, defualt: {} } } },
      `'environment.workers.defualt' sizes 'defualt', which is not a queue of catalog 'examples'; workers sizes its pooled queues (default, backtest)`,
    ],
    [
      { environment: { ...devEnvironment, isolated: { default: { maxReplicas: 2 } } } },
      `'environment.isolated.default' sizes the pooled queue 'default' of catalog 'examples'; isolated sizes its isolated queues (backtest-full)`,
    ],
    [
      { catalog: undefined },
      `'catalog' (undefined) must be a catalog made by defineCatalog of @jobplane/sdk`,
    ],
    [{ catalogModule: ' ' }, `'catalogModule' (" ") must be a non-empty module specifier or path`],
  ])('rejects %#', (props, message) => {
    expect(() =>
      synth(
        (s) =>
          new JobPlatform(s, 'p', {
            catalog,
            environment: devEnvironment,
            imageTag: 'abc',
            ...(props as object),
          }),
      ),
    ).toThrow(message);
  });

  it("runs a team's own catalog: its queues become pools and ScaledJobs with their own drain budgets", async () => {
    const own = defineCatalog({
      name: 'acme',
      jobTypes: [
        testJobType('media.thumbnail', 'media', 45, 'pooled', 4),
        testJobType('media.transcode', 'transcode', 1800, 'isolated'),
      ],
    });
    const env: EnvironmentConfig = {
      ...devEnvironment,
      workers: { media: { maxReplicas: 3 } },
      isolated: { transcode: { maxReplicas: 5 } },
    };
    const objs = synthesizeEnvironment(own, env, 'abc', { catalogModule: '/app/catalog.js' });
    const pool = podSpec(find(objs, 'Deployment', 'jobplane-worker-media'));
    expect(pool.terminationGracePeriodSeconds).toBe(5 + 45 + 15);
    const poolEnv = Object.fromEntries(pool.containers[0].env.map((e: AnyJson) => [e.name, e.value]));
    expect(poolEnv).toMatchObject({
      WORKER_QUEUES: 'media',
      WORKER_CONCURRENCY: '4',
      DRAIN_TIMEOUT_SECONDS: '45',
      JOBPLANE_CATALOG: '/app/catalog.js',
    });
    expect((find(objs, 'ScaledObject', 'jobplane-worker-media')['spec'] as AnyJson).maxReplicaCount).toBe(3);
    const sj = find(objs, 'ScaledJob', 'jobplane-run-transcode');
    expect((sj['spec'] as AnyJson).maxReplicaCount).toBe(5);
    expect(podSpec(sj).terminationGracePeriodSeconds).toBe(1800 + 15);
    expect(objs.some((o) => o.metadata.name.includes('backtest'))).toBe(false);
    expect(await verifyManifests(objs, { catalog: own })).toEqual([]);
    // The same objects checked against another catalog: its queues are not the workers' queues.
    const findings = await verifyManifests(objs, { catalog });
    expect(findings.map((f) => f.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`WORKER_QUEUES 'media' is not a pooled queue of catalog 'examples'`),
        expect.stringContaining(`RUN_ONE_QUEUE 'transcode' is not an isolated queue of catalog 'examples'`),
      ]),
    );
  });
});
