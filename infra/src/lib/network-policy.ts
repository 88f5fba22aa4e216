/**
 * NetworkPolicies on cdk8s-plus-28's typed `kplus.NetworkPolicy`: the policy's pods, its peers
 * (`kplus.Pods.select` with labels and `In` expressions, optionally in named namespaces via
 * `kplus.Namespaces.select`; `kplus.NetworkPolicyIpBlock.ipv4`) and ports
 * (`kplus.NetworkPolicyPort.tcp/udp`). The constructs describe a policy in Kubernetes terms
 * ({@link PolicySpec}); this builds it. cdk8s-plus writes one rule per peer (rules are OR-ed, so
 * a rule listing several peers and one rule per peer admit the same traffic) and a namespace peer
 * with `podSelector: {}` (every pod of it, as when the field is absent).
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { PropValidationError } from './errors.js';

export interface SelectorSpec {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: 'In'; values: readonly string[] }[];
}

/** One peer: pods (of the policy's namespace, or of the namespaces named), or a CIDR. */
export interface PeerSpec {
  readonly podSelector?: SelectorSpec;
  /** Namespaces by name (`kubernetes.io/metadata.name`). */
  readonly namespaces?: readonly string[];
  readonly cidr?: string;
}

export interface PortSpec {
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
}

export interface RuleSpec {
  readonly peers: readonly PeerSpec[];
  readonly ports: readonly PortSpec[];
}

export interface PolicySpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** The pods the policy applies to; `{}` = every pod of the namespace. */
  readonly podSelector: SelectorSpec;
  readonly ingress?: readonly RuleSpec[];
  readonly egress?: readonly RuleSpec[];
  /** Deny all ingress and egress of the selected pods (default-deny). @default false */
  readonly denyAll?: boolean;
}

function pods(scope: Construct, id: string, s: SelectorSpec, namespaces?: kplus.Namespaces): kplus.Pods {
  const labels = { ...(s.matchLabels ?? {}) };
  const expressions = (s.matchExpressions ?? []).map((e) => kplus.LabelExpression.in(e.key, [...e.values]));
  if (Object.keys(labels).length === 0 && expressions.length === 0 && !namespaces)
    return kplus.Pods.all(scope, id);
  return kplus.Pods.select(scope, id, {
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(expressions.length > 0 ? { expressions } : {}),
    ...(namespaces ? { namespaces } : {}),
  });
}

/** A NetworkPolicy built with `kplus.NetworkPolicy`; returns its L1. */
export function networkPolicy(scope: Construct, id: string, p: PolicySpec): ApiObject {
  const policy = new kplus.NetworkPolicy(scope, id, {
    metadata: {
      name: p.name,
      namespace: p.namespace,
      ...(p.labels ? { labels: { ...p.labels } } : {}),
      ...(p.annotations ? { annotations: { ...p.annotations } } : {}),
    },
    selector: pods(scope, `${id}-Pods`, p.podSelector),
    ...(p.denyAll
      ? {
          ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
          egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
        }
      : {}),
  });
  let n = 0;
  const peer = (s: PeerSpec): kplus.INetworkPolicyPeer => {
    const pid = `${id}-Peer${n++}`;
    if (s.cidr !== undefined) {
      if (s.podSelector || s.namespaces)
        throw new PropValidationError(`NetworkPolicy '${p.name}': a CIDR peer cannot also select pods`);
      return kplus.NetworkPolicyIpBlock.ipv4(scope, pid, s.cidr);
    }
    const namespaces = s.namespaces
      ? kplus.Namespaces.select(scope, `${pid}-Namespaces`, { names: [...s.namespaces] })
      : undefined;
    if (namespaces && !s.podSelector) return namespaces;
    return pods(scope, pid, s.podSelector ?? {}, namespaces);
  };
  const ports = (r: RuleSpec) =>
    r.ports.map((x) =>
      x.protocol === 'UDP' ? kplus.NetworkPolicyPort.udp(x.port) : kplus.NetworkPolicyPort.tcp(x.port),
    );
  for (const r of p.ingress ?? []) for (const s of r.peers) policy.addIngressRule(peer(s), ports(r));
  for (const r of p.egress ?? []) for (const s of r.peers) policy.addEgressRule(peer(s), ports(r));
  return ApiObject.of(policy);
}

type Json = Record<string, unknown>;

/** A peer of the Kubernetes form (`podSelector`, `namespaceSelector` by name, `ipBlock`). */
function peerOf(policy: string, x: Json): PeerSpec {
  const ip = x['ipBlock'] as { cidr: string; except?: unknown } | undefined;
  if (ip) {
    if (ip.except !== undefined)
      throw new PropValidationError(`NetworkPolicy '${policy}': ipBlock.except is not supported`);
    return { cidr: ip.cidr };
  }
  const ns = x['namespaceSelector'] as SelectorSpec | undefined;
  let namespaces: string[] | undefined;
  if (ns) {
    const name = ns.matchLabels?.['kubernetes.io/metadata.name'];
    if (!name || Object.keys(ns.matchLabels ?? {}).length !== 1 || ns.matchExpressions)
      throw new PropValidationError(
        `NetworkPolicy '${policy}': a namespaceSelector must select one namespace by kubernetes.io/metadata.name`,
      );
    namespaces = [name];
  }
  const pod = x['podSelector'] as SelectorSpec | undefined;
  return { ...(pod ? { podSelector: pod } : {}), ...(namespaces ? { namespaces } : {}) };
}

/**
 * {@link networkPolicy} from a spec in the Kubernetes form (`podSelector`, `policyTypes`,
 * `ingress[].from`, `egress[].to`, `ports`); `policyTypes: [Ingress, Egress]` without rules is a
 * default deny.
 */
export function networkPolicyFromSpec(
  scope: Construct,
  id: string,
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  },
  spec: Json,
): ApiObject {
  const rules = (list: unknown, side: 'from' | 'to'): RuleSpec[] =>
    ((list as Json[] | undefined) ?? []).map((r) => ({
      peers: ((r[side] as Json[] | undefined) ?? []).map((x) => peerOf(metadata.name, x)),
      ports: ((r['ports'] as PortSpec[] | undefined) ?? []).map((x) => ({
        protocol: x.protocol,
        port: x.port,
      })),
    }));
  const ingress = rules(spec['ingress'], 'from');
  const egress = rules(spec['egress'], 'to');
  const types = (spec['policyTypes'] as string[] | undefined) ?? [];
  for (const r of [...ingress, ...egress])
    if (r.peers.length === 0)
      throw new PropValidationError(`NetworkPolicy '${metadata.name}': every rule names its peers`);
  return networkPolicy(scope, id, {
    ...metadata,
    podSelector: (spec['podSelector'] as SelectorSpec | undefined) ?? {},
    ingress,
    egress,
    denyAll:
      ingress.length === 0 && egress.length === 0 && types.includes('Ingress') && types.includes('Egress'),
  });
}
