/**
 * EksCluster: an AWS EKS cluster and the AWS services the platform uses in staging and prod,
 * composed the way pulumi-eks organizes a cluster: one component per concern, each in
 * `stacks/src/eks/`:
 *
 * | component | file | what |
 * |---|---|---|
 * | `EksNetwork` | `eks/network.ts` | VPC, public/private subnets per AZ, NAT gateways, routes |
 * | `EksControlPlane` | `eks/control-plane.ts` | EKS cluster, its role and logs, endpoint access, OIDC provider |
 * | `ManagedNodeGroup` | `eks/node-groups.ts` | the add-on nodes (AMI from the instance architecture) |
 * | `KarpenterAws` | `eks/karpenter.ts` | Karpenter's IRSA controller role, node role + access entry, interruption queue |
 * | `IrsaRole` | `eks/irsa.ts` | an IAM role one ServiceAccount assumes through the OIDC provider |
 * | `ImageRegistry` | `eks/registry.ts` | ECR repository |
 * | `EksDataStores` | `eks/data-stores.ts` | ElastiCache Redis and RDS PostgreSQL |
 *
 * This component owns the one customer-managed KMS key (rotation on) the others encrypt with.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { EksSettings } from './config.js';
import { EksControlPlane } from './eks/control-plane.js';
import { EksDataStores, type ManagedPostgres, type ManagedRedis } from './eks/data-stores.js';
import { KarpenterAws } from './eks/karpenter.js';
import { EksNetwork } from './eks/network.js';
import { kubernetesArch, ManagedNodeGroup } from './eks/node-groups.js';
import { ImageRegistry } from './eks/registry.js';

export type { ManagedPostgres, ManagedRedis } from './eks/data-stores.js';

/**
 * The cluster's settings are exactly the stack config's `eks` block (one definition, read and
 * validated in config.ts), plus what the program derives: name, version and tags.
 */
export interface EksClusterProps extends EksSettings {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  /** Tags for every taggable resource. */
  readonly tags: Readonly<Record<string, string>>;
}

/** What the Kubernetes side of the program needs to install and configure Karpenter. */
export interface KarpenterWiring {
  readonly clusterName: pulumi.Output<string>;
  readonly controllerRoleArn: pulumi.Output<string>;
  readonly nodeRoleName: pulumi.Output<string>;
  readonly interruptionQueueName?: pulumi.Output<string>;
  readonly subnetIds: pulumi.Output<string>[];
  readonly securityGroupId: pulumi.Output<string>;
  /** `kubernetes.io/arch` of the workload nodes (that of the managed node group). */
  readonly arch: 'arm64' | 'amd64';
}

export class EksCluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  /** Kubeconfig using `aws eks get-token` (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly ecrRepositoryUrl: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly karpenter: KarpenterWiring;
  readonly redis?: ManagedRedis;
  readonly postgres?: ManagedPostgres;

  constructor(name: string, props: EksClusterProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:cluster:EksCluster', name, {}, opts);
    const parent = { parent: this };
    const tags = { ...props.tags };

    const network = new EksNetwork(`${name}-network`, { ...props, tags }, parent);

    const key = new aws.kms.Key(
      `${name}-kms`,
      {
        description: `${props.clusterName}: EKS secrets, RDS and ElastiCache encryption at rest`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags,
      },
      parent,
    );
    new aws.kms.Alias(
      `${name}-kms-alias`,
      { name: `alias/${props.clusterName}`, targetKeyId: key.keyId },
      parent,
    );

    const controlPlane = new EksControlPlane(
      `${name}-control-plane`,
      {
        clusterName: props.clusterName,
        kubernetesVersion: props.kubernetesVersion,
        region: props.region,
        subnetIds: network.privateSubnetIds,
        kmsKeyArn: key.arn,
        apiPublicAccess: props.apiPublicAccess,
        apiPublicAccessCidrs: props.apiPublicAccessCidrs,
        deletionProtection: props.deletionProtection,
        tags,
      },
      parent,
    );

    const nodes = new ManagedNodeGroup(
      `${name}-system-nodes`,
      { clusterName: controlPlane.clusterName, subnetIds: network.privateSubnetIds, ...props.nodes, tags },
      parent,
    );

    const karpenter = new KarpenterAws(
      `${name}-karpenter`,
      {
        clusterName: props.clusterName,
        clusterArn: controlPlane.cluster.arn,
        region: props.region,
        oidcProviderArn: controlPlane.oidcProviderArn,
        oidcIssuerUrl: controlPlane.oidcIssuerUrl,
        interruptionQueue: props.karpenter.interruptionQueue,
        tags,
      },
      { parent: this, dependsOn: [controlPlane] },
    );

    const registry = new ImageRegistry(
      `${name}-registry`,
      {
        repositoryName: props.ecrRepository,
        kmsKeyArn: key.arn,
        deletionProtection: props.deletionProtection,
        tags,
      },
      parent,
    );

    const stores = new EksDataStores(
      `${name}-data`,
      {
        clusterName: props.clusterName,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        clusterSecurityGroupId: controlPlane.securityGroupId,
        kmsKeyArn: key.arn,
        redis: props.redis,
        postgres: props.postgres,
        deletionProtection: props.deletionProtection,
        tags,
      },
      parent,
    );

    this.clusterName = controlPlane.clusterName;
    this.kubeconfig = controlPlane.kubeconfig;
    this.vpcId = network.vpcId;
    this.privateSubnetIds = network.privateSubnetIds;
    this.publicSubnetIds = network.publicSubnetIds;
    this.ecrRepositoryUrl = registry.repositoryUrl;
    this.oidcProviderArn = controlPlane.oidcProviderArn;
    this.karpenter = {
      clusterName: controlPlane.clusterName,
      controllerRoleArn: karpenter.controllerRoleArn,
      nodeRoleName: karpenter.nodeRoleName,
      ...(karpenter.interruptionQueueName ? { interruptionQueueName: karpenter.interruptionQueueName } : {}),
      subnetIds: network.privateSubnetIds,
      securityGroupId: controlPlane.securityGroupId,
      arch: kubernetesArch(nodes.amiType),
    };
    if (stores.redis) this.redis = stores.redis;
    if (stores.postgres) this.postgres = stores.postgres;
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      vpcId: this.vpcId,
      ecrRepositoryUrl: this.ecrRepositoryUrl,
      oidcProviderArn: this.oidcProviderArn,
    });
  }
}
