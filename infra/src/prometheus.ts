/**
 * Prometheus for Jobplane. `in-cluster` (dev): a Prometheus Deployment whose scrape config
 * discovers the platform's Services (Kubernetes endpoints discovery, limited by namespaced RBAC to
 * the platform namespaces) and loads {@link jobplaneAlertRules}. `operator` (clusters running
 * prometheus-operator): ServiceMonitors and a PrometheusRule with the same rules instead.
 * Either way KEDA reads the backlog from it.
 * @see https://prometheus.io/docs/prometheus/latest/configuration/configuration/#kubernetes_sd_config
 * @see https://prometheus-operator.dev/docs/api-reference/api/
 */
import type { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PlatformServiceAccount } from './service-account.js';
import { PromServiceMonitor, PromPrometheusRule } from './imports/crds.js';
import { stringify } from 'yaml';
import { jobplaneAlertRules, type AlertRuleOptions } from './alert-rules.js';
import { PropValidationError, checkDnsLabel } from './lib/errors.js';
import { imageString, type ImageRef } from './lib/image.js';
import { PART_OF, objectLabels, selectorLabels } from './lib/labels.js';
import { objectMeta, service } from './lib/objects.js';
import { deployment } from './lib/workloads.js';
import { container, httpProbe, podTemplate, type PodScheduling } from './lib/pod.js';
import { resourceRequirements, type ResourceSpec } from './lib/resources.js';
import { argoAnnotations } from './lib/sync.js';
import { NamespacedReader } from './namespaced-reader.js';

/** Pinned upstream image (runs as nobody, uid 65534). */
export const PROMETHEUS_IMAGE: ImageRef = { repository: 'quay.io/prometheus/prometheus', tag: 'v3.5.0' };
export const PROMETHEUS_PORT = 9090;

export interface PrometheusProps {
  /** PriorityClass and zone spread of the pods. @default none */
  readonly scheduling?: PodScheduling;
  /** `in-cluster` Prometheus or prometheus-operator objects. @default 'in-cluster' */
  readonly mode?: 'in-cluster' | 'operator';
  /** @default 'jobplane' */
  readonly namespace?: string;
  /** Namespaces whose Jobplane Services are scraped. @default [namespace] */
  readonly scrapeNamespaces?: readonly string[];
  /** @default 'jobplane-prometheus' */
  readonly name?: string;
  /** @default PROMETHEUS_IMAGE */
  readonly image?: ImageRef;
  /** Local TSDB retention. @default '2d' */
  readonly retention?: string;
  /** @default { cpu: '100m', memory: '512Mi' } */
  readonly resources?: ResourceSpec;
  /** Thresholds of the alert rules. @default jobplaneAlertRules defaults */
  readonly rules?: AlertRuleOptions;
  /**
   * Alertmanagers the in-cluster Prometheus sends alerts to (`host:port`, e.g.
   * `Alertmanager.target`). In operator mode the operator's Prometheus CR names its Alertmanager;
   * the rules then carry a `namespace` label so that an `AlertmanagerConfig` in this namespace
   * routes them. @default none (alerts are only evaluated)
   */
  readonly alertmanagers?: readonly string[];
  /** Labels the operator's Prometheus selects ServiceMonitors/PrometheusRules by. @default { release: 'prometheus' } */
  readonly operatorSelectorLabels?: Record<string, string>;
}

export class Prometheus extends Construct {
  /** The L1 Deployment (in-cluster) or PrometheusRule (operator): the escape hatch. */
  readonly resource: ApiObject;
  readonly mode: 'in-cluster' | 'operator';
  readonly namespace: string;
  readonly name: string;
  /** Selector of the Prometheus pods (in-cluster only). */
  readonly selector?: Record<string, string>;

  constructor(scope: Construct, id: string, props: PrometheusProps = {}) {
    super(scope, id);
    this.mode = props.mode ?? 'in-cluster';
    this.namespace = checkDnsLabel('namespace', props.namespace ?? 'jobplane');
    this.name = checkDnsLabel('name', props.name ?? 'jobplane-prometheus');
    const scrapeNamespaces = [...(props.scrapeNamespaces ?? [this.namespace])].map((n, i) =>
      checkDnsLabel(`scrapeNamespaces[${i}]`, n),
    );
    const alertmanagers = [...(props.alertmanagers ?? [])];
    alertmanagers.forEach((t, i) => {
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:\d{1,5}$/.test(t))
        throw new PropValidationError(
          `'alertmanagers[${i}]' ('${t}') must be host:port, e.g. 'jobplane-alertmanager.jobplane.svc:9093'`,
        );
    });
    // prometheus-operator's AlertmanagerConfig only routes alerts labelled with its namespace.
    const rules = jobplaneAlertRules(
      this.mode === 'operator'
        ? { ...props.rules, extraLabels: { namespace: this.namespace, ...props.rules?.extraLabels } }
        : props.rules,
    );
    const labels = objectLabels('prometheus', this.name);

    if (this.mode === 'operator') {
      const opLabels = { ...labels, ...(props.operatorSelectorLabels ?? { release: 'prometheus' }) };
      for (const [suffix, component, port] of [
        ['api', 'api', 'http'],
        ['workers', 'worker', 'metrics'],
        ['relay', 'relay', 'metrics'],
      ] as const) {
        new PromServiceMonitor(this, `ServiceMonitor-${suffix}`, {
          metadata: {
            name: `jobplane-${suffix}`,
            namespace: this.namespace,
            labels: opLabels,
            annotations: argoAnnotations('scalers', { crdBacked: true }),
          },
          spec: {
            selector: {
              matchLabels: { 'app.kubernetes.io/part-of': PART_OF, 'app.kubernetes.io/component': component },
            },
            namespaceSelector: { matchNames: scrapeNamespaces },
            endpoints: [{ port, path: '/metrics', interval: '15s' }],
          },
        });
      }
      this.resource = new PromPrometheusRule(this, 'Resource', {
        metadata: {
          name: 'jobplane',
          namespace: this.namespace,
          labels: opLabels,
          annotations: argoAnnotations('scalers', { crdBacked: true }),
        },
        spec: rules,
      });
      return;
    }

    this.selector = { ...selectorLabels('prometheus', this.name) };
    const workload = { name: this.name, namespace: this.namespace, labels, selector: this.selector };
    // The discovery token is the one exception to RB2: Prometheus must list endpoints.
    new PlatformServiceAccount(this, 'ServiceAccount', {
      name: this.name,
      namespace: this.namespace,
      labels,
    });
    for (const ns of scrapeNamespaces) {
      new NamespacedReader(this, `Discovery-${ns}`, {
        name: this.name,
        namespace: ns,
        serviceAccount: { name: this.name, namespace: this.namespace },
        labels,
        resources: [
          { apiGroup: '', resources: ['endpoints', 'pods', 'services'] },
          { apiGroup: 'discovery.k8s.io', resources: ['endpointslices'] },
        ],
      });
    }

    const config = {
      global: { scrape_interval: '15s', evaluation_interval: '15s' },
      rule_files: ['/etc/prometheus/rules/*.yaml'],
      ...(alertmanagers.length > 0
        ? { alerting: { alertmanagers: [{ static_configs: [{ targets: alertmanagers }] }] } }
        : {}),
      scrape_configs: [
        { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
        {
          job_name: 'jobplane',
          kubernetes_sd_configs: [{ role: 'endpoints', namespaces: { names: scrapeNamespaces } }],
          relabel_configs: [
            {
              source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_part_of'],
              regex: PART_OF,
              action: 'keep',
            },
            {
              source_labels: ['__meta_kubernetes_endpoint_port_name'],
              regex: 'http|metrics',
              action: 'keep',
            },
            {
              source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_component'],
              regex: 'api|worker|relay',
              action: 'keep',
            },
            // Same `job` label as prometheus-operator's ServiceMonitors: the Service name.
            { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job' },
            { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
            { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          ],
        },
      ],
    };
    new kplus.ConfigMap(this, 'Config', {
      metadata: objectMeta(workload, 'foundation'),
      data: {
        'prometheus.yml': stringify(config, { lineWidth: 0 }),
        'jobplane.rules.yaml': stringify(rules, { lineWidth: 0 }),
      },
    });

    this.resource = deployment(this, workload, {
      replicas: 1,
      strategy: 'Recreate',
      template: podTemplate({
        scheduling: props.scheduling,
        labels: { ...labels },
        serviceAccountName: this.name,
        automountServiceAccountToken: true,
        runAsUser: 65534,
        fsGroup: 65534,
        volumes: [
          {
            name: 'config',
            configMap: { name: this.name, items: [{ key: 'prometheus.yml', path: 'prometheus.yml' }] },
          },
          {
            name: 'rules',
            configMap: {
              name: this.name,
              items: [{ key: 'jobplane.rules.yaml', path: 'jobplane.rules.yaml' }],
            },
          },
          { name: 'data', emptyDir: { sizeLimit: '2Gi' } },
        ],
        containers: [
          container({
            name: 'prometheus',
            image: imageString('image', props.image ?? PROMETHEUS_IMAGE),
            args: [
              '--config.file=/etc/prometheus/config/prometheus.yml',
              '--storage.tsdb.path=/prometheus',
              `--storage.tsdb.retention.time=${props.retention ?? '2d'}`,
              `--web.listen-address=:${PROMETHEUS_PORT}`,
            ],
            ports: [{ name: 'web', containerPort: PROMETHEUS_PORT }],
            resources: resourceRequirements(props.resources ?? { cpu: '100m', memory: '512Mi' }),
            livenessProbe: httpProbe('/-/healthy', 'web'),
            readinessProbe: httpProbe('/-/ready', 'web', { periodSeconds: 5 }),
            volumeMounts: [
              { name: 'config', mountPath: '/etc/prometheus/config', readOnly: true },
              { name: 'rules', mountPath: '/etc/prometheus/rules', readOnly: true },
              { name: 'data', mountPath: '/prometheus' },
            ],
          }),
        ],
      }),
    });

    service(this, 'Service', workload, { port: { name: 'web', port: PROMETHEUS_PORT } });
  }

  /** URL KEDA and users query. */
  get address(): string {
    return `http://${this.name}.${this.namespace}.svc:${PROMETHEUS_PORT}`;
  }
}
