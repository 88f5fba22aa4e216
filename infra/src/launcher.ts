/**
 * Launcher: `jobplane launcher` as its own Deployment — it runs the catalog's container job types
 * as Kubernetes Jobs in the jobs namespace (one leader among the replicas, a PostgreSQL advisory
 * lock). Its ServiceAccount may, in the jobs namespace only, create/get/list/watch/delete Jobs and
 * Secrets (the payload Secrets it creates), get/list/watch Pods and get pods/log; a NetworkPolicy
 * lets it reach the Kubernetes API server. The RBAC objects and the policy are cdk8s-plus-28
 * constructs; the Deployment uses the platform's restricted pod template like every runtime pod.
 * @see docs/container-jobs.md
 */
import type { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Catalog } from '@jobplane/sdk';
import { checkCatalog } from './lib/catalog.js';
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
import { argoAnnotations } from './lib/sync.js';

/** What the launcher's Role allows in the jobs namespace (the verifier checks exactly this). */
export const LAUNCHER_RULES: readonly {
  readonly apiGroup: string;
  readonly resource: string;
  readonly verbs: readonly string[];
}[] = [
  { apiGroup: 'batch', resource: 'jobs', verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroup: '', resource: 'secrets', verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroup: '', resource: 'pods', verbs: ['get', 'list', 'watch'] },
  { apiGroup: '', resource: 'pods/log', verbs: ['get'] },
];

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export interface LauncherProps {
  /** Trace export (OTEL_*) and the event spine (NATS_URL). @default none */
  readonly integrations?: RuntimeIntegrations;
  /** PriorityClass and zone spread of the pods (the launcher is a control-plane component). @default none */
  readonly scheduling?: PodScheduling;
  readonly image: ImageRef;
  /** The catalog: it must have at least one container job type. */
  readonly catalog: Catalog;
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** Where the Jobs run. @default 'jobplane-jobs' */
  readonly jobsNamespace?: string;
  /** @default 'jobplane-launcher' */
  readonly name?: string;
  /** 1 or 2: one leader, one standby for a fast take-over. @default 2 */
  readonly replicas?: number;
  /** @default { cpu: '50m', memory: '192Mi' } */
  readonly resources?: ResourceSpec;
  /**
   * Where the Kubernetes API server is (egress of the NetworkPolicy): its endpoint CIDRs and port.
   * @default { cidrs: ['0.0.0.0/0'], ports: [443, 6443] } — narrow the CIDRs to the control plane
   */
  readonly apiServer?: { readonly cidrs: readonly string[]; readonly ports?: readonly number[] };
  /** @default DEFAULT_RUNTIME_SECRETS */
  readonly secrets?: Partial<RuntimeSecrets>;
  /** Extra runtime config (schema keys, no credentials). @default none */
  readonly extraEnv?: Record<string, string>;
}

export class Launcher extends Construct {
  /** The L1 Deployment (escape hatch). */
  readonly resource: ApiObject;
  readonly name: string;
  readonly namespace: string;
  readonly jobsNamespace: string;
  readonly selector: Record<string, string>;
  readonly serviceAccount: kplus.ServiceAccount;
  readonly role: kplus.Role;

  constructor(scope: Construct, id: string, props: LauncherProps) {
    super(scope, id);
    const catalog = checkCatalog('catalog', props.catalog);
    const queues = catalog.queues().filter((q) => q.mode === 'container');
    if (queues.length === 0) {
      throw new PropValidationError(
        `'catalog' ('${catalog.name}') has no container job type: a Launcher runs container queues only`,
      );
    }
    this.name = checkDnsLabel('name', props.name ?? 'jobplane-launcher');
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    this.jobsNamespace = checkDnsLabel('jobsNamespace', props.jobsNamespace ?? 'jobplane-jobs');
    if (this.jobsNamespace === this.namespace) {
      throw new PropValidationError(`'jobsNamespace' ('${this.jobsNamespace}') must differ from 'namespace'`);
    }
    const replicas = checkInt('replicas', props.replicas ?? 2, 1, 2);
    const apiServer = props.apiServer ?? { cidrs: ['0.0.0.0/0'], ports: [443, 6443] };
    if (!Array.isArray(apiServer.cidrs) || apiServer.cidrs.length === 0) {
      throw new PropValidationError(
        `'apiServer.cidrs' (${JSON.stringify(apiServer.cidrs)}) must list at least one CIDR`,
      );
    }
    apiServer.cidrs.forEach((c, i) => {
      const m = CIDR.exec(c);
      if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
        throw new PropValidationError(
          `'apiServer.cidrs[${i}]' (${JSON.stringify(c)}) must be an IPv4 CIDR such as '10.0.0.1/32'`,
        );
      }
    });
    const ports = apiServer.ports ?? [443, 6443];
    ports.forEach((p, i) => checkInt(`apiServer.ports[${i}]`, p, 1, 65535));
    const secrets = { ...DEFAULT_RUNTIME_SECRETS, ...props.secrets };
    const labels = objectLabels('launcher', this.name);
    this.selector = { ...selectorLabels('launcher', this.name) };
    const workload = { name: this.name, namespace: this.namespace, labels, selector: this.selector };

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { ...labels },
        annotations: argoAnnotations('foundation'),
      },
      automountToken: false,
    });
    this.role = new kplus.Role(this, 'Role', {
      metadata: {
        name: this.name,
        namespace: this.jobsNamespace,
        labels: { ...labels },
        annotations: argoAnnotations('foundation'),
      },
    });
    for (const rule of LAUNCHER_RULES) {
      this.role.allow(
        [...rule.verbs],
        kplus.ApiResource.custom({ apiGroup: rule.apiGroup, resourceType: rule.resource }),
      );
    }
    const binding = new kplus.RoleBinding(this, 'RoleBinding', {
      metadata: {
        name: this.name,
        namespace: this.jobsNamespace,
        labels: { ...labels },
        annotations: argoAnnotations('foundation'),
      },
      role: this.role,
    });
    binding.addSubjects(this.serviceAccount);

    const env = runtimeEnv(
      'launcher',
      [
        ['DATABASE_URL', secrets.database],
        ['REDIS_URL', secrets.redis],
        ['JOBPLANE_ADMIN_KEY', secrets.adminKey],
      ],
      {
        METRICS_PORT,
        LAUNCHER_NAMESPACE: this.jobsNamespace,
        ...integrationEnv('launcher', props.integrations),
      },
      props.extraEnv,
    );
    this.resource = rollingDeployment(this, workload, {
      replicas,
      template: podTemplate({
        scheduling: props.scheduling,
        runtime: true,
        labels: { ...labels },
        serviceAccountName: this.name,
        // The launcher talks to the Kubernetes API: it needs its token (and only it does).
        automountServiceAccountToken: true,
        terminationGracePeriodSeconds: 30,
        antiAffinity: replicas > 1,
        containers: [
          container({
            name: 'launcher',
            image: imageString('image', props.image),
            args: ['launcher'],
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

    // Egress to the API server, on top of the platform's policies (DNS, PostgreSQL, Redis).
    const policy = new kplus.NetworkPolicy(this, 'ApiServerEgress', {
      metadata: {
        name: `${this.name}-apiserver`,
        namespace: this.namespace,
        labels: { ...labels },
        annotations: argoAnnotations('foundation'),
      },
      selector: kplus.Pods.select(this, 'Pods', { labels: this.selector }),
    });
    apiServer.cidrs.forEach((cidr, i) =>
      policy.addEgressRule(
        kplus.NetworkPolicyIpBlock.ipv4(this, `ApiServer${i}`, cidr),
        ports.map((p) => kplus.NetworkPolicyPort.tcp(p)),
      ),
    );
  }
}
