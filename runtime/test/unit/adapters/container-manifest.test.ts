import { describe, expect, it } from 'vitest';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { checkContainerSpec } from '@jobplane/sdk';
import { buildJob, buildPayloadSecret } from '../../../src/adapters/kubernetes/job-manifest.js';
import { toRunView } from '../../../src/adapters/kubernetes/run-view.js';
import { signalEventReason } from '../../../src/application/observe-container-job.use-case.js';
import {
  classifyFailedJob,
  containerJobName,
  parseTerminationMessage,
} from '../../../src/domain/container-run.js';

const token = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const jobId = '11111111-2222-4333-8444-555555555555';
const launch = {
  jobId,
  attempt: 2,
  token,
  name: containerJobName(jobId, 2, token),
  type: 'media.thumb',
  payloadJson: '{"a":1}',
};
const opts = { namespace: 'jobs', installation: 'prod', timeoutSeconds: 90 };

describe('the Job of one attempt', () => {
  it('has a deterministic name within 63 characters', () => {
    expect(launch.name).toBe(`jp-${jobId}-2-0f1e2d`);
    expect(containerJobName(jobId, 100, token).length).toBeLessThanOrEqual(63);
  });

  it('carries the attempt labels, restricted security, the pod failure policy and the deadline', () => {
    const spec = checkContainerSpec('t', {
      image: 'acme/app:1',
      nonRetryableExitCodes: [3, 4],
      env: { A: 'b' },
    });
    const job = buildJob(launch, spec, opts);
    expect(job.metadata?.labels).toMatchObject({
      'jobplane.dev/job-id': jobId,
      'jobplane.dev/attempt': '2',
      'jobplane.dev/fencing-token': token,
      'jobplane.dev/installation': 'prod',
    });
    expect(job.spec).toMatchObject({
      activeDeadlineSeconds: 90,
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
    });
    expect(job.spec?.podFailurePolicy?.rules).toEqual([
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'job', operator: 'In', values: [3, 4] } },
    ]);
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = pod.containers[0]!;
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.volumeMounts?.map((m) => m.mountPath)).toEqual(['/var/run/jobplane', '/tmp']);
    expect(c.env).toContainEqual({ name: 'JOBPLANE_PAYLOAD_FILE', value: '/var/run/jobplane/payload.json' });
    expect(c.env).toContainEqual({ name: 'A', value: 'b' });
    expect(c.terminationMessagePath).toBe('/dev/termination-log');
    expect(job.spec?.suspend).toBeUndefined();
  });

  it('Kueue: the queue label and a suspended Job; Indexed: completions and per-index limits', () => {
    const spec = checkContainerSpec('t', {
      image: 'acme/app:1',
      kueueQueueName: 'team-a',
      indexed: { completions: 4, parallelism: 2, backoffLimitPerIndex: 1, maxFailedIndexes: 1 },
    });
    const job = buildJob(launch, spec, opts);
    expect(job.metadata?.labels?.['kueue.x-k8s.io/queue-name']).toBe('team-a');
    expect(job.spec).toMatchObject({
      suspend: true,
      completionMode: 'Indexed',
      completions: 4,
      parallelism: 2,
      backoffLimitPerIndex: 1,
      maxFailedIndexes: 1,
    });
    expect(job.spec?.backoffLimit).toBeUndefined();
  });

  it('the payload Secret is immutable and owned by the Job', () => {
    const s = buildPayloadSecret(launch, { name: launch.name, uid: 'u-1' }, opts);
    expect(s.immutable).toBe(true);
    expect(s.metadata?.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: launch.name, uid: 'u-1', controller: true },
    ]);
    expect(Buffer.from(s.data!['payload.json']!, 'base64').toString()).toBe('{"a":1}');
  });
});

describe('reading a Job back', () => {
  const job = (conditions: object[]): V1Job => ({
    metadata: {
      name: launch.name,
      labels: {
        'jobplane.dev/job-id': jobId,
        'jobplane.dev/attempt': '2',
        'jobplane.dev/fencing-token': token,
      },
    },
    spec: { template: {} },
    status: { conditions: conditions as never },
  });
  const pod = (status: object): V1Pod => ({
    metadata: { name: `${launch.name}-x1` },
    status: status as never,
  });
  const at = new Date(0);

  it('a failed pod: exit code, OOMKilled and eviction signals', () => {
    const v = toRunView(
      job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]),
      [
        pod({
          phase: 'Failed',
          containerStatuses: [{ name: 'job', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }],
        }),
        pod({
          phase: 'Failed',
          reason: 'Evicted',
          conditions: [{ type: 'DisruptionTarget', status: 'True', message: 'drain' }],
        }),
      ],
      () => at,
    )!;
    expect(v).toMatchObject({
      status: 'failed',
      failedReason: 'BackoffLimitExceeded',
      lastExitCode: 137,
      lastTerminationReason: 'OOMKilled',
    });
    expect(v.signals.map((s) => s.reason)).toEqual(['OOMKilled', 'Evicted']);
  });

  it('a succeeded Job: the termination message by index; a Job without attempt labels is not ours', () => {
    const v = toRunView(
      job([{ type: 'Complete', status: 'True' }]),
      [
        pod({
          phase: 'Succeeded',
          containerStatuses: [{ name: 'job', state: { terminated: { exitCode: 0, message: '{"k":1}' } } }],
        }),
      ],
      () => at,
    )!;
    expect(v.status).toBe('succeeded');
    expect(v.messages.get(0)).toBe('{"k":1}');
    expect(toRunView({ metadata: { name: 'other' } }, [], () => at)).toBeUndefined();
  });

  it('classifies failures and names events', () => {
    const f = { message: undefined, lastExitCode: 2, lastTerminationReason: 'Error', timeoutSeconds: 5 };
    expect(classifyFailedJob({ ...f, reason: 'DeadlineExceeded' })).toMatchObject({
      code: 'JOB.TIMEOUT',
      retryable: true,
    });
    expect(classifyFailedJob({ ...f, reason: 'PodFailurePolicy' })).toMatchObject({
      code: 'K8S.EXIT_NON_RETRYABLE',
      retryable: false,
    });
    expect(classifyFailedJob({ ...f, reason: 'BackoffLimitExceeded' })).toMatchObject({
      code: 'K8S.EXIT_CODE',
      retryable: true,
    });
    expect(
      classifyFailedJob({ ...f, reason: 'BackoffLimitExceeded', lastTerminationReason: 'OOMKilled' }).code,
    ).toBe('K8S.OOM_KILLED');
    expect(signalEventReason('OOMKilled')).toBe('k8s_oom_killed');
    expect(signalEventReason('ImagePullBackOff')).toBe('k8s_image_pull_back_off');
    expect(parseTerminationMessage('[1]')).toMatchObject({ ok: false });
    expect(parseTerminationMessage('')).toEqual({ ok: true, value: {} });
  });
});
