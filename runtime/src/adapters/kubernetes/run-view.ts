/**
 * A Job and its pods (as the Kubernetes API returns them) → the launcher's view of one attempt:
 * finished or not, why it failed, the termination messages, and the pod signals worth an event.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { CONTAINER_LABELS } from '../../domain/container-run.js';
import type { ContainerRunView, PodSignal } from '../../ports/container.port.js';
import { CONTAINER_NAME } from './job-manifest.js';

/** When a signal was first seen: the watcher remembers it across updates (image pull waits are bounded from it). */
export type FirstSeen = (key: string) => Date;

function conditionTrue(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** The pods' signals: Unschedulable, image pull errors, OOMKilled, eviction, non-zero exit codes. */
export function podSignals(pods: readonly V1Pod[], firstSeen: FirstSeen): PodSignal[] {
  const out: PodSignal[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '?';
    const add = (reason: string, message: string, sinceKey: string, exitCode?: number) =>
      out.push({
        reason,
        message: message.slice(0, 500),
        pod: name,
        since: firstSeen(`${name}/${sinceKey}`),
        ...(exitCode !== undefined ? { exitCode } : {}),
      });
    const conds = pod.status?.conditions ?? [];
    const sched = conds.find(
      (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
    );
    if (sched) add('Unschedulable', sched.message ?? 'no node fits the pod', 'Unschedulable');
    const disruption = conds.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
    if (disruption || pod.status?.reason === 'Evicted') {
      add('Evicted', disruption?.message ?? pod.status?.message ?? 'the pod was evicted', 'Evicted');
    }
    for (const cs of pod.status?.containerStatuses ?? []) {
      if (cs.name !== CONTAINER_NAME) continue;
      const waiting = cs.state?.waiting;
      if (waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull') {
        add(waiting.reason, waiting.message ?? `cannot pull ${cs.image}`, 'image-pull');
      }
      const terminated = cs.state?.terminated;
      if (terminated?.reason === 'OOMKilled') {
        add('OOMKilled', 'the container exceeded its memory limit', 'OOMKilled', terminated.exitCode);
      } else if (terminated && terminated.exitCode !== 0) {
        add(
          'ExitCode',
          `the container exited with code ${terminated.exitCode}`,
          `exit-${terminated.exitCode}`,
          terminated.exitCode,
        );
      }
    }
  }
  return out;
}

function indexOf(pod: V1Pod): number {
  const raw = pod.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** Undefined when the Job carries no attempt labels (not one of ours). */
export function toRunView(
  job: V1Job,
  pods: readonly V1Pod[],
  firstSeen: FirstSeen,
): ContainerRunView | undefined {
  const labels = job.metadata?.labels ?? {};
  const jobId = labels[CONTAINER_LABELS.jobId];
  const attempt = Number(labels[CONTAINER_LABELS.attempt]);
  const token = labels[CONTAINER_LABELS.token];
  const name = job.metadata?.name;
  if (!jobId || !token || !name || !Number.isInteger(attempt)) return undefined;
  const complete = conditionTrue(job, 'Complete');
  const failed = conditionTrue(job, 'Failed');
  const messages = new Map<number, string>();
  let lastExitCode: number | undefined;
  let lastTerminationReason: string | undefined;
  let lastFinish = -1;
  for (const pod of pods) {
    const cs = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
    const terminated = cs?.state?.terminated;
    if (!terminated) continue;
    if (pod.status?.phase === 'Succeeded' && terminated.exitCode === 0) {
      messages.set(indexOf(pod), terminated.message ?? '');
    } else {
      const t = terminated.finishedAt ? new Date(terminated.finishedAt).getTime() : 0;
      if (t >= lastFinish) {
        lastFinish = t;
        lastExitCode = terminated.exitCode;
        lastTerminationReason = terminated.reason;
      }
    }
  }
  const indexed = job.spec?.completionMode === 'Indexed';
  return {
    jobId,
    attempt,
    token,
    name,
    status: complete ? 'succeeded' : failed ? 'failed' : 'active',
    ...(failed?.reason ? { failedReason: failed.reason } : {}),
    ...(failed?.message ? { failedMessage: failed.message } : {}),
    messages,
    indexed,
    ...(job.status?.completedIndexes ? { completedIndexes: job.status.completedIndexes } : {}),
    ...(job.status?.failedIndexes ? { failedIndexes: job.status.failedIndexes } : {}),
    ...(lastExitCode !== undefined ? { lastExitCode } : {}),
    ...(lastTerminationReason ? { lastTerminationReason } : {}),
    signals: podSignals(pods, firstSeen),
    deleting: Boolean(job.metadata?.deletionTimestamp),
  };
}
