/**
 * JobApi: the HTTP API (`jobplane api`) as a Deployment with a Service, ServiceAccount,
 * PodDisruptionBudget and optional HorizontalPodAutoscaler. Probes hit /healthz and /readyz;
 * rolling updates never drop below the desired replicas (maxSurge 1, maxUnavailable 0); a preStop
 * delay lets endpoints drop the pod before SIGTERM.
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/deployment/
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkDnsLabel, checkGt, checkGte, checkInt } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { objectLabels, selectorLabels } from './lib/labels.js';
import { objectMeta, podDisruptionBudget, rollingDeployment, service } from './lib/objects.js';
import { container, httpProbe, podTemplate, type PodScheduling } from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import {
  API_PORT,
  DEFAULT_RUNTIME_SECRETS,
  runtimeEnv,
  type RuntimeSecrets,
  integrationEnv,
  type RuntimeIntegrations,
} from './lib/runtime.js';
import { PlatformServiceAccount } from './service-account.js';

export interface JobApiAutoscaling {
  /** @default replicas */
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  /** Target average CPU utilisation in percent. @default 70 */
  readonly cpuUtilization?: number;
}

export interface JobApiProps {
  /** Trace export (OTEL_*) and the event spine (NATS_URL). @default none */
  readonly integrations?: RuntimeIntegrations;
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  /** Image of the runtime. Never `latest`. */
  readonly image: ImageRef;
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** Name of the Deployment, Service, ServiceAccount, PDB and HPA. @default 'jobplane-api' */
  readonly name?: string;
  /** Desired replicas (the HPA minimum when autoscaling is set). @default 2 */
  readonly replicas?: number;
  /**
   * HorizontalPodAutoscaler on CPU.
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
   * @default no HPA
   */
  readonly autoscaling?: JobApiAutoscaling;
  /** @default { cpu: '100m', memory: '256Mi' } */
  readonly resources?: ResourceSpec;
  /** Secrets holding DATABASE_URL, REDIS_URL and the API keys. @default DEFAULT_RUNTIME_SECRETS */
  readonly secrets?: Partial<RuntimeSecrets>;
  /** Extra runtime config (keys of the runtime config schema, no credentials). @default none */
  readonly extraEnv?: Record<string, string>;
  /** Seconds the preStop hook waits before SIGTERM. @default 5 */
  readonly preStopSeconds?: number;
  /** @default 30 */
  readonly terminationGracePeriodSeconds?: number;
}

export class JobApi extends Construct {
  /** The L1 Deployment (escape hatch). */
  readonly resource: ApiObject;
  readonly service: ApiObject;
  readonly name: string;
  readonly namespace: string;
  readonly port = API_PORT;
  readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: JobApiProps) {
    super(scope, id);
    this.name = checkDnsLabel('name', props.name ?? 'jobplane-api');
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    const replicas = checkInt('replicas', props.replicas ?? 2, 1);
    const resources = props.resources ?? { cpu: '100m', memory: '256Mi' };
    const secrets = { ...DEFAULT_RUNTIME_SECRETS, ...props.secrets };
    const preStop = checkInt('preStopSeconds', props.preStopSeconds ?? 5, 0, 60);
    const grace = checkInt('terminationGracePeriodSeconds', props.terminationGracePeriodSeconds ?? 30, 1);
    checkGt('terminationGracePeriodSeconds', grace, 'preStopSeconds', preStop);
    const image = imageString('image', props.image);

    const labels = objectLabels('api', this.name);
    this.selector = { ...selectorLabels('api', this.name) };
    const workload = { name: this.name, namespace: this.namespace, labels, selector: this.selector };
    const sa = new PlatformServiceAccount(this, 'ServiceAccount', {
      name: this.name,
      namespace: this.namespace,
      labels,
    });

    const env = runtimeEnv(
      'api',
      [
        ['DATABASE_URL', secrets.database],
        ['REDIS_URL', secrets.redis],
        ['JOBPLANE_API_KEYS', secrets.apiKeys],
        ['JOBPLANE_ADMIN_KEY', secrets.adminKey],
      ],
      { PORT: API_PORT, ...integrationEnv('api', props.integrations) },
      props.extraEnv,
    );

    let minReplicas = replicas;
    let maxReplicas = replicas;
    if (props.autoscaling) {
      minReplicas = checkInt('autoscaling.minReplicas', props.autoscaling.minReplicas ?? replicas, 1);
      maxReplicas = checkInt('autoscaling.maxReplicas', props.autoscaling.maxReplicas, 1);
      checkGte('autoscaling.maxReplicas', maxReplicas, 'autoscaling.minReplicas', minReplicas);
    }

    this.resource = rollingDeployment(this, workload, {
      // With an HPA the replica count belongs to the HPA (Argo CD would fight it otherwise).
      ...(props.autoscaling ? {} : { replicas }),
      template: podTemplate({
        scheduling: props.scheduling,
        runtime: true,
        labels: { ...labels },
        serviceAccountName: sa.name,
        terminationGracePeriodSeconds: grace,
        antiAffinity: maxReplicas > 1,
        containers: [
          container({
            name: 'api',
            image,
            args: ['api'],
            env,
            ports: [{ name: 'http', containerPort: API_PORT }],
            resources: resourceRequirements(resources),
            startupProbe: httpProbe('/healthz', 'http', { periodSeconds: 2, failureThreshold: 30 }),
            livenessProbe: httpProbe('/healthz', 'http'),
            readinessProbe: httpProbe('/readyz', 'http', { periodSeconds: 5 }),
            preStopSleepSeconds: preStop,
          }),
        ],
      }),
    });

    this.service = service(this, 'Service', workload, {
      port: { name: 'http', port: API_PORT },
    });
    podDisruptionBudget(this, workload);

    if (props.autoscaling) {
      const cpu = checkInt('autoscaling.cpuUtilization', props.autoscaling.cpuUtilization ?? 70, 1, 100);
      new ApiObject(this, 'Hpa', {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: objectMeta(workload, 'scalers'),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
          minReplicas,
          maxReplicas,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } },
            },
          ],
        },
      });
    }
  }
}
