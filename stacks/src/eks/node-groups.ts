/**
 * Nodes: the EC2 architecture of an instance type, and the managed node group that runs the
 * cluster add-ons (Karpenter's controller must not run on nodes Karpenter manages). Workload
 * capacity beyond it comes from Karpenter (see karpenter.ts).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { serviceTrustPolicy } from './control-plane.js';

export type Architecture = 'arm64' | 'x86_64';

/**
 * EC2 instance type names: family letters, generation digits, attribute letters, an optional
 * `-option`, then the size (`m7g.large`, `c7gn.xlarge`, `is4gen.xlarge`, `m7i-flex.large`).
 * @see https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
 */
const INSTANCE_NAME = /^([a-z]+)(\d+)([a-z]*)(-[a-z0-9]+)?\.([a-z0-9]+)$/;

/**
 * The CPU architecture of an instance type, from its name: the attribute letter `g` marks an AWS
 * Graviton processor (`m7g`, `c7gn`, `x2gd`, `im4gn`, `is4gen`, `r8g`, `t4g`, `g5g`, `hpc7g`);
 * `a1` is the first Graviton generation (family `a`, no attribute); a `-gb…` option is a Grace
 * superchip (`p6e-gb200`). High-memory `u-*` types are x86.
 * @throws for a name that is not an instance type, and for Mac instances (EKS cannot use them)
 */
export function instanceArchitecture(instanceType: string): Architecture {
  if (/^u-\d+tb\d*\./.test(instanceType)) return 'x86_64';
  if (instanceType.startsWith('mac')) {
    throw new Error(`instance type (${instanceType}) is a Mac instance, which EKS cannot run as a node`);
  }
  const m = INSTANCE_NAME.exec(instanceType);
  if (!m) throw new Error(`instance type (${instanceType}) is not an EC2 instance type name`);
  const [, family, generation, attributes, option] = m;
  if (family === 'a' && generation === '1') return 'arm64';
  if (option !== undefined && /^-gb\d/.test(option)) return 'arm64';
  return attributes!.includes('g') ? 'arm64' : 'x86_64';
}

/** EKS managed node group AMI type for the instance types (all Graviton or all x86). */
export function amiTypeFor(
  instanceTypes: readonly string[],
): 'AL2023_ARM_64_STANDARD' | 'AL2023_x86_64_STANDARD' {
  if (instanceTypes.length === 0)
    throw new Error(`'instanceTypes' ([]) must list at least one instance type`);
  const arch = new Set(instanceTypes.map(instanceArchitecture));
  if (arch.size > 1) {
    throw new Error(`'instanceTypes' (${instanceTypes.join(', ')}) mixes ARM and x86 instance types`);
  }
  return arch.has('arm64') ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD';
}

/** The Kubernetes `kubernetes.io/arch` value of an AMI type. */
export function kubernetesArch(amiType: ReturnType<typeof amiTypeFor>): 'arm64' | 'amd64' {
  return amiType === 'AL2023_ARM_64_STANDARD' ? 'arm64' : 'amd64';
}

/** Managed policies every EKS node role needs. */
export const NODE_POLICY_ARNS = [
  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
  'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
  'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
] as const;

export interface ManagedNodeGroupProps {
  readonly clusterName: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly instanceTypes: readonly string[];
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly tags: Readonly<Record<string, string>>;
}

export class ManagedNodeGroup extends pulumi.ComponentResource {
  readonly nodeGroup: aws.eks.NodeGroup;
  readonly amiType: ReturnType<typeof amiTypeFor>;

  constructor(name: string, props: ManagedNodeGroupProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:eks:ManagedNodeGroup', name, {}, opts);
    if (!(props.min >= 1 && props.min <= props.desired && props.desired <= props.max)) {
      throw new Error(
        `'min' (${props.min}), 'desired' (${props.desired}) and 'max' (${props.max}) must satisfy 1 ≤ min ≤ desired ≤ max`,
      );
    }
    this.amiType = amiTypeFor(props.instanceTypes);
    const tags = { ...props.tags };
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: serviceTrustPolicy('ec2.amazonaws.com'), tags },
      { parent: this },
    );
    const policies = NODE_POLICY_ARNS.map(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-policy-${i}`,
          { role: role.name, policyArn },
          { parent: this },
        ),
    );
    this.nodeGroup = new aws.eks.NodeGroup(
      `${name}-ng`,
      {
        clusterName: props.clusterName,
        nodeRoleArn: role.arn,
        subnetIds: props.subnetIds,
        instanceTypes: [...props.instanceTypes],
        amiType: this.amiType,
        capacityType: 'ON_DEMAND',
        scalingConfig: { minSize: props.min, maxSize: props.max, desiredSize: props.desired },
        updateConfig: { maxUnavailable: 1 },
        tags,
      },
      { parent: this, dependsOn: policies },
    );
    this.registerOutputs({});
  }
}
