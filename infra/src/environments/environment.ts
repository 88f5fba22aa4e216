/**
 * The typed environment config: everything that differs between dev, staging and prod is data in
 * one of these objects, never an `if (prod)` in a construct. The job types and queues come from
 * the catalog passed to `JobPlatform`; `workers`/`isolated` size its queues by name.
 */
import type { JobApiAutoscaling } from '../job-api.js';
import type { ResourceSpec } from '../lib/resources.js';
import type { NamespaceQuota } from '../platform-namespace.js';
import type { ExternalEndpoint } from '../redis.js';

/** Scaling and sizing of the worker pool of one pooled queue. */
export interface WorkerPoolSizing {
  /** @default the queue's `concurrency` in the catalog, else 10 */
  readonly concurrency?: number;
  /** @default 1 */
  readonly minReplicas?: number;
  /** @default 10 */
  readonly maxReplicas?: number;
  /** @default false */
  readonly scaleToZero?: boolean;
  /** @default WorkerPool default */
  readonly resources?: ResourceSpec;
}

/** Sizing of the ScaledJob of one isolated queue. */
export interface IsolatedQueueSizing {
  /** @default 10 */
  readonly maxReplicas?: number;
  /** @default IsolatedJobTemplate default */
  readonly resources?: ResourceSpec;
}

export type DataStoresConfig =
  | { readonly mode: 'in-cluster'; readonly storageClassName?: string }
  | { readonly mode: 'external'; readonly redis: ExternalEndpoint; readonly postgres: ExternalEndpoint };

export type MonitoringConfig =
  | { readonly mode: 'in-cluster' }
  | {
      readonly mode: 'operator';
      /** Namespace of the operator's Prometheus (NetworkPolicy source of scrapes). */
      readonly namespace: string;
      /** URL KEDA queries. */
      readonly prometheusAddress: string;
      /** Labels the operator selects ServiceMonitors/PrometheusRules by. */
      readonly selectorLabels?: Record<string, string>;
    };

export interface EnvironmentConfig {
  /** Environment name: folder `charts-out/<name>` and Application `jobplane-<name>`. */
  readonly name: string;
  /** Image repository (tag comes from `infra/image-tags.json` or JOBPLANE_IMAGE_TAG). */
  readonly imageRepository: string;
  /** @default { platform: 'jobplane', jobs: 'jobplane-jobs' } */
  readonly namespaces?: { readonly platform: string; readonly jobs: string };
  readonly api: {
    readonly replicas: number;
    readonly autoscaling?: JobApiAutoscaling;
    readonly resources?: ResourceSpec;
  };
  /** 1 or 2 relay replicas. */
  readonly relay: { readonly replicas: number };
  /**
   * Sizing per pooled queue of the catalog, keyed by queue name; queues not listed get the
   * defaults. A key that is not a pooled queue of the catalog is refused. @default {}
   */
  readonly workers?: Readonly<Record<string, WorkerPoolSizing>>;
  /**
   * Sizing per isolated queue of the catalog, keyed by queue name; queues not listed get the
   * defaults. A key that is not an isolated queue of the catalog is refused. @default {}
   */
  readonly isolated?: Readonly<Record<string, IsolatedQueueSizing>>;
  readonly dataStores: DataStoresConfig;
  readonly monitoring: MonitoringConfig;
  /** Quota of the isolated-Jobs namespace. */
  readonly jobsQuota: NamespaceQuota;
  /** Namespace of the KEDA operator. @default 'keda' */
  readonly kedaNamespace?: string;
  /** Namespaces allowed to call the API (ingress controller). @default all */
  readonly apiClientNamespaces?: readonly string[];
  /** Runtime `LOG_LEVEL`. @default 'info' */
  readonly logLevel?: 'debug' | 'info' | 'warn';
  /**
   * Argo CD destination cluster *name* for this environment's Application. Every cluster's Argo CD
   * registers itself under its environment's name, so the shared root app-of-apps only deploys the
   * matching environment there (the others report an unknown cluster and do nothing).
   */
  readonly argocdCluster: string;
}
