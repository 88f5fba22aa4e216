/**
 * The typed environment config: everything that differs between dev, staging and prod is data in
 * one of these objects, never an `if (prod)` in a construct. The job types and queues come from
 * the catalog passed to `JobPlatform`; `workers`/`isolated` size its queues by name.
 */
import type { JobApiAutoscaling } from '../job-api.js';
import type { ResourceSpec } from '../lib/resources.js';
import type { IngressController } from '../api-ingress.js';
import type { NamespaceQuota } from '../namespace-quota.js';
import type { ExternalEndpoint } from '../redis.js';
import type { AlertmanagerConfigOptions } from '../alertmanager-config.js';
import type { NatsProps } from '../nats.js';

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
  /**
   * In-cluster namespaces whose pods call the API directly, besides the ingress controller (which
   * is always admitted). @default none
   */
  readonly apiClientNamespaces?: readonly string[];
  /** The API's Ingress (TLS through cert-manager). @default no Ingress */
  readonly ingress?: IngressConfig;
  /** PriorityClasses and zone spread. @default priorities on, no zone spread */
  readonly scheduling?: SchedulingConfig;
  /** What the cluster can hold: checked by the verifier (CAP rules, docs/infra.md). */
  readonly capacity: CapacityConfig;
  /**
   * Alert delivery: Alertmanager routes by severity to webhook receivers, with inhibition
   * (in-cluster monitoring: an Alertmanager Deployment; operator: an AlertmanagerConfig).
   * @default no Alertmanager (alerts are only evaluated)
   */
  readonly alerting?: AlertingConfig;
  /** Trace export of the api, relay, workers and launcher (OTLP/HTTP). @default no export */
  readonly otlp?: OtlpConfig;
  /**
   * NATS with JetStream for the event spine (`NATS_URL` of api, relay and workers): in-cluster
   * (`{}` or sizing) or `{ external, cidrs }`. @default none
   */
  readonly nats?: NatsProps;
  /** Runtime `LOG_LEVEL`. @default 'info' */
  readonly logLevel?: 'debug' | 'info' | 'warn';
  /**
   * Argo CD destination cluster *name* for this environment's Application. Every cluster's Argo CD
   * registers itself under its environment's name, so the shared root app-of-apps only deploys the
   * matching environment there (the others report an unknown cluster and do nothing).
   */
  readonly argocdCluster: string;
}

/** The API's public entry: host and, when they differ from the stacks' defaults, class and issuer. */
export interface IngressConfig {
  /** Public DNS name of the API (validated: lower-case FQDN, no wildcard, no IP). */
  readonly host: string;
  /** @default DEFAULT_INGRESS.className ('traefik') */
  readonly className?: string;
  /** @default DEFAULT_INGRESS.clusterIssuer ('jobplane') */
  readonly clusterIssuer?: string;
  /** @default DEFAULT_INGRESS.controller (namespace 'traefik', pods 'app.kubernetes.io/name: traefik') */
  readonly controller?: IngressController;
}

export interface SchedulingConfig {
  /**
   * Zone spread of the api, relay and workers (`topology.kubernetes.io/zone`). api and relay get
   * this mode; workers and Jobs always `ScheduleAnyway` (they must not wait for a zone).
   * @default none (single-zone dev)
   */
  readonly zoneSpread?: 'DoNotSchedule' | 'ScheduleAnyway';
}

/** Quantities of one node or of a node pool. */
export interface NodeResources {
  /** CPU, e.g. `3920m`. */
  readonly cpu: string;
  /** Memory, e.g. `14Gi`. */
  readonly memory: string;
}

export interface CapacityConfig {
  /**
   * Allocatable of the largest node a pod of this environment can land on (instance capacity
   * minus kubelet/system reservations). Every pod's requests must fit it (CAP-fit).
   */
  readonly largestNode: NodeResources & { readonly description: string };
  /**
   * Limits of the node autoscaler's pool (Karpenter NodePool `limits`; the stacks' config).
   * Scaler maxima × requests must stay within them (CAP-pool). @default no autoscaler (not checked)
   */
  readonly nodePoolLimits?: NodeResources;
}

export interface AlertingConfig {
  /** Webhook receivers of critical and warning alerts (placeholders are fine until one exists). */
  readonly receivers: AlertmanagerConfigOptions;
  /** Where the receivers are (in-cluster Alertmanager egress). @default ['0.0.0.0/0'] */
  readonly receiverCidrs?: readonly string[];
}

export interface OtlpConfig {
  /** OTLP/HTTP endpoint, e.g. `http://collector.observability.svc:4318` (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  readonly endpoint: string;
  /** The collector's CIDRs (runtime egress). @default any address, on the endpoint's port only */
  readonly cidrs?: readonly string[];
  /** Or the collector's namespace (and pod labels) when it runs in the cluster. @default none */
  readonly namespace?: string;
  readonly podLabels?: Readonly<Record<string, string>>;
}
