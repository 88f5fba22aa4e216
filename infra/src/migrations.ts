/**
 * Migrations: `jobplane migrate` as an Argo CD hook Job. `PreSync` (the default) runs it before
 * anything else changes, which needs the namespace, ServiceAccount and database to exist already.
 * `Sync` runs it in the migrations sync wave instead — after namespaces, ServiceAccounts and data
 * stores, before api/workers — which also works on a first sync; JobPlatform uses that.
 * `BeforeHookCreation` replaces the previous run; its TTL cleans up finished Jobs.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/resource_hooks/
 */
import { Construct } from 'constructs';
import { BatchJobTemplate } from './batch-job-template.js';
import type { PodScheduling } from './lib/pod.js';
import type { ImageRef } from './lib/image.js';
import type { ResourceSpec } from './lib/resources.js';
import type { RuntimeSecrets } from './lib/runtime.js';
import type { ApiObject } from 'cdk8s';

export interface MigrationsProps {
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  readonly image: ImageRef;
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** @default 'jobplane-migrate' */
  readonly name?: string;
  /** Argo CD hook phase. @default 'PreSync' */
  readonly hook?: 'PreSync' | 'Sync';
  /** @default 600 */
  readonly activeDeadlineSeconds?: number;
  /** @default { cpu: '100m', memory: '256Mi' } */
  readonly resources?: ResourceSpec;
  /** @default DEFAULT_RUNTIME_SECRETS */
  readonly secrets?: Partial<RuntimeSecrets>;
}

export class Migrations extends Construct {
  /** The L1 Job (escape hatch). */
  readonly resource: ApiObject;
  readonly hook: 'PreSync' | 'Sync';

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    this.hook = props.hook ?? 'PreSync';
    const job = new BatchJobTemplate(this, 'Job', {
      image: props.image,
      name: props.name ?? 'jobplane-migrate',
      namespace: props.namespace ?? 'jobplane',
      command: 'migrate',
      backoffLimit: 2,
      activeDeadlineSeconds: props.activeDeadlineSeconds ?? 600,
      ttlSecondsAfterFinished: 3600,
      resources: props.resources ?? { cpu: '100m', memory: '256Mi' },
      secrets: props.secrets,
      scheduling: props.scheduling,
      syncWave: 'migrations',
      annotations: {
        'argocd.argoproj.io/hook': this.hook,
        'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      },
    });
    this.resource = job.resource;
  }
}
