/**
 * The simulated cluster behind FakeKubeApi: a Job controller (pods per completions/parallelism,
 * Indexed Jobs, backoffLimit, backoffLimitPerIndex/maxFailedIndexes, podFailurePolicy rules,
 * activeDeadlineSeconds, suspend) and a kubelet that moves each pod through Pending, Running and
 * Succeeded or Failed. What a pod does comes from the payload it is given (read from the Job's
 * Secret, as the container would): `script[n]` for the job's n-th pod (the last entry repeats):
 *
 *   succeed        exit 0; termination message `{"echo": payload.value, "attempt": …, "index": …}`
 *   exit:<code>    exit with that code
 *   oom            killed for memory (reason OOMKilled, exit 137)
 *   evict          evicted while running (DisruptionTarget condition, phase Failed)
 *   unschedulable  Pending/Unschedulable for `unschedulableMs`, then succeeds
 *   imagepull      ErrImagePull, then ImagePullBackOff, forever
 *   hang           runs until the deadline
 *   badresult      exit 0 with a termination message that is not JSON
 */
import { randomBytes } from 'node:crypto';
import type { FakeKubeApi, KObj, WatchEvent } from './server.js';

export interface KubeletOptions {
  /** Pending → Running, and other small steps. */
  readonly stepMs?: number;
  /** How long a container runs before it ends. */
  readonly runMs?: number;
  readonly unschedulableMs?: number;
}

interface JobState {
  readonly ns: string;
  readonly name: string;
  readonly uid: string;
  succeeded: Set<number>;
  failedIndexes: Set<number>;
  failures: number;
  failuresPerIndex: Map<number, number>;
  nextIndex: number;
  finished: boolean;
  deadline?: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rangeString(set: Set<number>): string {
  return [...set].sort((a, b) => a - b).join(',');
}

export class FakeCluster {
  private readonly jobs = new Map<string, JobState>();
  /** Pods run per job id (label), across attempts: the index into the payload's script. */
  private readonly podsRun = new Map<string, number>();
  private readonly stepMs: number;
  private readonly runMs: number;
  private readonly unschedulableMs: number;
  private stopped = false;
  /** Pods created by the Job controller, in order. */
  readonly podsCreated: string[] = [];

  constructor(
    private readonly api: FakeKubeApi,
    opts: KubeletOptions = {},
  ) {
    this.stepMs = opts.stepMs ?? 20;
    this.runMs = opts.runMs ?? 60;
    this.unschedulableMs = opts.unschedulableMs ?? 150;
    api.onChange = (e) => this.onChange(e);
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) if (j.deadline) clearTimeout(j.deadline);
  }

  private onChange(e: WatchEvent): void {
    if (e.kind !== 'jobs' || this.stopped) return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (e.type === 'DELETED') {
      const st = this.jobs.get(key);
      if (st?.deadline) clearTimeout(st.deadline);
      this.jobs.delete(key);
      return;
    }
    if (!this.jobs.has(key) && !e.object.spec?.suspend) setImmediate(() => this.startJob(e.object));
  }

  private startJob(job: KObj): void {
    const key = `${job.metadata.namespace}/${job.metadata.name}`;
    if (this.jobs.has(key) || !this.api.get('jobs', job.metadata.namespace, job.metadata.name)) return;
    const st: JobState = {
      ns: job.metadata.namespace,
      name: job.metadata.name,
      uid: job.metadata.uid,
      succeeded: new Set(),
      failedIndexes: new Set(),
      failures: 0,
      failuresPerIndex: new Map(),
      nextIndex: 0,
      finished: false,
    };
    this.jobs.set(key, st);
    this.api.update('jobs', st.ns, st.name, (j) => {
      j.status = { ...j.status, startTime: new Date().toISOString(), active: 0 };
    });
    const spec = job.spec ?? {};
    const parallelism = Math.min(spec.parallelism ?? 1, spec.completions ?? 1);
    for (let i = 0; i < parallelism; i++) this.createPod(st, st.nextIndex++);
    if (spec.activeDeadlineSeconds) {
      st.deadline = setTimeout(
        () => this.finish(st, 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
        spec.activeDeadlineSeconds * 1000,
      );
    }
  }

  private jobOf(st: JobState): KObj | undefined {
    return this.api.get('jobs', st.ns, st.name);
  }

  private createPod(st: JobState, index: number): void {
    const job = this.jobOf(st);
    if (!job || st.finished || this.stopped) return;
    const tpl = job.spec.template;
    const name = `${st.name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const pod: KObj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: st.ns,
        uid: randomBytes(16).toString('hex'),
        labels: {
          ...(tpl.metadata?.labels ?? {}),
          'batch.kubernetes.io/job-name': st.name,
          'job-name': st.name,
        },
        annotations:
          job.spec.completionMode === 'Indexed'
            ? { 'batch.kubernetes.io/job-completion-index': String(index) }
            : {},
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: st.name, uid: st.uid, controller: true },
        ],
        creationTimestamp: new Date().toISOString(),
      },
      spec: structuredClone(tpl.spec),
      status: {
        phase: 'Pending',
        conditions: [],
        containerStatuses: [
          {
            name: 'job',
            image: tpl.spec.containers[0].image,
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      },
    };
    this.api.put('pods', pod, 'ADDED');
    this.podsCreated.push(name);
    this.api.update('jobs', st.ns, st.name, (j) => {
      j.status.active = (j.status.active ?? 0) + 1;
    });
    void this.runPod(st, name, index).catch(() => undefined);
  }

  private setPod(st: JobState, name: string, fn: (p: KObj) => void): KObj | undefined {
    return this.api.update('pods', st.ns, name, fn);
  }

  private container(p: KObj): KObj {
    return p.status.containerStatuses[0];
  }

  private async runPod(st: JobState, name: string, index: number): Promise<void> {
    const alive = () => !this.stopped && !st.finished && this.api.get('pods', st.ns, name) !== undefined;
    // The payload Secret must exist before the container can start (a missing volume keeps it Pending).
    const job = this.jobOf(st);
    const secretName = job?.spec.template.spec.volumes?.find((v: KObj) => v.secret)?.secret.secretName as
      string | undefined;
    let payload: KObj = {};
    for (;;) {
      if (!alive()) return;
      const secret = secretName ? this.api.get('secrets', st.ns, secretName) : undefined;
      if (!secretName || secret) {
        if (secret)
          payload = JSON.parse(Buffer.from(secret.data['payload.json'], 'base64').toString('utf8')) as KObj;
        break;
      }
      await sleep(this.stepMs);
    }
    const jobId = (job?.metadata.labels?.['jobplane.dev/job-id'] as string | undefined) ?? st.name;
    const n = this.podsRun.get(jobId) ?? 0;
    this.podsRun.set(jobId, n + 1);
    const script = (Array.isArray(payload.script) ? payload.script : ['succeed']) as string[];
    const behavior = script[Math.min(n, script.length - 1)] ?? 'succeed';
    const env = Object.fromEntries(
      ((job?.spec.template.spec.containers[0].env ?? []) as { name: string; value: string }[]).map((e) => [
        e.name,
        e.value,
      ]),
    );
    await sleep(this.stepMs);
    if (!alive()) return;
    if (behavior === 'unschedulable') {
      this.setPod(st, name, (p) => {
        p.status.conditions = [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient memory.',
          },
        ];
      });
      await sleep(this.unschedulableMs);
      if (!alive()) return;
    }
    this.setPod(st, name, (p) => {
      p.spec.nodeName = 'fake-node-1';
      p.status.conditions = [{ type: 'PodScheduled', status: 'True' }];
    });
    await sleep(this.stepMs);
    if (behavior === 'imagepull') {
      this.setPod(st, name, (p) => {
        this.container(p).state = { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } };
      });
      await sleep(this.stepMs * 2);
      this.setPod(st, name, (p) => {
        this.container(p).state = {
          waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' },
        };
      });
      return;
    }
    if (!alive()) return;
    const startedAt = new Date().toISOString();
    this.setPod(st, name, (p) => {
      p.status.phase = 'Running';
      this.container(p).state = { running: { startedAt } };
      this.container(p).ready = true;
    });
    if (behavior === 'hang') return;
    await sleep(typeof payload.runMs === 'number' ? payload.runMs : this.runMs);
    if (!alive()) return;
    const finishedAt = new Date().toISOString();
    const terminate = (exitCode: number, reason: string, message?: string, extra?: (p: KObj) => void) =>
      this.setPod(st, name, (p) => {
        p.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
        this.container(p).ready = false;
        this.container(p).state = {
          terminated: {
            exitCode,
            reason,
            startedAt,
            finishedAt,
            ...(message !== undefined ? { message } : {}),
          },
        };
        extra?.(p);
      });
    let pod: KObj | undefined;
    if (behavior === 'succeed' || behavior === 'unschedulable') {
      pod = terminate(
        0,
        'Completed',
        JSON.stringify({ echo: payload.value ?? null, attempt: Number(env.JOBPLANE_ATTEMPT), index }),
      );
    } else if (behavior === 'badresult') {
      pod = terminate(0, 'Completed', 'done!');
    } else if (behavior === 'oom') {
      pod = terminate(137, 'OOMKilled');
    } else if (behavior === 'evict') {
      pod = terminate(137, 'Error', undefined, (p) => {
        p.status.reason = 'Evicted';
        p.status.message = 'The node was low on resource: memory.';
        p.status.conditions.push({
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'TerminationByKubelet',
          message: 'The node was low on resource: memory.',
        });
      });
    } else if (behavior.startsWith('exit:')) {
      pod = terminate(Number(behavior.slice(5)), 'Error');
    } else {
      pod = terminate(1, 'Error');
    }
    if (pod) this.podFinished(st, pod, index);
  }

  private podFinished(st: JobState, pod: KObj, index: number): void {
    if (st.finished) return;
    const job = this.jobOf(st);
    if (!job) return;
    const spec = job.spec;
    const completions = spec.completions ?? 1;
    const indexed = spec.completionMode === 'Indexed';
    this.api.update('jobs', st.ns, st.name, (j) => {
      j.status.active = Math.max(0, (j.status.active ?? 1) - 1);
    });
    if (pod.status.phase === 'Succeeded') {
      st.succeeded.add(index);
      this.api.update('jobs', st.ns, st.name, (j) => {
        j.status.succeeded = st.succeeded.size;
        if (indexed) j.status.completedIndexes = rangeString(st.succeeded);
      });
      if (st.succeeded.size + st.failedIndexes.size >= completions) return this.settle(st, indexed);
      if (st.nextIndex < completions) this.createPod(st, st.nextIndex++);
      return;
    }
    // The pod failure policy, rule by rule, like the Job controller.
    const exitCode = pod.status.containerStatuses[0].state.terminated?.exitCode as number | undefined;
    for (const rule of (spec.podFailurePolicy?.rules ?? []) as KObj[]) {
      const onCond = (rule.onPodConditions ?? []) as KObj[];
      const condHit = onCond.some((c) =>
        (pod.status.conditions as KObj[]).some(
          (pc) => pc.type === c.type && pc.status === (c.status ?? 'True'),
        ),
      );
      const codes = rule.onExitCodes as KObj | undefined;
      const codeHit =
        codes !== undefined &&
        exitCode !== undefined &&
        (codes.operator === 'In' ? codes.values.includes(exitCode) : !codes.values.includes(exitCode));
      if (!condHit && !codeHit) continue;
      if (rule.action === 'Ignore') {
        this.createPod(st, index); // not counted: a replacement for the same index
        return;
      }
      if (rule.action === 'FailJob') {
        return this.finish(
          st,
          'Failed',
          'PodFailurePolicy',
          `Container job for pod ${st.ns}/${pod.metadata.name} failed with exit code ${exitCode} matching FailJob rule`,
        );
      }
    }
    this.api.update('jobs', st.ns, st.name, (j) => {
      j.status.failed = (j.status.failed ?? 0) + 1;
    });
    if (indexed && spec.backoffLimitPerIndex !== undefined) {
      const f = (st.failuresPerIndex.get(index) ?? 0) + 1;
      st.failuresPerIndex.set(index, f);
      if (f <= spec.backoffLimitPerIndex) return this.createPod(st, index);
      st.failedIndexes.add(index);
      this.api.update('jobs', st.ns, st.name, (j) => {
        j.status.failedIndexes = rangeString(st.failedIndexes);
      });
      if (spec.maxFailedIndexes !== undefined && st.failedIndexes.size > spec.maxFailedIndexes) {
        return this.finish(
          st,
          'Failed',
          'MaxFailedIndexesExceeded',
          'Job has exceeded the specified maximal number of failed indexes',
        );
      }
      if (st.succeeded.size + st.failedIndexes.size >= completions) return this.settle(st, indexed);
      if (st.nextIndex < completions) this.createPod(st, st.nextIndex++);
      return;
    }
    st.failures++;
    if (st.failures > (spec.backoffLimit ?? 6)) {
      return this.finish(st, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
    this.createPod(st, index);
  }

  private settle(st: JobState, indexed: boolean): void {
    if (indexed && st.failedIndexes.size > 0) {
      return this.finish(st, 'Failed', 'FailedIndexes', 'Job has failed indexes');
    }
    this.finish(st, 'Complete', undefined, undefined);
  }

  private finish(
    st: JobState,
    type: 'Complete' | 'Failed',
    reason: string | undefined,
    message: string | undefined,
  ): void {
    if (st.finished) return;
    st.finished = true;
    if (st.deadline) clearTimeout(st.deadline);
    // Terminate what still runs (a failed Job's remaining pods).
    for (const p of this.api.list('pods', st.ns)) {
      const owned = (p.metadata.ownerReferences ?? []).some((r: KObj) => r.uid === st.uid);
      if (owned && (p.status.phase === 'Running' || p.status.phase === 'Pending'))
        this.api.remove('pods', st.ns, p.metadata.name);
    }
    const now = new Date().toISOString();
    this.api.update('jobs', st.ns, st.name, (j) => {
      j.status.active = 0;
      j.status.conditions = [
        ...(j.status.conditions ?? []),
        {
          type,
          status: 'True',
          lastTransitionTime: now,
          ...(reason ? { reason } : {}),
          ...(message ? { message } : {}),
        },
      ];
      if (type === 'Complete') j.status.completionTime = now;
    });
  }
}
