/**
 * BatchJobTemplate: a batch/v1 Job running one `jobplane` subcommand, for one-off and heavy work.
 * With `completions` > 1 it is Indexed (each pod gets `JOB_COMPLETION_INDEX`) for fan-out.
 * Always bounded: activeDeadlineSeconds, backoffLimit, ttlSecondsAfterFinished (J1, K5).
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { JobplaneCommand } from '@jobplane/sdk/contract';
import { checkDnsLabel, checkGte, checkInt } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { objectLabels } from './lib/labels.js';
import { job } from './lib/workloads.js';
import { container, podTemplate, type PodScheduling } from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import { DEFAULT_RUNTIME_SECRETS, checkCommand, runtimeEnv, type RuntimeSecrets } from './lib/runtime.js';
import { argoAnnotations, type SyncWave } from './lib/sync.js';
import { PlatformServiceAccount } from './service-account.js';

export interface BatchJobTemplateProps {
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  readonly image: ImageRef;
  /** Job (and ServiceAccount) name. */
  readonly name: string;
  /** The `jobplane` subcommand to run. */
  readonly command: JobplaneCommand;
  /** @default 'jobplane-jobs' */
  readonly namespace?: string;
  /** Successful pods needed; > 1 makes the Job Indexed. @default 1 */
  readonly completions?: number;
  /** Pods running at once. @default completions */
  readonly parallelism?: number;
  /** @default 1 */
  readonly backoffLimit?: number;
  /** @default 3600 */
  readonly activeDeadlineSeconds?: number;
  /** @default 600 */
  readonly ttlSecondsAfterFinished?: number;
  /** @default { cpu: '500m', memory: '1Gi' } */
  readonly resources?: ResourceSpec;
  /** @default DEFAULT_RUNTIME_SECRETS */
  readonly secrets?: Partial<RuntimeSecrets>;
  /** Runtime config literals (schema keys, no credentials), e.g. RUN_ONE_QUEUE. @default none */
  readonly extraEnv?: Record<string, string>;
  /** Extra annotations on the Job (e.g. Argo CD hooks). @default none */
  readonly annotations?: Record<string, string>;
  /** Argo CD sync wave. @default 'workloads' */
  readonly syncWave?: SyncWave;
}

export class BatchJobTemplate extends Construct {
  /** The L1 Job (escape hatch). */
  readonly resource: ApiObject;
  readonly name: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: BatchJobTemplateProps) {
    super(scope, id);
    this.name = checkDnsLabel('name', props.name);
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane-jobs');
    const command = checkCommand('command', props.command);
    const completions = checkInt('completions', props.completions ?? 1, 1, 10000);
    const parallelism = checkInt('parallelism', props.parallelism ?? completions, 1);
    checkGte('completions', completions, 'parallelism', parallelism);
    const backoffLimit = checkInt('backoffLimit', props.backoffLimit ?? 1, 0, 6);
    const deadline = checkInt('activeDeadlineSeconds', props.activeDeadlineSeconds ?? 3600, 1);
    const ttl = checkInt('ttlSecondsAfterFinished', props.ttlSecondsAfterFinished ?? 600, 0);
    const secrets = { ...DEFAULT_RUNTIME_SECRETS, ...props.secrets };
    const resources = props.resources ?? { cpu: '500m', memory: '1Gi' };
    const image = imageString('image', props.image);

    const labels = objectLabels(`job-${command}`, this.name);
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', {
      name: this.name,
      namespace: this.namespace,
      labels,
    });
    const secretEnv: [string, typeof secrets.database][] = [['DATABASE_URL', secrets.database]];
    if (command !== 'migrate') secretEnv.push(['REDIS_URL', secrets.redis]);
    const extra = { ...props.extraEnv };
    const env = runtimeEnv(command, secretEnv, {}, extra);

    this.resource = job(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels,
        annotations: { ...argoAnnotations(props.syncWave ?? 'workloads'), ...props.annotations },
      },
      completions,
      parallelism,
      backoffLimit,
      activeDeadlineSeconds: deadline,
      ttlSecondsAfterFinished: ttl,
      template: podTemplate({
        scheduling: props.scheduling,
        runtime: true,
        labels: { ...labels },
        serviceAccountName: sa.name,
        restartPolicy: 'Never',
        containers: [
          container({
            name: command,
            image,
            args: [command],
            env,
            resources: resourceRequirements(resources),
          }),
        ],
      }),
    });
  }
}
