import { describe, expect, it } from 'vitest';
import { BatchJobTemplate } from '../src/batch-job-template.js';
import { Migrations } from '../src/migrations.js';
import type { AnyJson } from './helpers.js';
import { IMAGE, envOf, find, podSpec, synth } from './helpers.js';

describe('BatchJobTemplate', () => {
  const defaults = synth(
    (s) =>
      new BatchJobTemplate(s, 'b', {
        image: IMAGE,
        name: 'sweep',
        command: 'run-one',
        extraEnv: { RUN_ONE_QUEUE: 'backtest-full' },
      }),
  );

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('defaults: one bounded, non-indexed Job in the jobs namespace', () => {
    const job = find(defaults, 'Job', 'sweep');
    expect(job.metadata.namespace).toBe('jobplane-jobs');
    const spec = job['spec'] as AnyJson;
    expect(spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 1,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 600,
    });
    expect(spec.completionMode).toBeUndefined();
    const c = podSpec(job).containers[0];
    expect(c.args).toEqual(['run-one']);
    expect(Object.keys(envOf(c)).sort()).toEqual(['DATABASE_URL', 'REDIS_URL', 'RUN_ONE_QUEUE']);
  });

  it('fans out as an Indexed Job', () => {
    const objs = synth(
      (s) =>
        new BatchJobTemplate(s, 'b', {
          image: IMAGE,
          name: 'fan',
          command: 'run-one',
          completions: 8,
          parallelism: 4,
          extraEnv: { RUN_ONE_QUEUE: 'backtest-full' },
        }),
    );
    expect(find(objs, 'Job')['spec']).toMatchObject({
      completions: 8,
      parallelism: 4,
      completionMode: 'Indexed',
    });
  });

  it('migrate needs no Redis', () => {
    const objs = synth((s) => new BatchJobTemplate(s, 'b', { image: IMAGE, name: 'm', command: 'migrate' }));
    expect(Object.keys(envOf(podSpec(find(objs, 'Job')).containers[0]))).toEqual(['DATABASE_URL']);
  });

  it.each([
    [{ command: 'serve' }, `'command' ('serve') must be a jobplane subcommand`],
    [{ command: 'run-one' }, `'jobplane run-one' requires env RUN_ONE_QUEUE`],
    [{ completions: 2, parallelism: 3 }, `'completions' (2) must be ≥ 'parallelism' (3)`],
    [{ activeDeadlineSeconds: 0 }, `'activeDeadlineSeconds' (0) must be an integer ≥ 1`],
  ])('rejects %j', (props, message) => {
    expect(() =>
      synth(
        (s) =>
          new BatchJobTemplate(s, 'b', { image: IMAGE, name: 'x', command: 'migrate', ...(props as object) }),
      ),
    ).toThrow(message);
  });
});

describe('Migrations', () => {
  it('matches the snapshot', () => {
    expect(synth((s) => new Migrations(s, 'm', { image: IMAGE }))).toMatchSnapshot();
  });

  it('is a PreSync hook by default, replaced before each run, in the migrations wave', () => {
    const job = find(
      synth((s) => new Migrations(s, 'm', { image: IMAGE })),
      'Job',
      'jobplane-migrate',
    );
    expect(job.metadata.annotations).toMatchObject({
      'argocd.argoproj.io/hook': 'PreSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      'argocd.argoproj.io/sync-wave': '0',
    });
    expect(job.metadata.namespace).toBe('jobplane');
    expect(podSpec(job).containers[0].args).toEqual(['migrate']);
  });

  it('can run as a Sync hook (in-cluster database) with its own deadline', () => {
    const job = find(
      synth(
        (s) =>
          new Migrations(s, 'm', { image: IMAGE, hook: 'Sync', activeDeadlineSeconds: 120, name: 'mig' }),
      ),
      'Job',
      'mig',
    );
    expect(job.metadata.annotations?.['argocd.argoproj.io/hook']).toBe('Sync');
    expect((job['spec'] as AnyJson).activeDeadlineSeconds).toBe(120);
  });
});
