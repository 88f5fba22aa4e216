/**
 * IsolatedJobTemplate: a KEDA ScaledJob for an isolated queue of a catalog — one Kubernetes Job (one pod) per
 * queued job, each running `jobplane run-one` with `RUN_ONE_QUEUE=<queue>`. Jobs are bounded
 * (activeDeadlineSeconds, small backoffLimit, ttlSecondsAfterFinished) and land in the jobs
 * namespace, whose ServiceAccount has no RBAC bindings.
 *
 * The metric includes active jobs; KEDA's `default` scaling strategy subtracts the Jobs already
 * running, so the number of new Jobs is the waiting backlog.
 * @see https://keda.sh/docs/latest/reference/scaledjob-spec/
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { KedaScaledJob } from './imports/crds.js';
import { configSchema } from '@jobplane/sdk/contract';
import { DRAIN_MARGIN_SECONDS, drainContract, type Catalog, type DrainContract } from '@jobplane/sdk';
import { checkCatalog, checkQueue } from './lib/catalog.js';
import { checkDnsLabel, checkGt, checkInt } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { objectLabels } from './lib/labels.js';
import { backlogQuery } from './lib/metrics.js';
import { jobPodTemplateJson } from './lib/workloads.js';
import { container, podTemplate, type PodScheduling } from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import { DEFAULT_RUNTIME_SECRETS, runtimeEnv, type RuntimeSecrets } from './lib/runtime.js';
import { argoAnnotations } from './lib/sync.js';
import { PlatformServiceAccount } from './service-account.js';

/** Seconds `run-one` waits for a job before exiting (runtime default). */
const RUN_ONE_WAIT_SECONDS: number = configSchema.shape.RUN_ONE_WAIT_SECONDS.parse(undefined);

export interface IsolatedJobTemplateProps {
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  readonly image: ImageRef;
  /** The job-type catalog the image runs (`defineCatalog` of `@jobplane/sdk`). */
  readonly catalog: Catalog;
  /** An isolated queue of `catalog`. */
  readonly queue: string;
  /** Prometheus base URL KEDA queries. */
  readonly prometheusAddress: string;
  /** @default 'jobplane-jobs' */
  readonly namespace?: string;
  /** @default `jobplane-run-<queue>` */
  readonly name?: string;
  /** Maximum concurrent Jobs. @default 10 */
  readonly maxReplicas?: number;
  /** @default 10 */
  readonly pollingIntervalSeconds?: number;
  /** @default { cpu: '500m', memory: '1Gi' } */
  readonly resources?: ResourceSpec;
  /** Pod retries of one Job (the runtime retries the job itself). @default 1 */
  readonly backoffLimit?: number;
  /** Seconds a finished Job is kept. @default 600 */
  readonly ttlSecondsAfterFinished?: number;
  /**
   * Hard limit for one Job. @default longest job of the queue + the run-one wait + 60 s
   */
  readonly activeDeadlineSeconds?: number;
  /** @default DEFAULT_RUNTIME_SECRETS */
  readonly secrets?: Partial<RuntimeSecrets>;
  /** Extra runtime config (schema keys, no credentials). @default none */
  readonly extraEnv?: Record<string, string>;
}

export class IsolatedJobTemplate extends Construct {
  /** The L1 ScaledJob (escape hatch). */
  readonly resource: ApiObject;
  readonly name: string;
  readonly namespace: string;
  readonly query: string;
  readonly queue: string;
  /** Drain budget of the queue: `run-one` gets `drainSeconds` to finish its job on SIGTERM. */
  readonly drain: DrainContract;
  /** `terminationGracePeriodSeconds` of the Job's pod: drain budget + margin. */
  readonly terminationGracePeriodSeconds: number;

  constructor(scope: Construct, id: string, props: IsolatedJobTemplateProps) {
    super(scope, id);
    const catalog = checkCatalog('catalog', props.catalog);
    const spec = checkQueue('queue', catalog, props.queue, 'isolated');
    this.queue = props.queue;
    this.drain = drainContract(catalog, props.queue);
    this.terminationGracePeriodSeconds = this.drain.drainSeconds + DRAIN_MARGIN_SECONDS;
    this.name = checkDnsLabel('name', props.name ?? `jobplane-run-${props.queue}`);
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane-jobs');
    const maxReplicas = checkInt('maxReplicas', props.maxReplicas ?? 10, 1);
    const polling = checkInt('pollingIntervalSeconds', props.pollingIntervalSeconds ?? 10, 1, 3600);
    const backoffLimit = checkInt('backoffLimit', props.backoffLimit ?? 1, 0, 6);
    const ttl = checkInt('ttlSecondsAfterFinished', props.ttlSecondsAfterFinished ?? 600, 0);
    const deadline = checkInt(
      'activeDeadlineSeconds',
      props.activeDeadlineSeconds ?? spec.maxJobSeconds + RUN_ONE_WAIT_SECONDS + 60,
      1,
    );
    checkGt('activeDeadlineSeconds', deadline, 'maxJobSeconds', spec.maxJobSeconds);
    const secrets = { ...DEFAULT_RUNTIME_SECRETS, ...props.secrets };
    const resources = props.resources ?? { cpu: '500m', memory: '1Gi' };
    const image = imageString('image', props.image);
    this.query = backlogQuery(props.queue);

    const labels = objectLabels('run-one', this.name);
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', {
      name: this.name,
      namespace: this.namespace,
      labels,
    });
    const env = runtimeEnv(
      'run-one',
      [
        ['DATABASE_URL', secrets.database],
        ['REDIS_URL', secrets.redis],
      ],
      { RUN_ONE_QUEUE: props.queue, DRAIN_TIMEOUT_SECONDS: this.drain.drainSeconds },
      props.extraEnv,
    );

    this.resource = new KedaScaledJob(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels,
        // The ScaledJob CRD is too large for client-side apply (kedacore/charts#580).
        annotations: argoAnnotations('scalers', { crdBacked: true, serverSideApply: true }),
      },
      spec: {
        pollingInterval: polling,
        maxReplicaCount: maxReplicas,
        successfulJobsHistoryLimit: 5,
        failedJobsHistoryLimit: 10,
        scalingStrategy: { strategy: 'default' },
        jobTargetRef: {
          parallelism: 1,
          completions: 1,
          backoffLimit,
          activeDeadlineSeconds: deadline,
          ttlSecondsAfterFinished: ttl,
          template: jobPodTemplateJson(
            podTemplate({
              scheduling: props.scheduling,
              runtime: true,
              labels: { ...labels, 'jobplane.dev/queue': props.queue },
              serviceAccountName: sa.name,
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: this.terminationGracePeriodSeconds,
              containers: [
                container({
                  name: 'run-one',
                  image,
                  args: ['run-one'],
                  env,
                  resources: resourceRequirements(resources),
                }),
              ],
            }),
          ) as never,
        },
        triggers: [
          {
            type: 'prometheus',
            metadata: {
              serverAddress: props.prometheusAddress,
              query: this.query,
              threshold: '1',
              activationThreshold: '0',
              ignoreNullValues: 'false',
            },
          },
        ],
      },
    });
  }
}
