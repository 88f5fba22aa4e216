/**
 * JobPlatform: the whole platform from one typed environment config — the Jobs namespace's quota
 * (the Namespaces themselves belong to the stacks), PriorityClasses, NetworkPolicies, the API's
 * Ingress, data stores (in-cluster or external), Prometheus
 * (in-cluster or operator), migrations, api, relay, one WorkerPool + QueueScaler per pooled queue
 * and one IsolatedJobTemplate per isolated queue of the team's job-type catalog (`catalog`), each
 * with the drain contract of its queue. `environment.workers` / `environment.isolated` size the
 * catalog's queues by name.
 */
import { Construct } from 'constructs';
import { selectorLabels as selectorLabelsOf } from './lib/labels.js';
import type { Catalog, ExecutionMode } from '@jobplane/sdk';
import type { EnvironmentConfig, WorkerPoolSizing } from './environments/environment.js';
import { IsolatedJobTemplate } from './isolated-job-template.js';
import { JobApi } from './job-api.js';
import { Launcher } from './launcher.js';
import { checkCatalog, checkQueue } from './lib/catalog.js';
import { PropValidationError, checkDnsLabel } from './lib/errors.js';
import type { ImageRef } from './lib/image.js';
import { Migrations } from './migrations.js';
import { NetworkPolicies, type DataStoreAccess } from './network-policies.js';
import { NamespaceQuotaPolicy } from './namespace-quota.js';
import { PriorityClasses } from './priority-classes.js';
import { ApiIngress } from './api-ingress.js';
import type { PodScheduling } from './lib/pod.js';
import { Postgres } from './postgres.js';
import { PROMETHEUS_PORT, Prometheus } from './prometheus.js';
import { Redis } from './redis.js';
import { Relay } from './relay.js';
import { WorkerPool } from './worker-pool.js';
import { ALERTMANAGER_PORT, Alertmanager } from './alertmanager.js';
import { Nats } from './nats.js';
import { checkOtlpEndpoint, type RuntimeIntegrations } from './lib/runtime.js';

/** An additional worker pool (e.g. a second pool on a queue for benchmarks). */
export interface ExtraWorkerPool extends WorkerPoolSizing {
  /** Distinct name, e.g. `jobplane-worker-default-b`. */
  readonly name: string;
  /** A pooled queue of the catalog. */
  readonly queue: string;
}

export interface JobPlatformProps {
  /**
   * The job types the image runs (`defineCatalog` of `@jobplane/sdk`, usually the default export
   * of the team's catalog module). Only its data is read: no handler code is loaded.
   */
  readonly catalog: Catalog;
  /**
   * Where the catalog module is inside the image (`JOBPLANE_CATALOG` of every runtime container),
   * when the image does not set it itself. @default the image's own `JOBPLANE_CATALOG`
   */
  readonly catalogModule?: string;
  readonly environment: EnvironmentConfig;
  /** Image tag (git SHA or release), never `latest`. */
  readonly imageTag: string;
  /** Optional image digest (`sha256:…`). @default none */
  readonly imageDigest?: string;
  /** Worker pools besides the one per pooled queue. @default none */
  readonly extraWorkerPools?: readonly ExtraWorkerPool[];
}

export class JobPlatform extends Construct {
  readonly api: JobApi;
  readonly relay: Relay;
  readonly workerPools: readonly WorkerPool[];
  readonly isolatedJobs: readonly IsolatedJobTemplate[];
  readonly prometheus: Prometheus;
  readonly migrations: Migrations;
  /** Set when the catalog has container job types (see docs/container-jobs.md). */
  readonly launcher?: Launcher;
  readonly namespaces: { readonly platform: string; readonly jobs: string };
  readonly priorityClasses: PriorityClasses;
  readonly ingress?: ApiIngress;
  /** Set when `environment.alerting` is. */
  readonly alertmanager?: Alertmanager;
  /** Set when `environment.nats` is. */
  readonly nats?: Nats;

  constructor(scope: Construct, id: string, props: JobPlatformProps) {
    super(scope, id);
    const catalog = checkCatalog('catalog', props.catalog);
    const env = props.environment;
    checkDnsLabel('environment.name', env.name);
    const sizing = (prop: 'workers' | 'isolated', mode: ExecutionMode) => {
      const entries = env[prop] ?? {};
      const queues = catalog
        .queues()
        .filter((q) => q.mode === mode)
        .map((q) => q.name);
      for (const name of Object.keys(entries)) {
        if (!queues.includes(name)) {
          const actual = catalog.queue(name);
          throw new PropValidationError(
            `'environment.${prop}.${name}' sizes ${actual ? `the ${actual.mode} queue '${name}'` : `'${name}', which is not a queue`} of catalog '${catalog.name}'; ${prop} sizes its ${mode} queues (${queues.join(', ') || 'none'})`,
          );
        }
      }
      return entries;
    };
    const workerSizing = sizing('workers', 'pooled');
    const isolatedSizing = sizing('isolated', 'isolated');
    const platform = checkDnsLabel('environment.namespaces.platform', env.namespaces?.platform ?? 'jobplane');
    const jobs = checkDnsLabel('environment.namespaces.jobs', env.namespaces?.jobs ?? 'jobplane-jobs');
    if (platform === jobs)
      throw new PropValidationError(
        `'environment.namespaces.jobs' ('${jobs}') must differ from the platform namespace`,
      );
    this.namespaces = { platform, jobs };
    const image: ImageRef = {
      repository: env.imageRepository,
      tag: props.imageTag,
      ...(props.imageDigest ? { digest: props.imageDigest } : {}),
    };
    const extraEnv: Record<string, string> = { LOG_LEVEL: env.logLevel ?? 'info' };
    if (props.catalogModule !== undefined) {
      if (typeof props.catalogModule !== 'string' || props.catalogModule.trim() === '')
        throw new PropValidationError(
          `'catalogModule' (${JSON.stringify(props.catalogModule)}) must be a non-empty module specifier or path`,
        );
      extraEnv['JOBPLANE_CATALOG'] = props.catalogModule;
    }

    // The Namespaces belong to the stacks (Pulumi); the platform only adds the Jobs quota.
    new NamespaceQuotaPolicy(this, 'JobsQuota', { namespace: jobs, quota: env.jobsQuota });
    this.priorityClasses = new PriorityClasses(this, 'PriorityClasses');
    const prio = this.priorityClasses.names;
    const zoneSpread = env.scheduling?.zoneSpread;
    const platformPods: PodScheduling = {
      priorityClassName: prio.platform,
      ...(zoneSpread ? { zoneSpread } : {}),
    };
    const workerPods: PodScheduling = {
      priorityClassName: prio.workers,
      ...(zoneSpread ? { zoneSpread: 'ScheduleAnyway' as const } : {}),
    };
    const batchPods: PodScheduling = {
      priorityClassName: prio.batch,
      ...(zoneSpread ? { zoneSpread: 'ScheduleAnyway' as const } : {}),
    };
    const servicePods: PodScheduling = { priorityClassName: prio.platform };

    const storageClassName =
      env.dataStores.mode === 'in-cluster' ? env.dataStores.storageClassName : undefined;
    const redis = new Redis(this, 'Redis', {
      namespace: platform,
      scheduling: servicePods,
      ...(env.dataStores.mode === 'external' ? { external: env.dataStores.redis } : { storageClassName }),
    });
    const postgres = new Postgres(this, 'Postgres', {
      namespace: platform,
      scheduling: servicePods,
      ...(env.dataStores.mode === 'external' ? { external: env.dataStores.postgres } : { storageClassName }),
    });

    const monitoring = env.monitoring;
    if (env.alerting) {
      this.alertmanager = new Alertmanager(this, 'Alertmanager', {
        mode: monitoring.mode,
        namespace: platform,
        scheduling: servicePods,
        receivers: env.alerting.receivers,
        ...(env.alerting.receiverCidrs ? { receiverCidrs: env.alerting.receiverCidrs } : {}),
        ...(monitoring.mode === 'in-cluster'
          ? { senders: selectorLabelsOf('prometheus', 'jobplane-prometheus') }
          : monitoring.selectorLabels
            ? { operatorSelectorLabels: monitoring.selectorLabels }
            : {}),
      });
    }
    if (env.nats) {
      this.nats = new Nats(
        this,
        'Nats',
        'external' in env.nats
          ? env.nats
          : { namespace: platform, scheduling: servicePods, storageClassName, ...env.nats },
      );
    }
    const otlp = env.otlp;
    let otlpPort: number | undefined;
    if (otlp) {
      const u = new URL(checkOtlpEndpoint('environment.otlp.endpoint', otlp.endpoint));
      otlpPort = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    }
    const integrations = (withNats: boolean): RuntimeIntegrations => ({
      ...(otlp ? { otlpEndpoint: otlp.endpoint } : {}),
      ...(withNats && this.nats ? { natsUrl: this.nats.url } : {}),
    });
    this.prometheus = new Prometheus(this, 'Prometheus', {
      ...(this.alertmanager?.mode === 'in-cluster' ? { alertmanagers: [this.alertmanager.target] } : {}),
      mode: monitoring.mode,
      namespace: platform,
      scheduling: servicePods,
      scrapeNamespaces: [platform, jobs],
      ...(monitoring.mode === 'operator' && monitoring.selectorLabels
        ? { operatorSelectorLabels: monitoring.selectorLabels }
        : {}),
    });
    const prometheusAddress =
      monitoring.mode === 'operator' ? monitoring.prometheusAddress : this.prometheus.address;

    const access = (store: Redis | Postgres): DataStoreAccess =>
      store.external
        ? { port: store.port, cidrs: store.external.cidrs }
        : { port: store.port, selector: store.selector! };
    new NetworkPolicies(this, 'NetworkPolicies', {
      platformNamespace: platform,
      jobsNamespace: jobs,
      redis: access(redis),
      postgres: access(postgres),
      scraper:
        monitoring.mode === 'operator'
          ? { kind: 'namespace', namespace: monitoring.namespace }
          : { kind: 'pods', selector: this.prometheus.selector!, port: PROMETHEUS_PORT },
      ...(env.kedaNamespace ? { kedaNamespace: env.kedaNamespace } : {}),
      ...(env.apiClientNamespaces ? { apiClientNamespaces: env.apiClientNamespaces } : {}),
      ...(env.ingress?.controller ? { ingressController: env.ingress.controller } : {}),
      ...(this.alertmanager?.selector
        ? { alertmanager: { selector: this.alertmanager.selector, port: ALERTMANAGER_PORT } }
        : {}),
      ...(this.nats
        ? {
            nats: this.nats.selector
              ? { port: this.nats.port, selector: this.nats.selector }
              : { port: this.nats.port, cidrs: this.nats.cidrs! },
          }
        : {}),
      ...(otlp && otlpPort !== undefined
        ? {
            otlp: {
              port: otlpPort,
              ...(otlp.namespace
                ? { namespace: otlp.namespace, ...(otlp.podLabels ? { podLabels: otlp.podLabels } : {}) }
                : { cidrs: otlp.cidrs ?? ['0.0.0.0/0'] }),
            },
          }
        : {}),
    });

    // A Sync hook in the migrations wave: after namespaces, ServiceAccounts, policies (foundation)
    // and in-cluster data stores, before api/workers. A PreSync hook would run before the
    // namespace and its ServiceAccount exist on the first sync (and before an in-cluster database).
    this.migrations = new Migrations(this, 'Migrations', {
      image,
      namespace: platform,
      hook: 'Sync',
      scheduling: servicePods,
    });

    this.api = new JobApi(this, 'Api', {
      image,
      namespace: platform,
      replicas: env.api.replicas,
      scheduling: platformPods,
      ...(env.api.autoscaling ? { autoscaling: env.api.autoscaling } : {}),
      ...(env.api.resources ? { resources: env.api.resources } : {}),
      integrations: integrations(true),
      extraEnv,
    });
    this.relay = new Relay(this, 'Relay', {
      image,
      namespace: platform,
      replicas: env.relay.replicas,
      scheduling: platformPods,
      integrations: integrations(true),
      extraEnv,
    });
    if (env.ingress) {
      this.ingress = new ApiIngress(this, 'ApiIngress', {
        host: env.ingress.host,
        namespace: platform,
        service: { name: this.api.name, portName: 'http' },
        ...(env.ingress.className ? { className: env.ingress.className } : {}),
        ...(env.ingress.clusterIssuer ? { clusterIssuer: env.ingress.clusterIssuer } : {}),
      });
    }

    const pools: WorkerPool[] = [];
    const isolated: IsolatedJobTemplate[] = [];
    const addPool = (cid: string, queue: string, sizing: WorkerPoolSizing, name?: string) =>
      pools.push(
        new WorkerPool(this, cid, {
          image,
          catalog,
          queue,
          namespace: platform,
          scheduling: workerPods,
          ...(name ? { name } : {}),
          ...(sizing.concurrency !== undefined ? { concurrency: sizing.concurrency } : {}),
          ...(sizing.resources ? { resources: sizing.resources } : {}),
          integrations: integrations(true),
          extraEnv,
          scaling: {
            prometheusAddress,
            ...(sizing.minReplicas !== undefined ? { minReplicas: sizing.minReplicas } : {}),
            ...(sizing.maxReplicas !== undefined ? { maxReplicas: sizing.maxReplicas } : {}),
            ...(sizing.scaleToZero !== undefined ? { scaleToZero: sizing.scaleToZero } : {}),
          },
        }),
      );
    for (const spec of catalog.queues()) {
      if (spec.mode === 'pooled') {
        addPool(`Worker-${spec.name}`, spec.name, workerSizing[spec.name] ?? {});
      } else if (spec.mode === 'isolated') {
        const sizing = isolatedSizing[spec.name] ?? {};
        isolated.push(
          new IsolatedJobTemplate(this, `Isolated-${spec.name}`, {
            image,
            catalog,
            queue: spec.name,
            namespace: jobs,
            scheduling: batchPods,
            prometheusAddress,
            ...(sizing.maxReplicas !== undefined ? { maxReplicas: sizing.maxReplicas } : {}),
            ...(sizing.resources ? { resources: sizing.resources } : {}),
            extraEnv,
          }),
        );
      }
    }
    const names = new Set(pools.map((p) => p.name));
    for (const [i, extra] of (props.extraWorkerPools ?? []).entries()) {
      if (names.has(extra.name)) {
        throw new PropValidationError(
          `'extraWorkerPools[${i}].name' ('${extra.name}') is already used by another worker pool`,
        );
      }
      names.add(extra.name);
      checkQueue(`extraWorkerPools[${i}].queue`, catalog, extra.queue, 'pooled');
      addPool(`ExtraWorker-${extra.name}`, extra.queue, extra, extra.name);
    }
    this.workerPools = pools;
    this.isolatedJobs = isolated;
    if (catalog.queues().some((q) => q.mode === 'container')) {
      this.launcher = new Launcher(this, 'Launcher', {
        image,
        scheduling: platformPods,
        catalog,
        namespace: platform,
        jobsNamespace: jobs,
        integrations: integrations(false),
        extraEnv,
      });
    }
  }
}
