/**
 * Alertmanager: delivers the platform's alerts (routes by severity, inhibition, webhook receivers
 * from {@link jobplaneAlertmanagerConfig}). `in-cluster` (dev): an Alertmanager Deployment with its
 * config in a ConfigMap, a Service the in-cluster Prometheus sends to, and its own NetworkPolicy
 * (Prometheus → 9093, egress to the receivers' ports). `operator`: an `AlertmanagerConfig`
 * (monitoring.coreos.com/v1alpha1) with the same routes, receivers and inhibition, which the
 * operator's Alertmanager merges (it selects it by `operatorSelectorLabels`).
 * @see https://prometheus.io/docs/alerting/latest/configuration/
 * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1alpha1.AlertmanagerConfig
 */
import type { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import {
  ALERT_RECEIVERS,
  jobplaneAlertmanagerConfig,
  type AlertmanagerConfigOptions,
} from './alertmanager-config.js';
import { PromAlertmanagerConfig } from './imports/crds.js';
import { PropValidationError, checkDnsLabel } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { objectLabels, selectorLabels } from './lib/labels.js';
import { objectMeta, service } from './lib/objects.js';
import { deployment } from './lib/workloads.js';
import { container, httpProbe, podTemplate, type PodScheduling } from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import { argoAnnotations } from './lib/sync.js';
import { PlatformServiceAccount } from './service-account.js';
import { networkPolicyFromSpec } from './lib/network-policy.js';

/** Pinned upstream image (runs as nobody, uid 65534). */
export const ALERTMANAGER_IMAGE: ImageRef = { repository: 'quay.io/prometheus/alertmanager', tag: 'v0.28.1' };
export const ALERTMANAGER_PORT = 9093;

export interface AlertmanagerProps {
  /** Routes and receivers (webhook URLs of the critical and warning receivers). */
  readonly receivers: AlertmanagerConfigOptions;
  /** `in-cluster` Alertmanager or an `AlertmanagerConfig` for prometheus-operator. @default 'in-cluster' */
  readonly mode?: 'in-cluster' | 'operator';
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** @default 'jobplane-alertmanager' */
  readonly name?: string;
  /** @default ALERTMANAGER_IMAGE */
  readonly image?: ImageRef;
  /** PriorityClass of the pod. @default none */
  readonly scheduling?: PodScheduling;
  /** @default { cpu: '20m', memory: '64Mi' } */
  readonly resources?: ResourceSpec;
  /** Pods allowed to send alerts (the in-cluster Prometheus). Required in-cluster. */
  readonly senders?: Record<string, string>;
  /**
   * Where the receivers are (NetworkPolicy egress on the receivers' ports): CIDRs, or
   * `0.0.0.0/0` for a receiver outside the cluster whose address is not known. @default ['0.0.0.0/0']
   */
  readonly receiverCidrs?: readonly string[];
  /** Labels the operator's Alertmanager selects AlertmanagerConfigs by. @default { release: 'prometheus' } */
  readonly operatorSelectorLabels?: Record<string, string>;
}

/** The TCP ports of the receivers' URLs (explicit, else 443/80 by scheme). */
function receiverPorts(options: AlertmanagerConfigOptions): number[] {
  const urls = [options.critical.url, ...(options.warning ? [options.warning.url] : [])];
  const ports = urls.map((u) => {
    const url = new URL(u);
    return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  });
  return [...new Set(ports)].sort((a, b) => a - b);
}

export class Alertmanager extends Construct {
  /** The L1 Deployment (in-cluster) or AlertmanagerConfig (operator): the escape hatch. */
  readonly resource: ApiObject;
  readonly mode: 'in-cluster' | 'operator';
  readonly name: string;
  readonly namespace: string;
  /** Selector of the Alertmanager pods (in-cluster only). */
  readonly selector?: Record<string, string>;

  constructor(scope: Construct, id: string, props: AlertmanagerProps) {
    super(scope, id);
    this.mode = props.mode ?? 'in-cluster';
    if (this.mode !== 'in-cluster' && this.mode !== 'operator')
      throw new PropValidationError(`'mode' ('${String(this.mode)}') must be 'in-cluster' or 'operator'`);
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    this.name = checkDnsLabel('name', props.name ?? 'jobplane-alertmanager');
    const config = jobplaneAlertmanagerConfig(props.receivers);
    const labels = objectLabels('alertmanager', this.name);

    if (this.mode === 'operator') {
      this.resource = new PromAlertmanagerConfig(this, 'Resource', {
        metadata: {
          name: 'jobplane',
          namespace: this.namespace,
          labels: { ...labels, ...(props.operatorSelectorLabels ?? { release: 'prometheus' }) },
          annotations: argoAnnotations('scalers', { crdBacked: true }),
        },
        spec: operatorSpec(props.receivers),
      });
      return;
    }

    if (!props.senders || Object.keys(props.senders).length === 0)
      throw new PropValidationError(
        `'senders' (${JSON.stringify(props.senders)}) must select the pods that send alerts (the in-cluster Prometheus)`,
      );
    const cidrs = [...(props.receiverCidrs ?? ['0.0.0.0/0'])];
    cidrs.forEach((cidr, i) => {
      if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr))
        throw new PropValidationError(`'receiverCidrs[${i}]' ('${cidr}') must be an IPv4 CIDR`);
    });
    this.selector = { ...selectorLabels('alertmanager', this.name) };
    const workload = { name: this.name, namespace: this.namespace, labels, selector: this.selector };
    new PlatformServiceAccount(this, 'ServiceAccount', {
      name: this.name,
      namespace: this.namespace,
      labels,
    });
    new kplus.ConfigMap(this, 'Config', {
      metadata: objectMeta(workload, 'foundation'),
      data: { 'alertmanager.yml': stringify(config, { lineWidth: 0 }) },
    });
    this.resource = deployment(this, workload, {
      replicas: 1,
      strategy: 'Recreate',
      template: podTemplate({
        scheduling: props.scheduling,
        labels: { ...labels },
        serviceAccountName: this.name,
        runAsUser: 65534,
        fsGroup: 65534,
        volumes: [
          { name: 'config', configMap: { name: this.name } },
          { name: 'data', emptyDir: { sizeLimit: '256Mi' } },
        ],
        containers: [
          container({
            name: 'alertmanager',
            image: imageString('image', props.image ?? ALERTMANAGER_IMAGE),
            args: [
              '--config.file=/etc/alertmanager/alertmanager.yml',
              '--storage.path=/alertmanager',
              `--web.listen-address=:${ALERTMANAGER_PORT}`,
              // One replica: no gossip cluster (it would listen on 9094 and look for peers).
              '--cluster.listen-address=',
            ],
            ports: [{ name: 'web', containerPort: ALERTMANAGER_PORT }],
            resources: resourceRequirements(props.resources ?? { cpu: '20m', memory: '64Mi' }),
            livenessProbe: httpProbe('/-/healthy', 'web'),
            readinessProbe: httpProbe('/-/ready', 'web', { periodSeconds: 5 }),
            volumeMounts: [
              { name: 'config', mountPath: '/etc/alertmanager', readOnly: true },
              { name: 'data', mountPath: '/alertmanager' },
            ],
          }),
        ],
      }),
    });
    service(this, 'Service', workload, { port: { name: 'web', port: ALERTMANAGER_PORT } });
    networkPolicyFromSpec(
      this,
      'NetworkPolicy',
      objectMeta({ ...workload, name: 'allow-alertmanager' }, 'foundation') as never,
      {
        podSelector: { matchLabels: this.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { ...props.senders } } }],
            ports: [{ protocol: 'TCP', port: ALERTMANAGER_PORT }],
          },
        ],
        egress: [
          {
            to: cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: receiverPorts(props.receivers).map((port) => ({ protocol: 'TCP', port })),
          },
        ],
      },
    );
  }

  /** `host:port` Prometheus sends alerts to (in-cluster only). */
  get target(): string {
    return `${this.name}.${this.namespace}.svc:${ALERTMANAGER_PORT}`;
  }
}

/** The same routes, receivers and inhibition in the AlertmanagerConfig CRD's camelCase schema. */
function operatorSpec(options: AlertmanagerConfigOptions) {
  const c = jobplaneAlertmanagerConfig(options);
  const route = c.route as {
    group_by: string[];
    group_wait: string;
    group_interval: string;
    repeat_interval: string;
  };
  const matcher = (name: string, value: string, matchType: '=' | '=~' = '=') => ({ name, value, matchType });
  const receivers = c.receivers as {
    name: string;
    webhook_configs: { url: string; send_resolved: boolean }[];
  }[];
  const rule = c.inhibit_rules[0] as {
    source_matchers: string[];
    target_matchers: string[];
    equal: string[];
  };
  const unquote = (m: string) => /^(\w+)(=~|=)"(.*)"$/.exec(m)!;
  const toMatcher = (m: string) => {
    const [, name, op, value] = unquote(m);
    return matcher(name!, value!, op as '=' | '=~');
  };
  return {
    route: {
      receiver: ALERT_RECEIVERS.warning,
      groupBy: route.group_by,
      groupWait: route.group_wait,
      groupInterval: route.group_interval,
      repeatInterval: route.repeat_interval,
      routes: (c.route['routes'] as { receiver: string; matchers: string[]; repeat_interval: string }[]).map(
        (r) => ({
          receiver: r.receiver,
          matchers: r.matchers.map(toMatcher),
          repeatInterval: r.repeat_interval,
        }),
      ),
    },
    receivers: receivers.map((r) => ({
      name: r.name,
      webhookConfigs: r.webhook_configs.map((w) => ({ url: w.url, sendResolved: w.send_resolved })),
    })),
    inhibitRules: [
      {
        sourceMatch: rule.source_matchers.map(toMatcher),
        targetMatch: rule.target_matchers.map(toMatcher),
        equal: rule.equal,
      },
    ],
  };
}
