/**
 * NetworkPolicies: default deny (ingress and egress) in every platform namespace, then explicit
 * allows — DNS to kube-system, runtime pods → Redis/PostgreSQL (in-cluster pods or external
 * CIDRs), clients → api, Prometheus → metrics ports, KEDA → Prometheus, Prometheus → API server.
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
import type { ApiObject } from 'cdk8s';
import { networkPolicyFromSpec } from './lib/network-policy.js';
import { Construct } from 'constructs';
import { DEFAULT_INGRESS, type IngressController } from './api-ingress.js';
import { PropValidationError, checkDnsLabel } from './lib/errors.js';
import { RUNTIME_POD_LABEL } from './lib/pod.js';
import { natsClientSelector } from './nats.js';
import { API_PORT, METRICS_PORT } from './lib/runtime.js';
import { argoAnnotations } from './lib/sync.js';

/** How runtime pods reach a data store: in-cluster pods (selector) or external CIDRs. */
export interface DataStoreAccess {
  readonly port: number;
  /** Labels of the in-cluster pods (in the platform namespace). */
  readonly selector?: Record<string, string>;
  /** CIDRs of the managed service. */
  readonly cidrs?: readonly string[];
}

/** Who scrapes metrics: the in-cluster Prometheus pods or a monitoring namespace (operator). */
export type MetricsScraper =
  | { readonly kind: 'pods'; readonly selector: Record<string, string>; readonly port: number }
  | { readonly kind: 'namespace'; readonly namespace: string };

export interface NetworkPoliciesProps {
  /** @default 'jobplane' */
  readonly platformNamespace?: string;
  /** @default 'jobplane-jobs' */
  readonly jobsNamespace?: string;
  readonly redis: DataStoreAccess;
  readonly postgres: DataStoreAccess;
  readonly scraper: MetricsScraper;
  /** Namespace KEDA's operator runs in (it queries Prometheus). @default 'keda' */
  readonly kedaNamespace?: string;
  /**
   * The ingress controller's pods, the only callers of the API from outside its namespace
   * besides `apiClientNamespaces`. @default DEFAULT_INGRESS.controller (Traefik in `traefik`)
   */
  readonly ingressController?: IngressController;
  /** The in-cluster Alertmanager's pods and port: the in-cluster Prometheus may send alerts there. @default none */
  readonly alertmanager?: { readonly selector: Record<string, string>; readonly port: number };
  /**
   * NATS (in-cluster pods by `selector`, or external `cidrs`) on its client port: the api, relay
   * and worker pods (`natsClientSelector()`) may connect. @default none
   */
  readonly nats?: DataStoreAccess;
  /**
   * The OTLP collector (in-cluster pods of a namespace, or CIDRs) and its port: runtime pods of
   * both namespaces may export traces there. @default none
   */
  readonly otlp?: OtlpAccess;
  /** Further namespaces whose pods call the API directly (in-cluster clients). @default [] */
  readonly apiClientNamespaces?: readonly string[];
}

/** Where the OTLP collector is: `cidrs`, or pods of a namespace (`namespace` + optional `podLabels`). */
export interface OtlpAccess {
  readonly port: number;
  readonly cidrs?: readonly string[];
  readonly namespace?: string;
  readonly podLabels?: Readonly<Record<string, string>>;
}

type Peer = Record<string, unknown>;
const nsPeer = (ns: string): Peer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
});
const tcp = (port: number | string) => ({ protocol: 'TCP', port });

export class NetworkPolicies extends Construct {
  /** The L1 default-deny policy of the platform namespace (escape hatch). */
  readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const platform = checkDnsLabel('platformNamespace', props.platformNamespace ?? 'jobplane');
    const jobs = checkDnsLabel('jobsNamespace', props.jobsNamespace ?? 'jobplane-jobs');
    const keda = checkDnsLabel('kedaNamespace', props.kedaNamespace ?? 'keda');
    for (const [prop, store] of [
      ['redis', props.redis],
      ['postgres', props.postgres],
    ] as const) {
      if (!store.selector === !store.cidrs) {
        throw new PropValidationError(`'${prop}' must set exactly one of 'selector' or 'cidrs'`);
      }
      for (const cidr of store.cidrs ?? []) {
        if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr) || cidr === '0.0.0.0/0') {
          throw new PropValidationError(
            `'${prop}.cidrs' ('${cidr}') must be an IPv4 CIDR narrower than 0.0.0.0/0`,
          );
        }
      }
    }
    const runtimePods = { matchLabels: { [RUNTIME_POD_LABEL]: 'true' } };
    // Described in the Kubernetes form, built by cdk8s-plus' kplus.NetworkPolicy (lib/network-policy.ts).
    const policy = (cid: string, namespace: string, name: string, spec: Record<string, unknown>) =>
      networkPolicyFromSpec(
        this,
        cid,
        {
          name,
          namespace,
          labels: { 'app.kubernetes.io/part-of': 'jobplane' },
          annotations: argoAnnotations('foundation'),
        },
        spec,
      );
    const storePeers = (store: DataStoreAccess, fromNs: string): Peer[] =>
      store.selector
        ? [
            fromNs === platform
              ? { podSelector: { matchLabels: store.selector } }
              : { ...nsPeer(platform), podSelector: { matchLabels: store.selector } },
          ]
        : (store.cidrs ?? []).map((cidr) => ({ ipBlock: { cidr } }));

    let resource: ApiObject | undefined;
    for (const ns of [platform, jobs]) {
      const prefix = ns === platform ? 'Platform' : 'Jobs';
      const deny = policy(`${prefix}DefaultDeny`, ns, 'default-deny', {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
      resource ??= deny;
      policy(`${prefix}Dns`, ns, 'allow-dns', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ ...nsPeer('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      });
      policy(`${prefix}DataStores`, ns, 'allow-runtime-to-datastores', {
        podSelector: runtimePods,
        policyTypes: ['Egress'],
        egress: [
          { to: storePeers(props.redis, ns), ports: [tcp(props.redis.port)] },
          { to: storePeers(props.postgres, ns), ports: [tcp(props.postgres.port)] },
        ],
      });
    }
    this.resource = resource!;

    // The API admits the ingress controller's pods (by namespace and pod labels) and the listed
    // in-cluster client namespaces; Prometheus reaches it through allow-metrics-scrape.
    const controller = props.ingressController ?? DEFAULT_INGRESS.controller;
    checkDnsLabel('ingressController.namespace', controller.namespace);
    if (Object.keys(controller.podLabels).length === 0)
      throw new PropValidationError(
        `'ingressController.podLabels' ({}) must select the controller's pods, not every pod of '${controller.namespace}'`,
      );
    const clients = (props.apiClientNamespaces ?? []).map((ns, i) =>
      checkDnsLabel(`apiClientNamespaces[${i}]`, ns),
    );
    policy('ApiIngress', platform, 'allow-api-ingress', {
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'api' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { ...nsPeer(controller.namespace), podSelector: { matchLabels: { ...controller.podLabels } } },
            ...clients.map(nsPeer),
          ],
          ports: [tcp(API_PORT)],
        },
      ],
    });

    const scraperPeer: Peer =
      props.scraper.kind === 'pods'
        ? { ...nsPeer(platform), podSelector: { matchLabels: props.scraper.selector } }
        : nsPeer(props.scraper.namespace);
    for (const ns of [platform, jobs]) {
      policy(`${ns === platform ? 'Platform' : 'Jobs'}Metrics`, ns, 'allow-metrics-scrape', {
        podSelector: runtimePods,
        policyTypes: ['Ingress'],
        ingress: [{ from: [scraperPeer], ports: [tcp(API_PORT), tcp(METRICS_PORT)] }],
      });
    }

    for (const [prop, store] of [
      ['Redis', props.redis],
      ['Postgres', props.postgres],
    ] as const) {
      if (!store.selector) continue;
      policy(`${prop}Ingress`, platform, `allow-${prop.toLowerCase()}-ingress`, {
        podSelector: { matchLabels: store.selector },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: runtimePods }, { ...nsPeer(jobs), podSelector: runtimePods }],
            ports: [tcp(store.port)],
          },
        ],
      });
    }

    if (props.nats) {
      const nats = props.nats;
      if (!nats.selector === !nats.cidrs)
        throw new PropValidationError(`'nats' must set exactly one of 'selector' or 'cidrs'`);
      policy('RuntimeToNats', platform, 'allow-runtime-to-nats', {
        podSelector: natsClientSelector(),
        policyTypes: ['Egress'],
        egress: [{ to: storePeers(nats, platform), ports: [tcp(nats.port)] }],
      });
    }

    if (props.otlp) {
      const otlp = props.otlp;
      if (!otlp.cidrs === !otlp.namespace)
        throw new PropValidationError(`'otlp' must set exactly one of 'cidrs' or 'namespace'`);
      const peers: Peer[] = otlp.namespace
        ? [
            {
              ...nsPeer(checkDnsLabel('otlp.namespace', otlp.namespace)),
              ...(otlp.podLabels && Object.keys(otlp.podLabels).length > 0
                ? { podSelector: { matchLabels: { ...otlp.podLabels } } }
                : {}),
            },
          ]
        : otlp.cidrs!.map((cidr, i) => {
            if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr))
              throw new PropValidationError(`'otlp.cidrs[${i}]' ('${cidr}') must be an IPv4 CIDR`);
            return { ipBlock: { cidr } };
          });
      for (const ns of [platform, jobs]) {
        policy(`${ns === platform ? 'Platform' : 'Jobs'}Otlp`, ns, 'allow-runtime-to-otlp', {
          podSelector: runtimePods,
          policyTypes: ['Egress'],
          egress: [{ to: peers, ports: [tcp(otlp.port)] }],
        });
      }
    }

    if (props.scraper.kind === 'pods') {
      policy('PrometheusTraffic', platform, 'allow-prometheus', {
        podSelector: { matchLabels: props.scraper.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [nsPeer(keda)], ports: [tcp(props.scraper.port)] }],
        egress: [
          {
            to: [{ podSelector: runtimePods }, { ...nsPeer(jobs), podSelector: runtimePods }],
            ports: [tcp(API_PORT), tcp(METRICS_PORT)],
          },
          ...(props.alertmanager
            ? [
                {
                  to: [{ podSelector: { matchLabels: { ...props.alertmanager.selector } } }],
                  ports: [tcp(props.alertmanager.port)],
                },
              ]
            : []),
          // Kubernetes service discovery talks to the API server, whose address is cluster-specific.
          { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443), tcp(6443)] },
        ],
      });
    }
  }
}
