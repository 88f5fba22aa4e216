import { describe, expect, it } from 'vitest';
import { NetworkPolicies, type NetworkPoliciesProps } from '../src/network-policies.js';
import { NamespaceQuotaPolicy } from '../src/namespace-quota.js';
import { type AnyJson, find, synth } from './helpers.js';

const inCluster: NetworkPoliciesProps = {
  redis: { port: 6379, selector: { app: 'redis' } },
  postgres: { port: 5432, selector: { app: 'pg' } },
  scraper: { kind: 'pods', selector: { app: 'prom' }, port: 9090 },
};

describe('NetworkPolicies', () => {
  const defaults = synth((s) => new NetworkPolicies(s, 'np', inCluster));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('denies everything by default in both namespaces', () => {
    for (const ns of ['jobplane', 'jobplane-jobs']) {
      const deny = defaults.find((o) => o.metadata.name === 'default-deny' && o.metadata.namespace === ns)!;
      // kplus.NetworkPolicy with both defaults DENY (it lists Egress first).
      expect(deny['spec']).toEqual({ podSelector: {}, policyTypes: ['Egress', 'Ingress'] });
    }
  });

  it('allows DNS, runtime → data stores, api ingress, metrics from Prometheus', () => {
    const dns = find(defaults, 'NetworkPolicy', 'allow-dns')['spec'] as AnyJson;
    expect(dns.egress[0].ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    const jobsStores = defaults.find(
      (o) => o.metadata.name === 'allow-runtime-to-datastores' && o.metadata.namespace === 'jobplane-jobs',
    )!['spec'] as AnyJson;
    expect(jobsStores.egress[0]).toEqual({
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'jobplane' } },
          podSelector: { matchLabels: { app: 'redis' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 6379 }],
    });
    expect(
      (find(defaults, 'NetworkPolicy', 'allow-api-ingress')['spec'] as AnyJson).ingress[0].ports,
    ).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect((find(defaults, 'NetworkPolicy', 'allow-redis-ingress')['spec'] as AnyJson).podSelector).toEqual({
      matchLabels: { app: 'redis' },
    });
    const prom = find(defaults, 'NetworkPolicy', 'allow-prometheus')['spec'] as AnyJson;
    // A namespace peer from cdk8s-plus selects every pod of it explicitly (podSelector: {}).
    expect(prom.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } }, podSelector: {} },
    ]);
  });

  it('external stores use CIDRs and no ingress policies for them; operator scrapes from its namespace', () => {
    const objs = synth(
      (s) =>
        new NetworkPolicies(s, 'np', {
          redis: { port: 6379, cidrs: ['10.1.0.0/16'] },
          postgres: { port: 5432, cidrs: ['10.2.0.0/16'] },
          scraper: { kind: 'namespace', namespace: 'monitoring' },
          apiClientNamespaces: ['batch-clients'],
        }),
    );
    const stores = find(objs, 'NetworkPolicy', 'allow-runtime-to-datastores')['spec'] as AnyJson;
    expect(stores.egress[1].to).toEqual([{ ipBlock: { cidr: '10.2.0.0/16' } }]);
    expect(
      objs.some((o) => o.metadata.name === 'allow-redis-ingress' || o.metadata.name === 'allow-prometheus'),
    ).toBe(false);
    expect((find(objs, 'NetworkPolicy', 'allow-metrics-scrape')['spec'] as AnyJson).ingress[0].from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: {},
      },
    ]);
    // One rule per peer (cdk8s-plus): the controller's pods, then each client namespace.
    expect(
      (find(objs, 'NetworkPolicy', 'allow-api-ingress')['spec'] as AnyJson).ingress.flatMap(
        (r: AnyJson) => r.from,
      ),
    ).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
      },
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'batch-clients' } },
        podSelector: {},
      },
    ]);
  });

  it('admits the API port only from the ingress controller pods, never every namespace', () => {
    const api = find(defaults, 'NetworkPolicy', 'allow-api-ingress')['spec'] as AnyJson;
    expect(api.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
          },
        ],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
    ]);
    const custom = synth(
      (s) =>
        new NetworkPolicies(s, 'np', {
          ...inCluster,
          ingressController: { namespace: 'edge', podLabels: { app: 'envoy' } },
        }),
    );
    expect((find(custom, 'NetworkPolicy', 'allow-api-ingress')['spec'] as AnyJson).ingress[0].from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'edge' } },
        podSelector: { matchLabels: { app: 'envoy' } },
      },
    ]);
  });

  it.each([
    [{ redis: { port: 6379 } }, `'redis' must set exactly one of 'selector' or 'cidrs'`],
    [
      { postgres: { port: 5432, cidrs: ['0.0.0.0/0'] } },
      `'postgres.cidrs' ('0.0.0.0/0') must be an IPv4 CIDR narrower than 0.0.0.0/0`,
    ],
    [{ kedaNamespace: 'KEDA' }, `'kedaNamespace' ('KEDA') must be a lowercase RFC 1123 label`],
    [
      { ingressController: { namespace: 'traefik', podLabels: {} } },
      `'ingressController.podLabels' ({}) must select the controller's pods, not every pod of 'traefik'`,
    ],
    [{ apiClientNamespaces: ['Bad'] }, `'apiClientNamespaces[0]' ('Bad') must be a lowercase RFC 1123 label`],
  ])('rejects %j', (props, message) => {
    expect(() => synth((s) => new NetworkPolicies(s, 'np', { ...inCluster, ...(props as object) }))).toThrow(
      message,
    );
  });
});

describe('NamespaceQuotaPolicy', () => {
  const quota = { requestsCpu: '2', limitsMemory: '4Gi', jobs: 5, pods: 6 };
  it('matches the snapshot', () => {
    expect(
      synth((s) => new NamespaceQuotaPolicy(s, 'q', { namespace: 'jobplane-jobs', quota })),
    ).toMatchSnapshot();
  });

  it('emits the ResourceQuota and LimitRange only: the Namespace belongs to the stacks', () => {
    const objects = synth((s) => new NamespaceQuotaPolicy(s, 'q', { namespace: 'j', quota }));
    expect(objects.map((o) => o.kind).sort()).toEqual(['LimitRange', 'ResourceQuota']);
    expect(find(objects, 'ResourceQuota')['spec']).toEqual({
      hard: { 'requests.cpu': '2', 'limits.memory': '4Gi', 'count/jobs.batch': '5', pods: '6' },
    });
  });

  it.each([
    [{ namespace: '-x', quota }, `'namespace' ('-x') must be a lowercase RFC 1123 label`],
    [
      { namespace: 'j', quota: { ...quota, requestsCpu: 'two' } },
      `'quota.requestsCpu' ('two') must be a positive quantity`,
    ],
    [
      { namespace: 'j', quota: { ...quota, limitsMemory: '0' } },
      `'quota.limitsMemory' ('0') must be a positive quantity`,
    ],
    [{ namespace: 'j', quota: { ...quota, pods: 0 } }, `'quota.pods' (0) must be an integer ≥ 1`],
  ])('rejects %j', (props, message) => {
    expect(() => synth((s) => new NamespaceQuotaPolicy(s, 'q', props))).toThrow(message);
  });
});
