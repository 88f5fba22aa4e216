/**
 * KarpenterAws: what Karpenter needs on the AWS side of an EKS cluster.
 *
 * - The controller's IAM role, assumed through IRSA by the ServiceAccount the Karpenter chart
 *   creates (`kube-system/karpenter`); the program passes the role ARN to the chart, so role and
 *   annotation have one owner. Its policy is Karpenter's documented controller policy, scoped to
 *   this cluster's tags, region, node role and queue.
 * - The node role for the instances Karpenter launches, with an EKS access entry of type
 *   `EC2_LINUX` so they can join (API authentication mode has no aws-auth ConfigMap).
 * - Optionally the interruption queue: an SQS queue fed by EventBridge rules for spot
 *   interruptions, rebalance recommendations, instance state changes and scheduled health events,
 *   so Karpenter drains a node before AWS takes it away.
 * @see https://karpenter.sh/docs/reference/cloudformation/
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { serviceTrustPolicy } from './control-plane.js';
import { checkClusterName, checkRegion } from '../props.js';
import { IrsaRole } from './irsa.js';

/** Managed policies of the Karpenter node role (Karpenter 1.10's documented node role). */
export const KARPENTER_NODE_POLICY_ARNS = [
  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
  'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
  'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly',
  'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
] as const;

/** Where the Karpenter chart runs its controller (its documented default namespace on EKS). */
export const KARPENTER_NAMESPACE = 'kube-system';
export const KARPENTER_SERVICE_ACCOUNT = 'karpenter';

/** EventBridge patterns Karpenter handles through the interruption queue. */
export const INTERRUPTION_EVENTS: Readonly<Record<string, { source: string[]; 'detail-type': string[] }>> = {
  'scheduled-change': { source: ['aws.health'], 'detail-type': ['AWS Health Event'] },
  'spot-interruption': { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
  rebalance: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] },
  'state-change': { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] },
};

/**
 * The controller's IAM policy (Karpenter 1.10's five documented controller policies in one
 * document): launch and terminate only instances tagged for this cluster and a NodePool, pass only
 * the node role, manage only the instance profiles it tagged for an EC2NodeClass, read the queue.
 * @see https://karpenter.sh/v1.10/reference/cloudformation/
 */
export function karpenterControllerPolicy(a: {
  partition: string;
  region: string;
  accountId: string;
  clusterName: string;
  clusterArn: string;
  nodeRoleArn: string;
  queueArn?: string;
}): Record<string, unknown> {
  const ec2 = (resource: string) => `arn:${a.partition}:ec2:${a.region}:*:${resource}`;
  const profiles = `arn:${a.partition}:iam::${a.accountId}:instance-profile/*`;
  const owned = `kubernetes.io/cluster/${a.clusterName}`;
  const requestOwned = {
    [`aws:RequestTag/${owned}`]: 'owned',
    'aws:RequestTag/eks:eks-cluster-name': a.clusterName,
  };
  const resourceOwned = { [`aws:ResourceTag/${owned}`]: 'owned' };
  const created = [
    ec2('fleet/*'),
    ec2('instance/*'),
    ec2('volume/*'),
    ec2('network-interface/*'),
    ec2('launch-template/*'),
    ec2('spot-instances-request/*'),
  ];
  const statements: Record<string, unknown>[] = [
    {
      Sid: 'AllowScopedEC2InstanceAccessActions',
      Effect: 'Allow',
      Resource: [
        `arn:${a.partition}:ec2:${a.region}::image/*`,
        `arn:${a.partition}:ec2:${a.region}::snapshot/*`,
        ec2('security-group/*'),
        ec2('subnet/*'),
        ec2('capacity-reservation/*'),
      ],
      Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
    },
    {
      Sid: 'AllowScopedEC2LaunchTemplateAccessActions',
      Effect: 'Allow',
      Resource: ec2('launch-template/*'),
      Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
      Condition: {
        StringEquals: resourceOwned,
        StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
      },
    },
    {
      Sid: 'AllowScopedEC2InstanceActionsWithTags',
      Effect: 'Allow',
      Resource: created,
      Action: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
      Condition: { StringEquals: requestOwned, StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' } },
    },
    {
      Sid: 'AllowScopedResourceCreationTagging',
      Effect: 'Allow',
      Resource: created,
      Action: 'ec2:CreateTags',
      Condition: {
        StringEquals: {
          ...requestOwned,
          'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'],
        },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      },
    },
    {
      Sid: 'AllowScopedResourceTagging',
      Effect: 'Allow',
      Resource: ec2('instance/*'),
      Action: 'ec2:CreateTags',
      Condition: {
        StringEquals: resourceOwned,
        StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
        StringEqualsIfExists: { 'aws:RequestTag/eks:eks-cluster-name': a.clusterName },
        'ForAllValues:StringEquals': {
          'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'],
        },
      },
    },
    {
      Sid: 'AllowScopedDeletion',
      Effect: 'Allow',
      Resource: [ec2('instance/*'), ec2('launch-template/*')],
      Action: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      Condition: {
        StringEquals: resourceOwned,
        StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
      },
    },
    {
      Sid: 'AllowPassingInstanceRole',
      Effect: 'Allow',
      Resource: a.nodeRoleArn,
      Action: 'iam:PassRole',
      Condition: { StringEquals: { 'iam:PassedToService': ['ec2.amazonaws.com', 'ec2.amazonaws.com.cn'] } },
    },
    {
      Sid: 'AllowScopedInstanceProfileCreationActions',
      Effect: 'Allow',
      Resource: profiles,
      Action: 'iam:CreateInstanceProfile',
      Condition: {
        StringEquals: { ...requestOwned, 'aws:RequestTag/topology.kubernetes.io/region': a.region },
        StringLike: { 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    },
    {
      Sid: 'AllowScopedInstanceProfileTagActions',
      Effect: 'Allow',
      Resource: profiles,
      Action: 'iam:TagInstanceProfile',
      Condition: {
        StringEquals: {
          ...resourceOwned,
          'aws:ResourceTag/topology.kubernetes.io/region': a.region,
          ...requestOwned,
          'aws:RequestTag/topology.kubernetes.io/region': a.region,
        },
        StringLike: {
          'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*',
          'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*',
        },
      },
    },
    {
      Sid: 'AllowScopedInstanceProfileActions',
      Effect: 'Allow',
      Resource: profiles,
      Action: [
        'iam:AddRoleToInstanceProfile',
        'iam:RemoveRoleFromInstanceProfile',
        'iam:DeleteInstanceProfile',
      ],
      Condition: {
        StringEquals: { ...resourceOwned, 'aws:ResourceTag/topology.kubernetes.io/region': a.region },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    },
    {
      Sid: 'AllowAPIServerEndpointDiscovery',
      Effect: 'Allow',
      Resource: a.clusterArn,
      Action: 'eks:DescribeCluster',
    },
    {
      Sid: 'AllowRegionalReadActions',
      Effect: 'Allow',
      Resource: '*',
      Action: [
        'ec2:DescribeCapacityReservations',
        'ec2:DescribeImages',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceTypeOfferings',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplates',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSpotPriceHistory',
        'ec2:DescribeSubnets',
      ],
      Condition: { StringEquals: { 'aws:RequestedRegion': a.region } },
    },
    {
      Sid: 'AllowSSMReadActions',
      Effect: 'Allow',
      Resource: `arn:${a.partition}:ssm:${a.region}::parameter/aws/service/*`,
      Action: 'ssm:GetParameter',
    },
    { Sid: 'AllowPricingReadActions', Effect: 'Allow', Resource: '*', Action: 'pricing:GetProducts' },
    {
      Sid: 'AllowUnscopedInstanceProfileListAction',
      Effect: 'Allow',
      Resource: '*',
      Action: 'iam:ListInstanceProfiles',
    },
    {
      Sid: 'AllowInstanceProfileReadActions',
      Effect: 'Allow',
      Resource: profiles,
      Action: 'iam:GetInstanceProfile',
    },
  ];
  if (a.queueArn !== undefined) {
    statements.push({
      Sid: 'AllowInterruptionQueueActions',
      Effect: 'Allow',
      Resource: a.queueArn,
      Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

export interface KarpenterAwsProps {
  readonly clusterName: string;
  readonly clusterArn: pulumi.Input<string>;
  readonly region: string;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuerUrl: pulumi.Input<string>;
  readonly interruptionQueue: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

export class KarpenterAws extends pulumi.ComponentResource {
  readonly controllerRoleArn: pulumi.Output<string>;
  /** Role of the nodes Karpenter launches (the EC2NodeClass names it). */
  readonly nodeRoleName: pulumi.Output<string>;
  /** SQS queue name for the chart's `settings.interruptionQueue` (absent when off). */
  readonly interruptionQueueName?: pulumi.Output<string>;
  /** The access entry letting Karpenter's nodes join; NodePools must wait for it. */
  readonly nodeAccess: aws.eks.AccessEntry;

  constructor(name: string, props: KarpenterAwsProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:eks:KarpenterAws', name, {}, opts);
    checkClusterName(props.clusterName);
    checkRegion(props.region);
    const parent = { parent: this };
    const tags = { ...props.tags };
    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      {
        description: `Nodes launched by Karpenter in ${props.clusterName}`,
        assumeRolePolicy: serviceTrustPolicy('ec2.amazonaws.com'),
        tags,
      },
      parent,
    );
    KARPENTER_NODE_POLICY_ARNS.forEach(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-policy-${i}`,
          { role: nodeRole.name, policyArn },
          parent,
        ),
    );
    this.nodeAccess = new aws.eks.AccessEntry(
      `${name}-node-access`,
      { clusterName: props.clusterName, principalArn: nodeRole.arn, type: 'EC2_LINUX', tags },
      parent,
    );

    let queue: aws.sqs.Queue | undefined;
    if (props.interruptionQueue) {
      queue = new aws.sqs.Queue(
        `${name}-interruptions`,
        {
          name: `${props.clusterName}-karpenter`,
          messageRetentionSeconds: 300,
          sqsManagedSseEnabled: true,
          tags,
        },
        parent,
      );
      new aws.sqs.QueuePolicy(
        `${name}-interruptions-policy`,
        {
          queueUrl: queue.url,
          policy: queue.arn.apply((arn) =>
            JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'EventBridgeDelivers',
                  Effect: 'Allow',
                  Principal: { Service: ['events.amazonaws.com', 'sqs.amazonaws.com'] },
                  Action: 'sqs:SendMessage',
                  Resource: arn,
                },
                {
                  Sid: 'DenyWithoutTls',
                  Effect: 'Deny',
                  Principal: { AWS: '*' },
                  Action: 'sqs:*',
                  Resource: arn,
                  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                },
              ],
            }),
          ),
        },
        parent,
      );
      for (const [event, pattern] of Object.entries(INTERRUPTION_EVENTS)) {
        const rule = new aws.cloudwatch.EventRule(
          `${name}-${event}`,
          {
            description: `Karpenter (${props.clusterName}): ${pattern['detail-type'][0]}`,
            eventPattern: JSON.stringify(pattern),
            tags,
          },
          parent,
        );
        new aws.cloudwatch.EventTarget(
          `${name}-${event}-target`,
          { rule: rule.name, arn: queue.arn },
          parent,
        );
      }
      this.interruptionQueueName = queue.name;
    }

    const controller = new IrsaRole(
      `${name}-controller`,
      {
        oidcProviderArn: props.oidcProviderArn,
        oidcIssuerUrl: props.oidcIssuerUrl,
        namespace: KARPENTER_NAMESPACE,
        serviceAccount: KARPENTER_SERVICE_ACCOUNT,
        policy: pulumi
          .all([props.clusterArn, nodeRole.arn, queue?.arn])
          .apply(([clusterArn, nodeRoleArn, queueArn]) =>
            JSON.stringify(
              karpenterControllerPolicy({
                // arn:<partition>:eks:<region>:<account>:cluster/<name>
                partition: clusterArn.split(':')[1] ?? 'aws',
                accountId: clusterArn.split(':')[4] ?? '',
                region: props.region,
                clusterName: props.clusterName,
                clusterArn,
                nodeRoleArn,
                ...(queueArn !== undefined ? { queueArn } : {}),
              }),
            ),
          ),
        tags,
      },
      parent,
    );
    this.controllerRoleArn = controller.roleArn;
    this.nodeRoleName = nodeRole.name;
    this.registerOutputs({ controllerRoleArn: this.controllerRoleArn, nodeRoleName: this.nodeRoleName });
  }
}
