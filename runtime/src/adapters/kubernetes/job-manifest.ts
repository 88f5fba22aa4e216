/**
 * The `batch/v1` Job (and its payload Secret) of one container attempt. Restricted pod security
 * by default: non-root, read-only root filesystem with an emptyDir `/tmp`, no privilege
 * escalation, every capability dropped, the runtime's seccomp profile, no service-account token.
 */
import type { V1Job, V1PodFailurePolicyRule, V1Secret } from '@kubernetes/client-node';
import {
  PAYLOAD_FILE,
  PAYLOAD_MOUNT_PATH,
  TERMINATION_MESSAGE_PATH,
  type ContainerSpec,
} from '@jobplane/sdk';
import { CONTAINER_LABELS, MANAGED_BY } from '../../domain/container-run.js';
import type { ContainerLaunch } from '../../ports/container.port.js';

/** The container's name inside the pod (the pod failure policy's exit-code rule names it). */
export const CONTAINER_NAME = 'job';
/** Non-root user and group the pods run as (an image's own USER is overridden). */
export const RUN_AS_ID = 65532;

export interface ManifestOptions {
  readonly namespace: string;
  /** Label value separating installations (and tests) that share a namespace. */
  readonly installation: string;
  readonly timeoutSeconds: number;
  /** Service account of the pods (default: the namespace's `default`, with no token mounted). */
  readonly serviceAccountName?: string;
}

export function jobLabels(launch: ContainerLaunch, installation: string): Record<string, string> {
  return {
    [CONTAINER_LABELS.managedBy]: MANAGED_BY,
    [CONTAINER_LABELS.installation]: installation,
    [CONTAINER_LABELS.jobId]: launch.jobId,
    [CONTAINER_LABELS.attempt]: String(launch.attempt),
    [CONTAINER_LABELS.token]: launch.token,
    [CONTAINER_LABELS.jobType]: launch.type,
    [CONTAINER_LABELS.run]: launch.name,
  };
}

/** Label selector of every object of this installation. */
export function installationSelector(installation: string): string {
  return `${CONTAINER_LABELS.managedBy}=${MANAGED_BY},${CONTAINER_LABELS.installation}=${installation}`;
}

export function buildJob(launch: ContainerLaunch, spec: ContainerSpec, opts: ManifestOptions): V1Job {
  const labels = jobLabels(launch, opts.installation);
  const rules: V1PodFailurePolicyRule[] = [
    // An eviction, preemption or node drain is not the job's fault: no attempt is consumed and
    // the Job controller replaces the pod.
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
  ];
  if (spec.nonRetryableExitCodes && spec.nonRetryableExitCodes.length > 0) {
    rules.push({
      action: 'FailJob',
      onExitCodes: { containerName: CONTAINER_NAME, operator: 'In', values: [...spec.nonRetryableExitCodes] },
    });
  }
  const kueue = spec.kueueQueueName;
  const indexed = spec.indexed;
  const env = [
    { name: 'JOBPLANE_JOB_ID', value: launch.jobId },
    { name: 'JOBPLANE_JOB_TYPE', value: launch.type },
    { name: 'JOBPLANE_ATTEMPT', value: String(launch.attempt) },
    { name: 'JOBPLANE_PAYLOAD_FILE', value: PAYLOAD_FILE },
    { name: 'JOBPLANE_RESULT_FILE', value: TERMINATION_MESSAGE_PATH },
    ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: launch.name,
      namespace: opts.namespace,
      labels: { ...labels, ...(kueue ? { [CONTAINER_LABELS.kueueQueue]: kueue } : {}) },
    },
    spec: {
      // A Kueue-managed Job starts suspended; Kueue admits (unsuspends) it when quota allows.
      ...(kueue ? { suspend: true } : {}),
      activeDeadlineSeconds: opts.timeoutSeconds,
      ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished,
      ...(indexed
        ? {
            completionMode: 'Indexed',
            completions: indexed.completions,
            parallelism: indexed.parallelism ?? indexed.completions,
            ...(indexed.backoffLimitPerIndex !== undefined
              ? { backoffLimitPerIndex: indexed.backoffLimitPerIndex }
              : { backoffLimit: 0 }),
            ...(indexed.maxFailedIndexes !== undefined ? { maxFailedIndexes: indexed.maxFailedIndexes } : {}),
          }
        : { completions: 1, parallelism: 1, backoffLimit: 0 }),
      podFailurePolicy: { rules },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...(opts.serviceAccountName ? { serviceAccountName: opts.serviceAccountName } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_ID,
            runAsGroup: RUN_AS_ID,
            fsGroup: RUN_AS_ID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: CONTAINER_NAME,
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              ...(spec.command ? { command: [...spec.command] } : {}),
              ...(spec.args ? { args: [...spec.args] } : {}),
              env,
              ...(spec.resources
                ? {
                    resources: {
                      ...(spec.resources.requests ? { requests: { ...spec.resources.requests } } : {}),
                      ...(spec.resources.limits ? { limits: { ...spec.resources.limits } } : {}),
                    },
                  }
                : {}),
              terminationMessagePath: TERMINATION_MESSAGE_PATH,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [
                { name: 'payload', mountPath: PAYLOAD_MOUNT_PATH, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'payload', secret: { secretName: launch.name, defaultMode: 0o440 } },
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
          ],
        },
      },
    },
  };
}

/** The payload Secret: immutable, owned by the Job (deleted with it). */
export function buildPayloadSecret(
  launch: ContainerLaunch,
  owner: { readonly name: string; readonly uid: string },
  opts: ManifestOptions,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: launch.name,
      namespace: opts.namespace,
      labels: jobLabels(launch, opts.installation),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: owner.name, uid: owner.uid, controller: true },
      ],
    },
    immutable: true,
    type: 'Opaque',
    data: { 'payload.json': Buffer.from(launch.payloadJson, 'utf8').toString('base64') },
  };
}
