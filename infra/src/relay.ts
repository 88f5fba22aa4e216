/**
 * Relay: the outbox relay and reconciler (`jobplane relay`) as its own Deployment. Several replicas
 * are safe (the runtime claims outbox rows with SKIP LOCKED and BullMQ job ids are idempotent), so
 * two replicas give availability without coordination.
 * @see https://microservices.io/patterns/data/transactional-outbox.html
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkDnsLabel, checkInt } from './lib/errors.js';
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
import { PlatformServiceAccount } from './service-account.js';

export interface RelayProps {
  /** Trace export (OTEL_*) and the event spine (NATS_URL). @default none */
  readonly integrations?: RuntimeIntegrations;
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  readonly image: ImageRef;
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** @default 'jobplane-relay' */
  readonly name?: string;
  /** 1 or 2 (more adds nothing but Redis/PostgreSQL load). @default 1 */
  readonly replicas?: number;
  /** @default { cpu: '50m', memory: '192Mi' } */
  readonly resources?: ResourceSpec;
  /** @default DEFAULT_RUNTIME_SECRETS */
  readonly secrets?: Partial<RuntimeSecrets>;
  /** Extra runtime config (schema keys, no credentials). @default none */
  readonly extraEnv?: Record<string, string>;
}

export class Relay extends Construct {
  /** The L1 Deployment (escape hatch). */
  readonly resource: ApiObject;
  readonly name: string;
  readonly namespace: string;
  readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: RelayProps) {
    super(scope, id);
    this.name = checkDnsLabel('name', props.name ?? 'jobplane-relay');
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    const replicas = checkInt('replicas', props.replicas ?? 1, 1, 2);
    const secrets = { ...DEFAULT_RUNTIME_SECRETS, ...props.secrets };
    const labels = objectLabels('relay', this.name);
    this.selector = { ...selectorLabels('relay', this.name) };
    const workload = { name: this.name, namespace: this.namespace, labels, selector: this.selector };
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', {
      name: this.name,
      namespace: this.namespace,
      labels,
    });
    const env = runtimeEnv(
      'relay',
      [
        ['DATABASE_URL', secrets.database],
        ['REDIS_URL', secrets.redis],
      ],
      { METRICS_PORT, ...integrationEnv('relay', props.integrations) },
      props.extraEnv,
    );
    this.resource = rollingDeployment(this, workload, {
      replicas,
      template: podTemplate({
        scheduling: props.scheduling,
        runtime: true,
        labels: { ...labels },
        serviceAccountName: sa.name,
        terminationGracePeriodSeconds: 30,
        antiAffinity: replicas > 1,
        containers: [
          container({
            name: 'relay',
            image: imageString('image', props.image),
            args: ['relay'],
            env,
            ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
            resources: resourceRequirements(props.resources ?? { cpu: '50m', memory: '192Mi' }),
            livenessProbe: httpProbe('/healthz', 'metrics'),
            readinessProbe: httpProbe('/readyz', 'metrics', { periodSeconds: 5 }),
          }),
        ],
      }),
    });
    metricsService(this, workload);
    podDisruptionBudget(this, workload);
  }
}
