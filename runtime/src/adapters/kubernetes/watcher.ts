/**
 * The watcher: list + watch of the installation's Jobs and Pods (resourceVersion, bookmarks),
 * relisting on 410 Gone and after errors (with backoff). Every change of a Job or of one of its
 * pods re-evaluates that Job's attempt through the observer (job events, state), one evaluation
 * per Job at a time. It can miss transitions while it is down; the reconciler covers those.
 */
import { Watch, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { ContainerObserver } from '../../application/observe-container-job.use-case.js';
import { CONTAINER_LABELS } from '../../domain/container-run.js';
import type { Logger } from '../../ports/logger.port.js';
import { installationSelector } from './job-manifest.js';
import type { KubeJobs } from './kube-jobs.js';
import { toRunView } from './run-view.js';

export interface WatcherOptions {
  readonly kubeConfig: KubeConfig;
  readonly kube: KubeJobs;
  readonly observer: ContainerObserver;
  readonly logger: Logger;
  /** The server ends each watch after this long (the watcher resumes from the last resourceVersion). */
  readonly watchTimeoutSeconds: number;
  /** Re-evaluation period of Jobs waiting on a bounded condition (image pull) or a failed write. */
  readonly tickMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
}

type Obj = V1Job | V1Pod;
type Kind = 'jobs' | 'pods';

interface WatchStatus {
  readonly code?: number;
  readonly reason?: string;
}

/** One resource's list + watch loop with a local cache. */
class ListWatch<T extends Obj> {
  readonly cache = new Map<string, T>();
  resourceVersion = '';
  relists = 0;
  private controller: AbortController | null = null;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly kind: Kind,
    private readonly path: string,
    private readonly selector: string,
    private readonly list: () => Promise<{ items: T[]; resourceVersion: string }>,
    private readonly opts: WatcherOptions,
    private readonly changed: (obj: T, deleted: boolean) => void,
  ) {}

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.controller?.abort();
  }

  private retryLater(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(
      this.opts.backoffMaxMs,
      this.opts.backoffMinMs * 2 ** Math.min(this.failures - 1, 10),
    );
    this.opts.logger.warn(
      { kind: this.kind, err, delayMs: delay },
      'watch failed; relisting after a backoff',
    );
    this.timer = setTimeout(() => void this.relist(), delay);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const { items, resourceVersion } = await this.list();
      this.relists++;
      const seen = new Set<string>();
      for (const item of items) {
        const name = item.metadata?.name ?? '';
        seen.add(name);
        const old = this.cache.get(name);
        this.cache.set(name, item);
        if (old?.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.changed(item, false);
      }
      for (const [name, old] of [...this.cache]) {
        if (!seen.has(name)) {
          this.cache.delete(name);
          this.changed(old, true);
        }
      }
      this.resourceVersion = resourceVersion;
      await this.watch();
    } catch (err) {
      this.retryLater(err);
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let gone = false;
    const params = {
      labelSelector: this.selector,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.opts.watchTimeoutSeconds,
    };
    this.controller = await new Watch(this.opts.kubeConfig).watch(
      this.path,
      params,
      (type: string, obj: T & WatchStatus) => {
        if (type === 'ERROR') {
          const status = obj as WatchStatus;
          if (status.code === 410) gone = true;
          this.controller?.abort();
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        const name = obj.metadata?.name ?? '';
        if (type === 'DELETED') this.cache.delete(name);
        else this.cache.set(name, obj);
        this.failures = 0;
        this.changed(obj, type === 'DELETED');
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (gone) {
          // 410 Gone: the resourceVersion is too old to resume from; start over with a list.
          this.opts.logger.info({ kind: this.kind }, 'watch expired (410 Gone); relisting');
          void this.relist();
        } else if (err && !(err instanceof Error && err.name === 'AbortError')) {
          this.retryLater(err);
        } else {
          // The server ended the watch (timeoutSeconds) or the stream was cut: resume.
          void this.watch().catch((e: unknown) => this.retryLater(e));
        }
      },
    );
  }
}

export class ContainerWatcher {
  private readonly jobs: ListWatch<V1Job>;
  private readonly pods: ListWatch<V1Pod>;
  private readonly podsByRun = new Map<string, Map<string, V1Pod>>();
  private readonly firstSeen = new Map<string, Date>();
  /** Finished Jobs whose outcome is recorded (or that are not ours to record). */
  private readonly done = new Set<string>();
  /** Jobs to evaluate again on the next tick. */
  private readonly again = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private tick: NodeJS.Timeout | null = null;
  /** Evaluations that ran (for tests and metrics). */
  evaluations = 0;

  constructor(private readonly opts: WatcherOptions) {
    const ns = opts.kube.opts.namespace;
    const selector = installationSelector(opts.kube.opts.installation);
    this.jobs = new ListWatch<V1Job>(
      'jobs',
      `/apis/batch/v1/namespaces/${ns}/jobs`,
      selector,
      () => opts.kube.listJobs(),
      opts,
      (job, deleted) => this.onJob(job, deleted),
    );
    this.pods = new ListWatch<V1Pod>(
      'pods',
      `/api/v1/namespaces/${ns}/pods`,
      selector,
      () => opts.kube.listPods(),
      opts,
      (pod, deleted) => this.onPod(pod, deleted),
    );
  }

  get relists(): number {
    return this.jobs.relists + this.pods.relists;
  }

  start(): void {
    this.jobs.start();
    this.pods.start();
    const loop = () => {
      this.tick = setTimeout(() => {
        for (const name of [...this.again]) this.schedule(name);
        loop();
      }, this.opts.tickMs);
      this.tick.unref();
    };
    loop();
  }

  async stop(): Promise<void> {
    this.jobs.stop();
    this.pods.stop();
    if (this.tick) clearTimeout(this.tick);
    this.tick = null;
    await Promise.allSettled([...this.chains.values()]);
  }

  private onJob(job: V1Job, deleted: boolean): void {
    const name = job.metadata?.name ?? '';
    if (deleted) {
      this.done.delete(name);
      this.again.delete(name);
      for (const key of [...this.firstSeen.keys()])
        if (key.startsWith(`${name}-`)) this.firstSeen.delete(key);
      return;
    }
    this.schedule(name);
  }

  private onPod(pod: V1Pod, deleted: boolean): void {
    const run = pod.metadata?.labels?.[CONTAINER_LABELS.run];
    const name = pod.metadata?.name ?? '';
    if (!run) return;
    const pods = this.podsByRun.get(run) ?? new Map<string, V1Pod>();
    if (deleted) pods.delete(name);
    else pods.set(name, pod);
    if (pods.size === 0) this.podsByRun.delete(run);
    else this.podsByRun.set(run, pods);
    if (!deleted) this.schedule(run);
  }

  /** Serializes evaluations per Job: a change during one evaluation is seen by the next. */
  private schedule(name: string): void {
    if (this.done.has(name)) return;
    const prev = this.chains.get(name) ?? Promise.resolve();
    const next = prev.then(() => this.evaluate(name));
    this.chains.set(name, next);
    void next.finally(() => {
      if (this.chains.get(name) === next) this.chains.delete(name);
    });
  }

  private async evaluate(name: string): Promise<void> {
    const job = this.jobs.cache.get(name);
    if (!job || this.done.has(name)) return;
    this.evaluations++;
    try {
      const finished = job.status?.conditions?.some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      // A finished Job's pods are read fresh: the pod watch may lag behind the Job's condition.
      const pods = finished
        ? (await this.opts.kube.listPods(`${CONTAINER_LABELS.run}=${name}`)).items
        : [...(this.podsByRun.get(name)?.values() ?? [])];
      const view = toRunView(job, pods, (key) => {
        let at = this.firstSeen.get(key);
        if (!at) {
          at = new Date();
          this.firstSeen.set(key, at);
        }
        return at;
      });
      if (!view) {
        this.done.add(name);
        return;
      }
      const o = await this.opts.observer.observe(view);
      this.again.delete(name);
      if (
        view.status !== 'active' ||
        o.outcome === 'stale' ||
        o.outcome === 'retried' ||
        o.outcome === 'dead_lettered'
      ) {
        this.done.add(name);
      } else if (view.signals.some((s) => s.reason === 'ImagePullBackOff' || s.reason === 'ErrImagePull')) {
        this.again.add(name);
      }
    } catch (err) {
      this.opts.logger.warn({ name, err }, 'evaluating a Job failed; trying again');
      this.again.add(name);
    }
  }
}
