import { drainContract, queueSpecs } from '@jobplane/runtime/config';
import { describe, expect, it } from 'vitest';
import { devEnvironment, prodEnvironment, stagingEnvironment } from '../src/environments/index.js';
import { JobPlatform } from '../src/job-platform.js';
import { synthesizeEnvironment } from '../src/synth/synthesize.js';
import { verifyManifests } from '../src/verify/index.js';
import { type AnyJson, find, podSpec, synth } from './helpers.js';

describe('JobPlatform', () => {
  const dev = synthesizeEnvironment(devEnvironment, 'sha1');

  it('matches the dev snapshot', () => {
    expect(dev).toMatchSnapshot();
  });

  it('derives one WorkerPool per pooled queue and one ScaledJob per isolated queue from the runtime catalog', () => {
    for (const q of queueSpecs()) {
      if (q.mode === 'pooled') {
        const dep = find(dev, 'Deployment', `jobplane-worker-${q.name}`);
        expect(podSpec(dep).terminationGracePeriodSeconds).toBe(
          drainContract(q.name).terminationGracePeriodSeconds,
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
    expect(wave(find(dev, 'Namespace', 'jobplane'))).toBeLessThan(
      wave(find(dev, 'StatefulSet', 'jobplane-redis')),
    );
    const so = find(dev, 'ScaledObject', 'jobplane-worker-default')['spec'] as AnyJson;
    expect(so.triggers[0].metadata.serverAddress).toBe('http://jobplane-prometheus.jobplane.svc:9090');
    expect(podSpec(find(dev, 'Deployment', 'jobplane-api')).containers[0].image).toBe(
      'jobplane/runtime:sha1',
    );
  });

  it('staging/prod: external stores, operator monitoring, Sync-hook migrations, ECR image', () => {
    for (const env of [stagingEnvironment, prodEnvironment]) {
      const objs = synthesizeEnvironment(env, 'sha2');
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
    expect(await verifyManifests(synthesizeEnvironment(env, 'abc'))).toEqual([]);
  });

  it('accepts extra worker pools (benchmarks) that still verify', async () => {
    const objs = synthesizeEnvironment(devEnvironment, 'abc', {
      extraWorkerPools: [
        { name: 'jobplane-worker-default-b', queue: 'default', concurrency: 50, maxReplicas: 4 },
        { name: 'jobplane-worker-default-c', queue: 'default' },
      ],
    });
    expect(find(objs, 'Deployment', 'jobplane-worker-default-b')).toBeDefined();
    expect((find(objs, 'ScaledObject', 'jobplane-worker-default-b')['spec'] as AnyJson).maxReplicaCount).toBe(
      4,
    );
    expect(await verifyManifests(objs)).toEqual([]);
  });

  it.each([
    [
      { extraWorkerPools: [{ name: 'jobplane-worker-default', queue: 'default' as const }] },
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
  ])('rejects %#', (props, message) => {
    expect(() =>
      synth((s) => new JobPlatform(s, 'p', { environment: devEnvironment, imageTag: 'abc', ...props })),
    ).toThrow(message);
  });
});
