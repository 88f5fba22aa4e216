/**
 * Container jobs against the fake Kubernetes API: outcomes the watcher records (success with the
 * termination message as result, OOMKilled retried, eviction without an attempt, a non-retryable
 * exit code, the deadline, image pull failures, Indexed Jobs), each with exactly one Job per attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../integration/helpers.js';
import { containerEnv, exactlyOnePerAttempt, type ContainerEnv } from '../support/fake-kube/harness.js';

let env: ContainerEnv;

beforeAll(async () => {
  env = await containerEnv('ctr-outcomes');
  await env.startLauncher();
});
afterAll(async () => {
  await env?.close();
});

describe('container job outcomes', () => {
  it('a succeeding container: one Job, the payload arrives as a file, the termination message is the result', async () => {
    const id = await env.submit('test.echo', { value: 42 });
    const row = await env.waitForState(id, 'succeeded');
    expect(row.result).toEqual({ echo: 42, attempt: 1, index: 0 });
    expect(row.attempts).toBe(1);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
    const reasons = (await env.events(id)).map((e) => e.reason);
    expect(reasons).toEqual(['submitted', 'attempt_started', 'k8s_job_created', 'handler_succeeded']);
    const [job] = env.api.createdJobs.filter((c) => c.labels['jobplane.dev/job-id'] === id);
    expect(job!.labels['jobplane.dev/fencing-token']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

type Err = { code: string; message: string; retryable: boolean };

describe('failures', () => {
  it('OOMKilled: the reason is recorded and the job retried with a new attempt and a new Job', async () => {
    const id = await env.submit('test.echo', { script: ['oom', 'succeed'], value: 1 });
    const row = await env.waitForState(id, 'succeeded');
    expect(row.attempts).toBe(2);
    expect(row.result).toEqual({ echo: 1, attempt: 2, index: 0 });
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 2)).toBe(true);
    const events = await env.events(id);
    expect(events.find((e) => e.reason === 'k8s_oom_killed')?.attempt).toBe(1);
    const failed = events.find((e) => e.reason === 'attempt_failed');
    expect((failed?.details as Err).code).toBe('K8S.OOM_KILLED');
  });

  it('an evicted pod consumes no attempt: the Job replaces it (DisruptionTarget → Ignore)', async () => {
    const id = await env.submit('test.echo', { script: ['evict', 'succeed'], value: 2 });
    const row = await env.waitForState(id, 'succeeded');
    expect(row.attempts).toBe(1);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
    const events = await env.events(id);
    expect(events.some((e) => e.reason === 'k8s_evicted' && e.attempt === 1)).toBe(true);
    expect(events.some((e) => e.reason === 'attempt_failed')).toBe(false);
  });

  it('a non-retryable exit code fails the Job at once (FailJob) and dead-letters the job', async () => {
    const id = await env.submit('test.echo', { script: ['exit:3'] });
    const row = await env.waitForState(id, 'dead_lettered');
    expect(row.attempts).toBe(1);
    expect((row.error as Err).code).toBe('K8S.EXIT_NON_RETRYABLE');
    expect((row.error as Err).message).toContain('exit code 3');
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
  });

  it('a retryable exit code uses the attempt budget, one Job per attempt', async () => {
    const id = await env.submit('test.echo', { script: ['exit:1'] });
    const row = await env.waitForState(id, 'dead_lettered');
    expect(row.attempts).toBe(3);
    expect((row.error as Err).code).toBe('K8S.EXIT_CODE');
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 3)).toBe(true);
    const exits = (await env.events(id)).filter((e) => e.reason === 'k8s_exit_code');
    expect(exits.map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it('the deadline (activeDeadlineSeconds) is a JOB.TIMEOUT', async () => {
    const id = await env.submit('test.deadline', { script: ['hang'] });
    const row = await env.waitForState(id, 'dead_lettered');
    expect((row.error as Err).code).toBe('JOB.TIMEOUT');
  });

  it('an image that cannot be pulled fails the attempt after the bounded wait and deletes its Job', async () => {
    const id = await env.submit('test.echo', { script: ['imagepull'] });
    const row = await env.waitForState(id, 'dead_lettered');
    expect((row.error as Err).code).toBe('K8S.IMAGE_PULL_FAILED');
    const reasons = (await env.events(id)).map((e) => e.reason);
    expect(reasons).toContain('k8s_err_image_pull');
    await waitFor(async () =>
      env.api.list('jobs').every((j) => j.metadata.labels['jobplane.dev/job-id'] !== id),
    );
  });

  it('a termination message that is not JSON dead-letters with HANDLER.RESULT_INVALID', async () => {
    const id = await env.submit('test.echo', { script: ['badresult'] });
    const row = await env.waitForState(id, 'dead_lettered');
    expect((row.error as Err).code).toBe('HANDLER.RESULT_INVALID');
  });
});

describe('signals and fan-out', () => {
  it('an unschedulable pod is recorded, then the job runs', async () => {
    const id = await env.submit('test.echo', { script: ['unschedulable'], value: 3 });
    await env.waitForState(id, 'succeeded');
    const ev = (await env.events(id)).find((e) => e.reason === 'k8s_unschedulable');
    expect(ev?.details?.message).toContain('Insufficient memory');
  });

  it('an Indexed Job: one pod per index, the result lists every index', async () => {
    const id = await env.submit('test.indexed', { value: 5 });
    const row = await env.waitForState(id, 'succeeded');
    const result = row.result as { completedIndexes: string; results: Record<string, { index: number }> };
    expect(result.completedIndexes).toBe('0,1,2');
    expect(Object.values(result.results).map((r) => r.index)).toEqual([0, 1, 2]);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
  });
});

describe('cancel and retry', () => {
  it('cancel deletes the running Job (its pods and Secret follow)', async () => {
    const id = await env.submit('test.echo', { script: ['hang'] });
    await waitFor(async () =>
      env.api
        .list('pods')
        .some((p) => p.metadata.labels['jobplane.dev/job-id'] === id && p.status.phase === 'Running'),
    );
    await env.cancel(id);
    await waitFor(async () =>
      env.api.list('jobs').every((j) => j.metadata.labels['jobplane.dev/job-id'] !== id),
    );
    await waitFor(async () =>
      env.api.list('secrets').every((s) => s.metadata.labels['jobplane.dev/job-id'] !== id),
    );
    expect((await env.job(id)).state).toBe('cancelled');
  });

  it('RetryJob from the dead letters starts a new attempt with its own Job', async () => {
    const id = await env.submit('test.echo', { script: ['exit:3', 'succeed'], value: 7 });
    await env.waitForState(id, 'dead_lettered');
    await env.retry(id);
    const row = await env.waitForState(id, 'succeeded');
    // Attempt numbers keep counting after the redrive: attempt 2 (a 'jobplane.dev/attempt' of 2).
    expect(row.result).toEqual({ echo: 7, attempt: 2, index: 0 });
    const created = env.api.createdJobs.filter((c) => c.labels['jobplane.dev/job-id'] === id);
    expect(created.map((c) => c.labels['jobplane.dev/attempt'])).toEqual(['1', '2']);
    expect(new Set(created.map((c) => c.name)).size).toBe(2);
  });
});
