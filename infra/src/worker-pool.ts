/**
 * WorkerPool: a Deployment of `jobplane worker` consuming one pooled queue of a catalog. Its
 * termination grace period, preStop delay and in-app drain budget (`DRAIN_TIMEOUT_SECONDS`) all
 * come from the drain contract of that queue (`drainContract(catalog, queue)` of `@jobplane/sdk`,
 * derived from its job types' timeouts), so scale-in and rollouts let in-flight jobs finish.
 * With `scaling`, a {@link QueueScaler} (KEDA) owns the replica count.
 * @see https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { drainContract, type Catalog, type DrainContract, type QueueSpec } from '@jobplane/sdk';
import { checkCatalog, checkQueue } from './lib/catalog.js';
import { PropValidationError, checkDnsLabel, checkInt } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { objectLabels, selectorLabels } from './lib/labels.js';
import { metricsService, podDisruptionBudget, rollingDeployment } from './lib/objects.js';
import { container, httpProbe, podTemplate, type PodScheduling } from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import {
  DEFAULT_RUNTIME_SECRETS,
  METRICS_PORT,
  runtimeEnv,
  type RuntimeSecrets,
  integrationEnv,
  type RuntimeIntegrations,
} from './lib/runtime.js';
import { QueueScaler, type QueueScalerOptions } from './queue-scaler.js';
import { PlatformServiceAccount } from './service-account.js';

/** Longest pool name: `<name>-metrics` (the metrics Service) must be a 63-character DNS label. */
export const MAX_POOL_NAME_LENGTH = 63 - '-metrics'.length;

export interface WorkerPoolProps {
  /** Trace export (OTEL_*) and the event spine (NATS_URL). @default none */
  readonly integrations?: RuntimeIntegrations;
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  /** Image of the runtime. Never `latest`. */
  readonly image: ImageRef;
  /** The job-type catalog the image runs (`defineCatalog` of `@jobplane/sdk`). */
  readonly catalog: Catalog;
  /** A pooled queue of `catalog`. */
  readonly queue: string;
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** @default `jobplane-worker-<queue>` */
  readonly name?: string;
  /** Fixed replica count; ignored when `scaling` is set. @default 1 */
  readonly replicas?: number;
  /** Jobs processed concurrently per pod (`WORKER_CONCURRENCY`). @default the queue's `concurrency` in the catalog, else 10 */
  readonly concurrency?: number;
  /** KEDA scaling on the queue's real backlog. @default fixed `replicas` */
  readonly scaling?: QueueScalerOptions;
  /** @default { cpu: '250m', memory: '512Mi' } */
  readonly resources?: ResourceSpec;
  /** @default DEFAULT_RUNTIME_SECRETS */
  readonly secrets?: Partial<RuntimeSecrets>;
  /** Extra runtime config (schema keys, no credentials). @default none */
  readonly extraEnv?: Record<string, string>;
}

export class WorkerPool extends Construct {
  /** The L1 Deployment (escape hatch). */
  readonly resource: ApiObject;
  readonly name: string;
  readonly namespace: string;
  readonly queue: string;
  /** The queue as the catalog declares it. */
  readonly spec: QueueSpec;
  readonly concurrency: number;
  readonly drain: DrainContract;
  readonly selector: Record<string, string>;
  readonly scaler?: QueueScaler;

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const catalog = checkCatalog('catalog', props.catalog);
    this.spec = checkQueue('queue', catalog, props.queue, 'pooled');
    this.queue = props.queue;
    this.name = checkDnsLabel('name', props.name ?? `jobplane-worker-${props.queue}`);
    if (this.name.length > MAX_POOL_NAME_LENGTH) {
      throw new PropValidationError(
        `'name' ('${this.name}') must be at most ${MAX_POOL_NAME_LENGTH} characters: its metrics Service is '<name>-metrics'`,
      );
    }
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    const replicas = checkInt('replicas', props.replicas ?? 1, 1);
    this.concurrency = checkInt('concurrency', props.concurrency ?? this.spec.concurrency ?? 10, 1, 1000);
    this.drain = drainContract(catalog, props.queue);
    const secrets = { ...DEFAULT_RUNTIME_SECRETS, ...props.secrets };
    const resources = props.resources ?? { cpu: '250m', memory: '512Mi' };
    const image = imageString('image', props.image);

    const labels = objectLabels('worker', this.name);
    this.selector = { ...selectorLabels('worker', this.name) };
    const workload = { name: this.name, namespace: this.namespace, labels, selector: this.selector };
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', {
      name: this.name,
      namespace: this.namespace,
      labels,
    });
    const env = runtimeEnv(
      'worker',
      [
        ['DATABASE_URL', secrets.database],
        ['REDIS_URL', secrets.redis],
      ],
      {
        WORKER_QUEUES: props.queue,
        WORKER_CONCURRENCY: this.concurrency,
        DRAIN_TIMEOUT_SECONDS: this.drain.drainSeconds,
        METRICS_PORT,
        ...integrationEnv('worker', props.integrations),
      },
      props.extraEnv,
    );

    // New pods first; old ones drain in-flight jobs within the grace period.
    this.resource = rollingDeployment(this, workload, {
      ...(props.scaling ? {} : { replicas }),
      template: podTemplate({
        scheduling: props.scheduling,
        runtime: true,
        labels: { ...labels, 'jobplane.dev/queue': props.queue },
        serviceAccountName: sa.name,
        terminationGracePeriodSeconds: this.drain.terminationGracePeriodSeconds,
        antiAffinity: true,
        containers: [
          container({
            name: 'worker',
            image,
            args: ['worker'],
            env,
            ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
            resources: resourceRequirements(resources),
            livenessProbe: httpProbe('/healthz', 'metrics'),
            readinessProbe: httpProbe('/readyz', 'metrics', { periodSeconds: 5 }),
            preStopSleepSeconds: this.drain.preStopSeconds,
          }),
        ],
      }),
    });

    metricsService(this, workload);
    podDisruptionBudget(this, workload);

    if (props.scaling) {
      this.scaler = new QueueScaler(this, 'Scaler', {
        ...props.scaling,
        target: { kind: 'Deployment', name: this.name, namespace: this.namespace },
        catalog,
        queue: props.queue,
        targetBacklogPerReplica: props.scaling.targetBacklogPerReplica ?? this.concurrency,
      });
    }
  }
}
