/**
 * Capacity on EKS: Karpenter's Helm values and its one NodePool + EC2NodeClass (`workloads`).
 *
 * The managed node group runs the add-ons (Karpenter's controller included: the chart keeps it off
 * Karpenter's own nodes); Karpenter launches workload nodes when pods are Pending and consolidates
 * them when they are empty or underused. The NodePool only launches nodes of ≥
 * `minInstanceCpu` vCPUs (prod's isolated Jobs request 2 CPU) in the cluster's architecture, and
 * its `limits` cap the total it may launch (docs/stacks.md, "Capacity").
 * @see https://karpenter.sh/docs/concepts/nodepools/
 * @see https://karpenter.sh/docs/concepts/nodeclasses/
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { KarpenterSettings } from './config.js';
import type { KarpenterWiring } from './eks-cluster.js';
import { IRSA_ANNOTATION } from './eks/irsa.js';

export const KARPENTER_POOL = 'workloads';

/** Karpenter chart values: cluster, IRSA role of its ServiceAccount, interruption queue. */
export function karpenterValues(w: {
  clusterName: string;
  controllerRoleArn: string;
  interruptionQueueName?: string;
}): Record<string, unknown> {
  return {
    replicas: 2,
    settings: {
      clusterName: w.clusterName,
      ...(w.interruptionQueueName ? { interruptionQueue: w.interruptionQueueName } : {}),
    },
    serviceAccount: { annotations: { [IRSA_ANNOTATION]: w.controllerRoleArn } },
    controller: { resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } } },
  };
}

/** The EC2NodeClass: AL2023, private subnets, cluster security group, IMDSv2 only, encrypted gp3. */
export function karpenterNodeClass(a: {
  nodeRoleName: string;
  subnetIds: readonly string[];
  securityGroupId: string;
  tags: Readonly<Record<string, string>>;
}): Record<string, unknown> {
  return {
    apiVersion: 'karpenter.k8s.aws/v1',
    kind: 'EC2NodeClass',
    metadata: { name: KARPENTER_POOL },
    spec: {
      role: a.nodeRoleName,
      amiSelectorTerms: [{ alias: 'al2023@latest' }],
      subnetSelectorTerms: a.subnetIds.map((id) => ({ id })),
      securityGroupSelectorTerms: [{ id: a.securityGroupId }],
      // Pods cannot reach the instance metadata (hop limit 1): only the node's own agents can.
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpProtocolIPv6: 'disabled',
        httpPutResponseHopLimit: 1,
        httpTokens: 'required',
      },
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          ebs: { volumeSize: '50Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
        },
      ],
      tags: { ...a.tags },
    },
  };
}

/** The NodePool: what Karpenter may launch and how much in total. */
export function karpenterNodePool(s: KarpenterSettings, arch: 'arm64' | 'amd64'): Record<string, unknown> {
  if (!Number.isInteger(s.minInstanceCpu) || s.minInstanceCpu < 2) {
    throw new Error(`'minInstanceCpu' (${s.minInstanceCpu}) must be an integer ≥ 2`);
  }
  if (s.cpuLimit < s.minInstanceCpu) {
    throw new Error(`'cpuLimit' (${s.cpuLimit}) must be ≥ 'minInstanceCpu' (${s.minInstanceCpu})`);
  }
  if (s.capacityTypes.length === 0) throw new Error(`'capacityTypes' ([]) must not be empty`);
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: KARPENTER_POOL },
    spec: {
      template: {
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: KARPENTER_POOL },
          requirements: [
            { key: 'kubernetes.io/arch', operator: 'In', values: [arch] },
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: [...s.capacityTypes] },
            { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
            { key: 'karpenter.k8s.aws/instance-cpu', operator: 'Gt', values: [String(s.minInstanceCpu - 1)] },
            { key: 'karpenter.k8s.aws/instance-cpu', operator: 'Lt', values: ['33'] },
            { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['5'] },
          ],
          expireAfter: '720h',
        },
      },
      limits: { cpu: String(s.cpuLimit), memory: `${s.memoryGiLimit}Gi` },
      disruption: {
        consolidationPolicy: 'WhenEmptyOrUnderutilized',
        consolidateAfter: '5m',
        budgets: [{ nodes: '10%' }],
      },
    },
  };
}

export interface KarpenterNodePoolsProps {
  readonly wiring: KarpenterWiring;
  readonly settings: KarpenterSettings;
  readonly tags: Readonly<Record<string, string>>;
  /** The Karpenter release (its CRDs must exist first). */
  readonly release: k8s.helm.v3.Release;
}

export class KarpenterNodePools extends pulumi.ComponentResource {
  constructor(name: string, props: KarpenterNodePoolsProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:capacity:KarpenterNodePools', name, {}, opts);
    const after = { parent: this, dependsOn: [props.release] };
    const w = props.wiring;
    const nodeClassSpec = pulumi
      .all([w.nodeRoleName, pulumi.all(w.subnetIds), w.securityGroupId])
      .apply(
        ([nodeRoleName, subnetIds, securityGroupId]) =>
          karpenterNodeClass({ nodeRoleName, subnetIds, securityGroupId, tags: props.tags })['spec'],
      );
    const nodeClass = new k8s.apiextensions.CustomResource(
      `${name}-nodeclass`,
      {
        apiVersion: 'karpenter.k8s.aws/v1',
        kind: 'EC2NodeClass',
        metadata: { name: KARPENTER_POOL },
        spec: nodeClassSpec,
      },
      after,
    );
    const pool = karpenterNodePool(props.settings, w.arch) as { apiVersion: string; kind: string };
    new k8s.apiextensions.CustomResource(`${name}-nodepool`, pool, {
      parent: this,
      dependsOn: [props.release, nodeClass],
    });
    this.registerOutputs({});
  }
}
