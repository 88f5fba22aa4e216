import { describe, expect, it } from 'vitest';
import { IsolatedJobTemplate } from '../src/isolated-job-template.js';
import type { AnyJson } from './helpers.js';
import { IMAGE, TEST_CATALOG, envOf, find, podSpec, synth } from './helpers.js';

const base = {
  image: IMAGE,
  catalog: TEST_CATALOG,
  queue: 'backtest-full',
  prometheusAddress: 'http://prom:9090',
};

describe('IsolatedJobTemplate', () => {
  const defaults = synth((s) => new IsolatedJobTemplate(s, 'iso', base));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('runs one `jobplane run-one` pod per queued job with bounded Jobs', () => {
    const sj = find(defaults, 'ScaledJob', 'jobplane-run-backtest-full');
    expect(sj.metadata.namespace).toBe('jobplane-jobs');
    const spec = sj['spec'] as AnyJson;
    const maxJob = TEST_CATALOG.queue('backtest-full')!.maxJobSeconds;
    expect(maxJob).toBe(900);
    expect(spec.jobTargetRef).toMatchObject({
      parallelism: 1,
      completions: 1,
      backoffLimit: 1,
      ttlSecondsAfterFinished: 600,
    });
    expect(spec.jobTargetRef.activeDeadlineSeconds).toBe(maxJob + 30 + 60);
    expect(spec.maxReplicaCount).toBe(10);
    expect(spec.scalingStrategy).toEqual({ strategy: 'default' });
    const pod = podSpec(sj);
    expect(pod.restartPolicy).toBe('Never');
    const c = pod.containers[0];
    expect(c.args).toEqual(['run-one']);
    expect(envOf(c)['RUN_ONE_QUEUE']).toBe('backtest-full');
    // Drain budget of the queue: its longest job; the pod's grace period adds the margin.
    expect(envOf(c)['DRAIN_TIMEOUT_SECONDS']).toBe('900');
    expect(pod.terminationGracePeriodSeconds).toBe(900 + 15);
    expect(spec.triggers[0].metadata.query).toContain('queue="backtest-full"');
    expect(sj.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe(
      'SkipDryRunOnMissingResource=true,ServerSideApply=true',
    );
  });

  it('honours every sizing prop', () => {
    const objs = synth(
      (s) =>
        new IsolatedJobTemplate(s, 'iso', {
          ...base,
          name: 'heavy',
          namespace: 'jobs2',
          maxReplicas: 3,
          pollingIntervalSeconds: 30,
          backoffLimit: 0,
          ttlSecondsAfterFinished: 60,
          activeDeadlineSeconds: 2000,
          resources: { cpu: '4', memory: '8Gi' },
        }),
    );
    const spec = find(objs, 'ScaledJob', 'heavy')['spec'] as AnyJson;
    expect(spec).toMatchObject({ maxReplicaCount: 3, pollingInterval: 30 });
    expect(spec.jobTargetRef).toMatchObject({
      backoffLimit: 0,
      ttlSecondsAfterFinished: 60,
      activeDeadlineSeconds: 2000,
    });
    expect(spec.jobTargetRef.template.spec.containers[0].resources.requests).toEqual({
      cpu: '4',
      memory: '8192Mi',
    });
  });

  it.each([
    [
      { queue: 'default' },
      `'queue' ('default') is pooled in catalog 'construct-tests', not isolated (isolated queues: backtest-full)`,
    ],
    [
      { queue: 'nope' },
      `'queue' ('nope') is not a queue of catalog 'construct-tests' (isolated queues: backtest-full)`,
    ],
    [{ activeDeadlineSeconds: 100 }, `'activeDeadlineSeconds' (100) must be > 'maxJobSeconds' (900)`],
    [{ backoffLimit: 9 }, `'backoffLimit' (9) must be an integer in [0, 6]`],
    [{ maxReplicas: 0 }, `'maxReplicas' (0) must be an integer ≥ 1`],
  ])('rejects %j', (props, message) => {
    expect(() => synth((s) => new IsolatedJobTemplate(s, 'iso', { ...base, ...(props as object) }))).toThrow(
      message,
    );
  });
});
