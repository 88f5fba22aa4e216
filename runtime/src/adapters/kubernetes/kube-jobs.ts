/**
 * The Kubernetes API through `@kubernetes/client-node`: create/adopt, delete and list the Jobs of
 * one installation in the jobs namespace. Every call is bounded by `timeoutMs`; errors become
 * `KubeApiError` (HTTP status, `timeout` or `network`).
 */
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import type { ContainerSpec } from '@jobplane/sdk';
import { CONTAINER_LABELS } from '../../domain/container-run.js';
import {
  KubeApiError,
  type ContainerJobs,
  type ContainerLaunch,
  type ContainerRunView,
} from '../../ports/container.port.js';
import { buildJob, buildPayloadSecret, installationSelector, type ManifestOptions } from './job-manifest.js';
import { toRunView } from './run-view.js';

export interface KubeJobsOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly installation: string;
  readonly timeoutMs: number;
  /** The container spec and timeout of each container job type. */
  readonly specOf: (
    type: string,
  ) => { readonly spec: ContainerSpec; readonly timeoutSeconds: number } | undefined;
  readonly serviceAccountName?: string;
}

/** Loads the kubeconfig the standard way: `KUBECONFIG`, `~/.kube/config`, or the pod's service account. */
export function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

function toKubeError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let detail = '';
    if (typeof body === 'string') {
      try {
        detail = (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 200);
      } catch {
        detail = body.slice(0, 200);
      }
    } else if (body && typeof body === 'object') detail = (body as { message?: string }).message ?? '';
    return new KubeApiError(err.code, `${what}: HTTP ${err.code}${detail ? `: ${detail}` : ''}`);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new KubeApiError('network', `${what}: ${msg}`);
}

export class KubeJobs implements ContainerJobs {
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;

  constructor(readonly opts: KubeJobsOptions) {
    this.batch = opts.kubeConfig.makeApiClient(BatchV1Api);
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Runs one API call within the timeout; a late answer is ignored. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KubeApiError('timeout', `${what}: no answer within ${this.opts.timeoutMs} ms`)),
        this.opts.timeoutMs,
      );
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      throw toKubeError(err, what);
    } finally {
      clearTimeout(timer);
    }
  }

  private manifestOptions(timeoutSeconds: number): ManifestOptions {
    return {
      namespace: this.opts.namespace,
      installation: this.opts.installation,
      timeoutSeconds,
      ...(this.opts.serviceAccountName ? { serviceAccountName: this.opts.serviceAccountName } : {}),
    };
  }

  async launch(launch: ContainerLaunch): Promise<{ adopted: boolean }> {
    const found = this.opts.specOf(launch.type);
    if (!found)
      throw new KubeApiError(422, `job type '${launch.type}' is not a container job type of this catalog`);
    const mo = this.manifestOptions(found.timeoutSeconds);
    const namespace = this.opts.namespace;
    let job: V1Job;
    let adopted = false;
    try {
      job = await this.call(`create Job ${launch.name}`, () =>
        this.batch.createNamespacedJob({ namespace, body: buildJob(launch, found.spec, mo) }),
      );
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.status !== 409) throw err;
      // AlreadyExists: this attempt's Job was created before (a crash, a lost answer): adopt it.
      adopted = true;
      job = await this.call(`read Job ${launch.name}`, () =>
        this.batch.readNamespacedJob({ name: launch.name, namespace }),
      );
      if (job.metadata?.labels?.[CONTAINER_LABELS.token] !== launch.token) {
        throw new KubeApiError(409, `Job ${launch.name} exists with another attempt's token`);
      }
    }
    const uid = job.metadata?.uid;
    if (!uid) throw new KubeApiError('network', `Job ${launch.name} came back without a uid`);
    try {
      await this.call(`create Secret ${launch.name}`, () =>
        this.core.createNamespacedSecret({
          namespace,
          body: buildPayloadSecret(launch, { name: launch.name, uid }, mo),
        }),
      );
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.status !== 409) throw err;
    }
    return { adopted };
  }

  async delete(name: string): Promise<void> {
    try {
      await this.call(`delete Job ${name}`, () =>
        this.batch.deleteNamespacedJob({
          name,
          namespace: this.opts.namespace,
          propagationPolicy: 'Background',
        }),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return;
      throw err;
    }
  }

  async listJobs(): Promise<{ items: V1Job[]; resourceVersion: string }> {
    const list = await this.call('list Jobs', () =>
      this.batch.listNamespacedJob({
        namespace: this.opts.namespace,
        labelSelector: installationSelector(this.opts.installation),
      }),
    );
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async listPods(selector?: string): Promise<{ items: V1Pod[]; resourceVersion: string }> {
    const list = await this.call('list Pods', () =>
      this.core.listNamespacedPod({
        namespace: this.opts.namespace,
        labelSelector: selector ?? installationSelector(this.opts.installation),
      }),
    );
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async list(): Promise<readonly ContainerRunView[]> {
    const [jobs, pods] = await Promise.all([this.listJobs(), this.listPods()]);
    const byRun = new Map<string, V1Pod[]>();
    for (const p of pods.items) {
      const run = p.metadata?.labels?.[CONTAINER_LABELS.run];
      if (!run) continue;
      byRun.set(run, [...(byRun.get(run) ?? []), p]);
    }
    const now = new Date();
    return jobs.items.flatMap((j) => {
      const v = toRunView(j, byRun.get(j.metadata?.name ?? '') ?? [], () => now);
      return v ? [v] : [];
    });
  }
}
