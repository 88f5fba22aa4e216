/**
 * NATS with JetStream, the broker the relay publishes the job lifecycle events to (subjects
 * `jobs.<event>`, docs/events.md). In-cluster: a one-replica StatefulSet of the official `nats`
 * image with JetStream on file storage (a PersistentVolumeClaim), its config in a ConfigMap, a
 * Service, and a NetworkPolicy admitting only the runtime pods that use it (api, relay, workers)
 * and the named consumers. External: no objects, only the URL (`NATS_URL`) and the CIDRs the
 * runtime pods may reach.
 * @see https://docs.nats.io/running-a-nats-service/configuration/resource_management
 */
import type { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PropValidationError, checkDnsLabel, checkInt, checkQuantity } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { PART_OF, objectLabels, selectorLabels } from './lib/labels.js';
import { dataVolumeClaim, objectMeta, serviceConstruct, singletonStatefulSet } from './lib/objects.js';
import { container, httpProbe, podTemplate, type PodScheduling } from './lib/pod.js';
import { parseQuantity } from './lib/quantity.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import { PlatformServiceAccount } from './service-account.js';
import { networkPolicyFromSpec } from './lib/network-policy.js';

/** The official image, pinned by tag (a static binary on scratch: any non-root uid works). */
export const NATS_IMAGE: ImageRef = { repository: 'nats', tag: '2.12.8' };
export const NATS_CLIENT_PORT = 4222;
export const NATS_MONITOR_PORT = 8222;

/** Components whose pods get `NATS_URL` and may connect (publish: relay; the others read it). */
export const NATS_CLIENT_COMPONENTS = ['api', 'relay', 'worker'] as const;

/** Pods outside the platform's runtime that consume the stream. */
export interface NatsConsumer {
  /** Namespace of the consumer's pods. */
  readonly namespace: string;
  /** Labels selecting the consumer's pods (at least one: never a whole namespace). */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** A NATS the platform does not run (e.g. a shared cluster or Synadia Cloud). */
export interface ExternalNats {
  /** `nats://` or `tls://` URL, `NATS_URL` of the runtime. No credentials in it: use NATS auth via a Secret. */
  readonly external: string;
  /** CIDRs of its servers (NetworkPolicy egress of the runtime pods). */
  readonly cidrs: readonly string[];
}

export interface InClusterNats {
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** @default 'jobplane-nats' */
  readonly name?: string;
  /** @default NATS_IMAGE */
  readonly image?: ImageRef;
  /** JetStream file store PVC size. @default '2Gi' */
  readonly storage?: string;
  /** @default cluster default */
  readonly storageClassName?: string;
  /** @default { cpu: '50m', memory: '256Mi' } */
  readonly resources?: ResourceSpec;
  /** Further consumers allowed to connect. @default none */
  readonly consumers?: readonly NatsConsumer[];
  /** PriorityClass of the pod. @default none */
  readonly scheduling?: PodScheduling;
}

export type NatsProps = ExternalNats | InClusterNats;

const CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

/** A `nats://` or `tls://` URL with a host and without credentials. */
export function checkNatsUrl(prop: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['nats:', 'tls:'].includes(url.protocol) || url.hostname === '')
    throw new PropValidationError(
      `'${prop}' (${JSON.stringify(value)}) must be a nats:// or tls:// URL such as 'nats://nats.example.com:4222'`,
    );
  if (url.username !== '' || url.password !== '')
    throw new PropValidationError(
      `'${prop}' carries credentials: the URL is a literal env var, authenticate through a Secret instead`,
    );
  return value;
}

export class Nats extends Construct {
  /** The L1 StatefulSet (escape hatch); undefined for an external NATS. */
  readonly resource?: ApiObject;
  /** `NATS_URL` of the runtime. */
  readonly url: string;
  /** The port clients connect to (NetworkPolicy egress). */
  readonly port: number;
  /** Labels of the NATS pods (in-cluster only). */
  readonly selector?: Record<string, string>;
  /** CIDRs of an external NATS. */
  readonly cidrs?: readonly string[];

  constructor(scope: Construct, id: string, props: NatsProps = {}) {
    super(scope, id);
    if ('external' in props) {
      this.url = checkNatsUrl('nats.external', props.external);
      const u = new URL(this.url);
      this.port = u.port === '' ? NATS_CLIENT_PORT : Number(u.port);
      if (!Array.isArray(props.cidrs) || props.cidrs.length === 0)
        throw new PropValidationError(
          `'nats.cidrs' (${JSON.stringify(props.cidrs)}) must list the CIDRs of the external NATS servers: the runtime's egress is denied by default`,
        );
      props.cidrs.forEach((cidr, i) => {
        if (!CIDR.test(cidr) || cidr === '0.0.0.0/0')
          throw new PropValidationError(
            `'nats.cidrs[${i}]' ('${cidr}') must be an IPv4 CIDR narrower than 0.0.0.0/0`,
          );
      });
      this.cidrs = [...props.cidrs];
      return;
    }
    const namespace = checkDnsLabel('nats.namespace', props.namespace ?? 'jobplane');
    const name = checkDnsLabel('nats.name', props.name ?? 'jobplane-nats');
    const storage = checkQuantity('nats.storage', props.storage ?? '2Gi', 'memory');
    const resources = props.resources ?? { cpu: '50m', memory: '256Mi' };
    const memory = parseQuantity(checkQuantity('nats.resources.memory', resources.memory, 'memory'))!;
    this.port = NATS_CLIENT_PORT;
    this.url = `nats://${name}.${namespace}.svc:${NATS_CLIENT_PORT}`;
    const labels = objectLabels('nats', name);
    this.selector = { ...selectorLabels('nats', name) };
    const workload = { name, namespace, labels, selector: this.selector };

    // JetStream may fill 90 % of the volume and use a quarter of the memory limit for in-memory
    // streams (the platform's streams are file-backed); the rest is the server's own headroom.
    const maxFile = Math.floor((parseQuantity(storage)! * 0.9) / 2 ** 20);
    const maxMemory = Math.floor(memory / 4 / 2 ** 20);
    checkInt('nats.storage (MiB)', maxFile, 64);
    const config = [
      `server_name: ${name}-0`,
      `port: ${NATS_CLIENT_PORT}`,
      `http_port: ${NATS_MONITOR_PORT}`,
      'max_payload: 1MB',
      'jetstream {',
      '  store_dir: /data',
      `  max_file_store: ${maxFile}MB`,
      `  max_memory_store: ${maxMemory}MB`,
      '}',
      '',
    ].join('\n');
    new kplus.ConfigMap(this, 'Config', {
      metadata: objectMeta(workload, 'foundation'),
      data: { 'nats.conf': config },
    });
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', { name, namespace, labels });
    const governing = serviceConstruct(this, 'Service', workload, {
      wave: 'dataStores',
      port: { name: 'client', port: NATS_CLIENT_PORT },
    });
    this.resource = singletonStatefulSet(this, workload, {
      service: governing,
      template: podTemplate({
        scheduling: props.scheduling,
        labels: { ...labels },
        serviceAccountName: sa.name,
        runAsUser: 1000,
        fsGroup: 1000,
        // lame duck mode: clients are told to reconnect before the server stops.
        terminationGracePeriodSeconds: 60,
        volumes: [{ name: 'config', configMap: { name } }],
        containers: [
          container({
            name: 'nats',
            image: imageString('nats.image', props.image ?? NATS_IMAGE),
            args: ['--config', '/etc/nats/nats.conf'],
            ports: [
              { name: 'client', containerPort: NATS_CLIENT_PORT },
              { name: 'monitor', containerPort: NATS_MONITOR_PORT },
            ],
            resources: resourceRequirements(resources),
            startupProbe: httpProbe('/healthz?js-enabled-only=true', 'monitor', {
              periodSeconds: 5,
              failureThreshold: 30,
            }),
            livenessProbe: httpProbe('/healthz?js-enabled-only=true', 'monitor'),
            readinessProbe: httpProbe('/healthz?js-server-only=true', 'monitor', { periodSeconds: 5 }),
            preStopSleepSeconds: 5,
            volumeMounts: [
              { name: 'config', mountPath: '/etc/nats', readOnly: true },
              { name: 'data', mountPath: '/data' },
            ],
          }),
        ],
      }),
      volumeClaimTemplates: [dataVolumeClaim(storage, props.storageClassName)],
    });

    const consumers = (props.consumers ?? []).map((c, i) => {
      checkDnsLabel(`nats.consumers[${i}].namespace`, c.namespace);
      if (!c.podLabels || Object.keys(c.podLabels).length === 0)
        throw new PropValidationError(
          `'nats.consumers[${i}].podLabels' (${JSON.stringify(c.podLabels)}) must select the consumer's pods, not every pod of '${c.namespace}'`,
        );
      return {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } },
        podSelector: { matchLabels: { ...c.podLabels } },
      };
    });
    networkPolicyFromSpec(
      this,
      'NetworkPolicy',
      objectMeta({ ...workload, name: 'allow-nats-clients' }, 'foundation') as never,
      {
        podSelector: { matchLabels: this.selector },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: natsClientSelector() }, ...consumers],
            ports: [{ protocol: 'TCP', port: NATS_CLIENT_PORT }],
          },
        ],
      },
    );
  }
}

/** The platform's pods that get `NATS_URL`: api, relay and workers of Jobplane. */
export function natsClientSelector(): Record<string, unknown> {
  return {
    matchLabels: { 'app.kubernetes.io/part-of': PART_OF },
    matchExpressions: [
      { key: 'app.kubernetes.io/component', operator: 'In', values: [...NATS_CLIENT_COMPONENTS] },
    ],
  };
}
