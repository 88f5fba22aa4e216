/**
 * Redis for BullMQ. In-cluster (dev): a one-replica StatefulSet with a PVC, AOF (`everysec`) and
 * `maxmemory-policy noeviction` — the only policy under which BullMQ keeps its guarantees
 * (docs.bullmq.io/guide/going-to-production) — running non-root with a read-only root filesystem.
 * External (ElastiCache): no objects; the endpoint feeds NetworkPolicies and the URL comes from
 * the referenced Secret.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { PropValidationError, checkDnsLabel, checkInt, checkQuantity } from './lib/errors.js';
import { parseQuantity } from './lib/quantity.js';
import { imageString, type ImageRef } from './lib/image.js';
import { objectLabels, selectorLabels } from './lib/labels.js';
import { dataVolumeClaim, serviceConstruct, singletonStatefulSet } from './lib/objects.js';
import { container, podTemplate, type PodScheduling } from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import { PlatformServiceAccount } from './service-account.js';

/** Pinned upstream image (alpine variant: uid/gid 999). */
/** Largest share of the memory limit `maxmemory` may take (the rest is fork/AOF-rewrite headroom). */
export const REDIS_MAXMEMORY_SHARE = 0.6;

export const REDIS_IMAGE: ImageRef = { repository: 'redis', tag: '7.4.2-alpine' };

/** A managed data store reached over the network (ElastiCache, RDS). */
export interface ExternalEndpoint {
  /** CIDR blocks the store lives in (NetworkPolicy egress), e.g. the VPC's private subnets. */
  readonly cidrs: readonly string[];
  /** @default the store's standard port */
  readonly port?: number;
}

export interface RedisProps {
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  /** Use a managed Redis instead of the in-cluster StatefulSet. @default in-cluster */
  readonly external?: ExternalEndpoint;
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** @default 'jobplane-redis' */
  readonly name?: string;
  /** @default REDIS_IMAGE */
  readonly image?: ImageRef;
  /** PVC size. @default '1Gi' */
  readonly storage?: string;
  /** @default cluster default */
  readonly storageClassName?: string;
  /**
   * Redis `maxmemory` in MiB: at most {@link REDIS_MAXMEMORY_SHARE} of the memory limit. An AOF
   * rewrite forks the server, and copy-on-write duplicates every page written meanwhile; with
   * `maxmemory` next to the limit the fork's copies get the pod OOM-killed mid-rewrite.
   * @default half of `resources.memory` (256 for the default 512Mi)
   */
  readonly maxMemoryMb?: number;
  /** @default { cpu: '100m', memory: '512Mi' } */
  readonly resources?: ResourceSpec;
}

export class Redis extends Construct {
  /** The L1 StatefulSet (escape hatch); undefined for an external Redis. */
  readonly resource?: ApiObject;
  readonly port: number;
  readonly external?: ExternalEndpoint;
  /** Labels of the Redis pods (in-cluster only). */
  readonly selector?: Record<string, string>;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: RedisProps = {}) {
    super(scope, id);
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    this.port = checkInt('external.port', props.external?.port ?? 6379, 1, 65535);
    if (props.external) {
      this.external = props.external;
      return;
    }
    const name = checkDnsLabel('name', props.name ?? 'jobplane-redis');
    const resources = props.resources ?? { cpu: '100m', memory: '512Mi' };
    const limitMib = Math.floor(
      (parseQuantity(checkQuantity('resources.memory', resources.memory, 'memory')) ?? 0) / 2 ** 20,
    );
    const maxMemory = checkInt('maxMemoryMb', props.maxMemoryMb ?? Math.floor(limitMib / 2), 16);
    if (maxMemory > Math.floor(limitMib * REDIS_MAXMEMORY_SHARE))
      throw new PropValidationError(
        `'maxMemoryMb' (${maxMemory}) must be ≤ ${REDIS_MAXMEMORY_SHARE * 100} % of 'resources.memory' ('${resources.memory}' = ${limitMib} MiB): an AOF rewrite forks Redis and needs the headroom`,
      );
    const labels = objectLabels('redis', name);
    this.selector = { ...selectorLabels('redis', name) };
    const workload = { name, namespace: this.namespace, labels, selector: this.selector };
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', {
      name,
      namespace: this.namespace,
      labels,
    });

    const governing = serviceConstruct(this, 'Service', workload, {
      wave: 'dataStores',
      port: { name: 'redis', port: this.port },
    });

    this.resource = singletonStatefulSet(this, workload, {
      service: governing,
      template: podTemplate({
        scheduling: props.scheduling,
        labels: { ...labels },
        serviceAccountName: sa.name,
        runAsUser: 999,
        fsGroup: 999,
        terminationGracePeriodSeconds: 30,
        containers: [
          container({
            name: 'redis',
            image: imageString('image', props.image ?? REDIS_IMAGE),
            command: ['redis-server'],
            args: [
              '--port',
              String(this.port),
              '--dir',
              '/data',
              '--appendonly',
              'yes',
              '--appendfsync',
              'everysec',
              '--save',
              '',
              '--maxmemory',
              `${maxMemory}mb`,
              '--maxmemory-policy',
              'noeviction',
              '--protected-mode',
              'no',
            ],
            ports: [{ name: 'redis', containerPort: this.port }],
            resources: resourceRequirements(resources),
            livenessProbe: {
              tcpSocket: { port: 'redis' },
              periodSeconds: 10,
              timeoutSeconds: 2,
              failureThreshold: 3,
            },
            readinessProbe: {
              tcpSocket: { port: 'redis' },
              periodSeconds: 5,
              timeoutSeconds: 2,
              failureThreshold: 3,
            },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          }),
        ],
      }),
      volumeClaimTemplates: [dataVolumeClaim(props.storage ?? '1Gi', props.storageClassName)],
    });
  }
}
