/**
 * PostgreSQL. In-cluster (dev): a one-replica StatefulSet with a PVC whose password comes from a
 * Secret created out of band (never written into Git), running as the image's `postgres` user
 * (uid 70) with a read-only root filesystem (socket dir and /tmp are emptyDirs).
 * External (RDS): no objects; the endpoint feeds NetworkPolicies and the URL comes from the
 * referenced Secret.
 * @see https://hub.docker.com/_/postgres
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkDnsLabel, checkInt } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { objectLabels, selectorLabels } from './lib/labels.js';
import { dataVolumeClaim, serviceConstruct, singletonStatefulSet } from './lib/objects.js';
import {
  container,
  podTemplate,
  secretEnv,
  literalEnv,
  type SecretKeyRef,
  type PodScheduling,
} from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import type { ExternalEndpoint } from './redis.js';
import { PlatformServiceAccount } from './service-account.js';

/** Pinned upstream image (alpine variant: uid/gid 70). */
export const POSTGRES_IMAGE: ImageRef = { repository: 'postgres', tag: '16.6-alpine' };

export interface PostgresProps {
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  /** Use a managed PostgreSQL instead of the in-cluster StatefulSet. @default in-cluster */
  readonly external?: ExternalEndpoint;
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** @default 'jobplane-postgres' */
  readonly name?: string;
  /** @default POSTGRES_IMAGE */
  readonly image?: ImageRef;
  /** Secret key with the superuser password. @default jobplane-postgres-credentials / POSTGRES_PASSWORD */
  readonly passwordSecret?: SecretKeyRef;
  /** @default 'jobplane' */
  readonly database?: string;
  /** @default 'jobplane' */
  readonly user?: string;
  /** @default '5Gi' */
  readonly storage?: string;
  /** @default cluster default */
  readonly storageClassName?: string;
  /** @default { cpu: '250m', memory: '512Mi' } */
  readonly resources?: ResourceSpec;
}

export class Postgres extends Construct {
  /** The L1 StatefulSet (escape hatch); undefined for an external database. */
  readonly resource?: ApiObject;
  readonly port: number;
  readonly external?: ExternalEndpoint;
  readonly selector?: Record<string, string>;
  readonly namespace: string;
  /** Secret the in-cluster database reads its password from. */
  readonly passwordSecret?: SecretKeyRef;

  constructor(scope: Construct, id: string, props: PostgresProps = {}) {
    super(scope, id);
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    this.port = checkInt('external.port', props.external?.port ?? 5432, 1, 65535);
    if (props.external) {
      this.external = props.external;
      return;
    }
    const name = checkDnsLabel('name', props.name ?? 'jobplane-postgres');
    const database = checkDnsLabel('database', props.database ?? 'jobplane');
    const user = checkDnsLabel('user', props.user ?? 'jobplane');
    this.passwordSecret = props.passwordSecret ?? {
      name: 'jobplane-postgres-credentials',
      key: 'POSTGRES_PASSWORD',
    };
    const labels = objectLabels('postgres', name);
    this.selector = { ...selectorLabels('postgres', name) };
    const workload = { name, namespace: this.namespace, labels, selector: this.selector };
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', {
      name,
      namespace: this.namespace,
      labels,
    });

    const governing = serviceConstruct(this, 'Service', workload, {
      wave: 'dataStores',
      port: { name: 'postgres', port: this.port },
    });

    const ready = { exec: { command: ['pg_isready', '-U', user, '-d', database, '-h', '127.0.0.1'] } };
    this.resource = singletonStatefulSet(this, workload, {
      service: governing,
      template: podTemplate({
        scheduling: props.scheduling,
        labels: { ...labels },
        serviceAccountName: sa.name,
        runAsUser: 70,
        fsGroup: 70,
        terminationGracePeriodSeconds: 60,
        volumes: [{ name: 'run', emptyDir: { sizeLimit: '16Mi' } }],
        containers: [
          container({
            name: 'postgres',
            image: imageString('image', props.image ?? POSTGRES_IMAGE),
            args: ['-c', `port=${this.port}`],
            env: [
              literalEnv('POSTGRES_DB', database),
              literalEnv('POSTGRES_USER', user),
              secretEnv('POSTGRES_PASSWORD', this.passwordSecret),
              literalEnv('PGDATA', '/var/lib/postgresql/data/pgdata'),
            ],
            ports: [{ name: 'postgres', containerPort: this.port }],
            resources: resourceRequirements(props.resources ?? { cpu: '250m', memory: '512Mi' }),
            livenessProbe: { ...ready, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
            readinessProbe: { ...ready, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
            volumeMounts: [
              { name: 'data', mountPath: '/var/lib/postgresql/data' },
              { name: 'run', mountPath: '/var/run/postgresql' },
            ],
          }),
        ],
      }),
      volumeClaimTemplates: [dataVolumeClaim(props.storage ?? '5Gi', props.storageClassName)],
    });
  }
}
