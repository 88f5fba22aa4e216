/**
 * `jobplane launcher`: runs the catalog's container job types as Kubernetes Jobs. One replica is
 * the leader (PostgreSQL advisory lock): it consumes the container queues (one Job per attempt),
 * watches Jobs and Pods, and reconciles on an interval and on demand (`POST /admin/reconcile` on
 * METRICS_PORT, with JOBPLANE_ADMIN_KEY). The others wait to take over. See docs/container-jobs.md.
 */
import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import type { KubeConfig } from '@kubernetes/client-node';
import { validatePayload, type ContainerSpec } from '@jobplane/sdk';
import { createQueueWorker } from '../adapters/bullmq/bullmq-worker.js';
import { startHealthServer } from '../adapters/http/health-server.js';
import { containerAdminRoute } from '../adapters/http/routes/container-admin.routes.js';
import { defaultKubeConfig, KubeJobs } from '../adapters/kubernetes/kube-jobs.js';
import { ContainerWatcher } from '../adapters/kubernetes/watcher.js';
import { acquireLeadership, type Leadership } from '../adapters/postgres/advisory-leader.js';
import { PostgresContainerStore } from '../adapters/postgres/container-store.js';
import { createContainerLauncher } from '../application/launch-container-job.use-case.js';
import { createContainerObserver } from '../application/observe-container-job.use-case.js';
import {
  createContainerReconciler,
  type ContainerReconcileReport,
} from '../application/reconcile-container-jobs.use-case.js';
import { policyForBackoff } from '../domain/retry-policy.js';
import { SYSTEM_CLOCK } from '../ports/clock.port.js';
import type { ContainerCatalog } from '../ports/container.port.js';
import type { Catalog } from './catalog.js';
import type { Core } from './context.js';

/** Container queues a launcher consumes: LAUNCHER_QUEUES, or every container queue of the catalog. */
export function launcherQueues(catalog: Catalog, configured: readonly string[] | undefined): string[] {
  return configured
    ? [...configured]
    : catalog
        .queues()
        .filter((q) => q.mode === 'container')
        .map((q) => q.name);
}

/** The container job types of a catalog as the launcher's use cases see them. */
export function containerCatalogOf(
  catalog: Catalog,
  fallback: { baseDelayMs: number; maxDelayMs: number },
): ContainerCatalog {
  const infos = new Map(
    catalog.jobTypes
      .filter((d) => d.mode === 'container')
      .map((d) => [
        d.type,
        {
          timeoutSeconds: d.timeoutSeconds,
          retryPolicy: d.backoff ? policyForBackoff(d.backoff) : fallback,
          parseResult: (value: Record<string, unknown>) => {
            if (!d.result) return { ok: true as const };
            const r = validatePayload({ payload: d.result }, value);
            return r.ok ? { ok: true as const } : { ok: false as const, problems: r.problems };
          },
        },
      ]),
  );
  return (type) => infos.get(type);
}

export interface LauncherOverrides {
  readonly kubeConfig?: KubeConfig;
  /** Watcher re-evaluation tick (image-pull waits); default 1000 ms. */
  readonly tickMs?: number;
  /** False: no watcher (tests of the reconciler alone: a watcher down for a Job's whole life). */
  readonly watch?: boolean;
}

export interface RunningLauncher {
  readonly health: Server;
  isLeader(): boolean;
  /** Runs the reconciler now (leader only). */
  reconcile(): Promise<ContainerReconcileReport>;
  stop(): Promise<void>;
}

export async function runLauncher(core: Core, overrides: LauncherOverrides = {}): Promise<RunningLauncher> {
  const { config, logger, catalog } = core;
  const kubeConfig = overrides.kubeConfig ?? defaultKubeConfig();
  const fallback = { baseDelayMs: config.RETRY_BASE_DELAY_MS, maxDelayMs: config.RETRY_MAX_DELAY_MS };
  const containerCatalog = containerCatalogOf(catalog, fallback);
  const specs = new Map<string, { spec: ContainerSpec; timeoutSeconds: number }>();
  for (const d of catalog.jobTypes) {
    if (d.mode === 'container' && d.container)
      specs.set(d.type, { spec: d.container, timeoutSeconds: d.timeoutSeconds });
  }
  const kube = new KubeJobs({
    kubeConfig,
    namespace: config.LAUNCHER_NAMESPACE,
    installation: config.LAUNCHER_INSTALLATION,
    timeoutMs: config.LAUNCHER_KUBE_TIMEOUT_MS,
    specOf: (type) => specs.get(type),
    ...(config.LAUNCHER_JOB_SERVICE_ACCOUNT
      ? { serviceAccountName: config.LAUNCHER_JOB_SERVICE_ACCOUNT }
      : {}),
  });
  const store = new PostgresContainerStore(core.pool, core.store);
  const observer = createContainerObserver({
    store,
    jobs: kube,
    catalog: containerCatalog,
    clock: SYSTEM_CLOCK,
    random: Math.random,
    logger,
    imagePullGraceMs: config.LAUNCHER_IMAGE_PULL_GRACE_SECONDS * 1000,
  });
  const reconciler = createContainerReconciler({
    store,
    jobs: kube,
    observer,
    catalog: containerCatalog,
    clock: SYSTEM_CLOCK,
    random: Math.random,
    logger,
    graceMs: config.LAUNCHER_RECONCILE_GRACE_MS,
  });
  const launcher = createContainerLauncher({ store, jobs: kube, logger, workerId: core.workerId });
  const queues = launcherQueues(catalog, config.LAUNCHER_QUEUES);

  const stopping = new AbortController();
  let leading: {
    workers: Worker[];
    watcher: ContainerWatcher;
    timer: NodeJS.Timeout;
    unsubscribe: () => Promise<void>;
  } | null = null;
  let reconciling: Promise<ContainerReconcileReport> | null = null;
  const reconcile = (): Promise<ContainerReconcileReport> => {
    // One pass at a time: an on-demand request joins the pass in flight.
    reconciling ??= reconciler().finally(() => (reconciling = null));
    return reconciling;
  };

  const lead = async (leadership: Leadership) => {
    logger.info({ queues, namespace: config.LAUNCHER_NAMESPACE }, 'launcher is the leader');
    const watcher = new ContainerWatcher({
      kubeConfig,
      kube,
      observer,
      logger,
      watchTimeoutSeconds: config.LAUNCHER_WATCH_TIMEOUT_SECONDS,
      tickMs: overrides.tickMs ?? 1000,
      backoffMinMs: 200,
      backoffMaxMs: 10_000,
    });
    if (overrides.watch !== false) watcher.start();
    const unsubscribe = await core.cancelBus.subscribe((jobId) => {
      // A cancelled job's Job is deleted now (the reconciler would find it too).
      void kube
        .listJobs()
        .then(async ({ items }) => {
          for (const j of items) {
            if (j.metadata?.labels?.['jobplane.dev/job-id'] === jobId && j.metadata.name)
              await kube.delete(j.metadata.name);
          }
        })
        .catch((err: unknown) =>
          logger.warn({ err, jobId }, 'deleting a cancelled job failed; the reconciler will'),
        );
    });
    const workers = queues.map((queue) =>
      createQueueWorker({
        queue,
        url: config.REDIS_URL,
        prefix: config.QUEUE_PREFIX,
        concurrency: config.WORKER_CONCURRENCY,
        lockDurationMs: config.LOCK_DURATION_MS,
        stalledIntervalMs: config.STALLED_INTERVAL_MS,
        maxStalledCount: config.MAX_STALLED_COUNT,
        processor: {
          process: launcher.process,
          cancel: () => false,
          abortAll: () => undefined,
          running: () => 0,
        },
        logger,
      }),
    );
    const timer = setInterval(() => {
      void reconcile().catch((err: unknown) => logger.warn({ err }, 'container reconcile failed'));
    }, config.LAUNCHER_RECONCILE_INTERVAL_MS);
    leading = { workers, watcher, timer, unsubscribe };
    await Promise.race([
      leadership.lost,
      new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true })),
    ]);
    if (!stopping.signal.aborted) logger.error('launcher lost its leader lock; standing down');
    leading = null;
    clearInterval(timer);
    await Promise.allSettled(workers.map((w) => w.close()));
    await unsubscribe().catch(() => undefined);
    await watcher.stop();
    await leadership.release();
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let leadership: Leadership;
      try {
        leadership = await acquireLeadership(
          {
            connectionString: config.DATABASE_URL,
            name: `jobplane-launcher:${config.DATABASE_SCHEMA}:${config.LAUNCHER_INSTALLATION}`,
            pollMs: config.LAUNCHER_LEADER_POLL_MS,
            onError: (err) => logger.warn({ err }, 'leader lock attempt failed'),
          },
          stopping.signal,
        );
      } catch {
        return;
      }
      await lead(leadership).catch((err: unknown) =>
        logger.error({ err }, 'launcher leadership ended with an error'),
      );
    }
  })();

  const health = await startHealthServer({
    host: config.HOST,
    port: config.METRICS_PORT,
    checks: core.health,
    metrics: core.metrics,
    isAccepting: () => !stopping.signal.aborted,
    post: containerAdminRoute({
      adminKey: config.JOBPLANE_ADMIN_KEY,
      isLeader: () => leading !== null,
      reconcile,
    }),
  });
  logger.info({ queues, catalog: catalog.name }, 'launcher started');
  return {
    health,
    isLeader: () => leading !== null,
    reconcile,
    async stop() {
      stopping.abort();
      await loop;
      await new Promise<void>((resolve) => health.close(() => resolve()));
    },
  };
}
