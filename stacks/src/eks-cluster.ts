/**
 * EksCluster: an AWS EKS cluster and the AWS services the platform uses in staging and prod.
 *
 * - VPC across `azCount` (≥ 2) availability zones: public subnets hold only load balancers and NAT
 *   gateways; nodes, the control-plane ENIs, RDS and ElastiCache live in private subnets whose
 *   default route goes through a NAT gateway, never an internet gateway.
 * - EKS with envelope encryption of Secrets by a customer-managed KMS key (rotation on), control
 *   plane logs with a retention, API authentication mode, deletion protection when configured.
 * - A managed node group sized from config, in the private subnets.
 * - An IAM OIDC provider for IRSA and one role whose trust is scoped to exactly one
 *   `namespace/serviceAccount` (and the `sts.amazonaws.com` audience). No policy is attached:
 *   grant what the workload needs, nothing by default.
 * - An ECR repository for the image: scan on push, IMMUTABLE tags, KMS encryption.
 * - Optional ElastiCache Redis (`maxmemory-policy noeviction`, TLS + AUTH token, encrypted at rest)
 *   and RDS PostgreSQL (private, encrypted, backups, deletion protection and a final snapshot when
 *   protected), reachable only from the cluster security group.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
 * @see https://docs.bullmq.io/guide/going-to-production#max-memory-policy
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { stringify } from 'yaml';
import type { EksSettings } from './config.js';

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

/** Subnet CIDRs for a /16 VPC: a /19 private and a /22 public subnet per AZ. */
export function subnetLayout(vpcCidr: string, azCount: number): { private: string[]; public: string[] } {
  const m = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(vpcCidr);
  if (!m) throw new Error(`'vpcCidr' (${vpcCidr}) must be a /16 such as 10.0.0.0/16`);
  if (!Number.isInteger(azCount) || azCount < 2 || azCount > 6) {
    throw new Error(`'azCount' (${azCount}) must be between 2 and 6`);
  }
  const prefix = `${m[1]}.${m[2]}`;
  const azs = Array.from({ length: azCount }, (_, i) => i);
  return {
    // Pods take VPC IPs (VPC CNI): private subnets get the large blocks.
    private: azs.map((i) => `${prefix}.${i * 32}.0/19`),
    public: azs.map((i) => `${prefix}.${192 + i * 4}.0/22`),
  };
}

/** EKS managed node group AMI type for the instance types (all Graviton or all x86). */
export function amiTypeFor(
  instanceTypes: readonly string[],
): 'AL2023_ARM_64_STANDARD' | 'AL2023_x86_64_STANDARD' {
  const arm = instanceTypes.map((t) => /^[a-z]+\d+[a-z]*g[a-z]*\./.test(t));
  if (arm.every(Boolean)) return 'AL2023_ARM_64_STANDARD';
  if (!arm.some(Boolean)) return 'AL2023_x86_64_STANDARD';
  throw new Error(`'instanceTypes' (${instanceTypes.join(', ')}) mixes ARM and x86 instance types`);
}

/**
 * IAM trust policy letting exactly one Kubernetes service account assume a role through IRSA.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
 */
export function irsaTrustPolicy(args: {
  oidcProviderArn: string;
  issuerUrl: string;
  namespace: string;
  serviceAccount: string;
}): Record<string, unknown> {
  const issuer = args.issuerUrl.replace(/^https:\/\//, '');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: args.oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${args.namespace}:${args.serviceAccount}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
}

/** Trust policy for an AWS service principal (EKS control plane, EC2 nodes). */
export function serviceTrustPolicy(service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

/** A kubeconfig for an EKS cluster that authenticates with `aws eks get-token` (AWS CLI v2). */
export function eksKubeconfig(args: {
  clusterName: string;
  endpoint: string;
  certificateAuthority: string;
  region: string;
}): string {
  const name = args.clusterName;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name, cluster: { server: args.endpoint, 'certificate-authority-data': args.certificateAuthority } },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'aws',
            args: ['eks', 'get-token', '--cluster-name', name, '--region', args.region, '--output', 'json'],
            interactiveMode: 'Never',
          },
        },
      },
    ],
  });
}

/** ECR lifecycle: expire untagged images after 14 days, keep the newest 200 tagged ones. */
export const ECR_LIFECYCLE_POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images after 14 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'keep the newest 200 images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 200 },
      action: { type: 'expire' },
    },
  ],
});

/** Connection details of the managed data stores (absent when disabled). */
export interface ManagedRedis {
  readonly host: pulumi.Output<string>;
  readonly port: number;
  readonly authToken: pulumi.Output<string>;
}
export interface ManagedPostgres {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly database: string;
  readonly username: string;
  readonly password: pulumi.Output<string>;
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
  readonly irsaRoleArn: pulumi.Output<string>;
  readonly redis?: ManagedRedis;
  readonly postgres?: ManagedPostgres;

  constructor(name: string, props: EksClusterProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:cluster:EksCluster', name, {}, opts);
    const parent = { parent: this };
    const tags = { ...props.tags };
    const layout = subnetLayout(props.vpcCidr, props.azCount);
    const amiType = amiTypeFor(props.nodes.instanceTypes);

    // --- network -------------------------------------------------------------------------
    const azs = aws.getAvailabilityZonesOutput({ state: 'available' }, parent);
    const azAt = (i: number) =>
      azs.names.apply((names) => {
        const az = names[i];
        if (az === undefined) {
          throw new Error(
            `'azCount' (${props.azCount}) exceeds the ${names.length} available zones of ${props.region}`,
          );
        }
        return az;
      });
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: props.vpcCidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { ...tags, Name: `${props.clusterName}-vpc` },
      },
      parent,
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, parent);
    const clusterTag = `kubernetes.io/cluster/${props.clusterName}`;
    const publicSubnets = layout.public.map(
      (cidr, i) =>
        new aws.ec2.Subnet(
          `${name}-public-${i}`,
          {
            vpcId: vpc.id,
            cidrBlock: cidr,
            availabilityZone: azAt(i),
            mapPublicIpOnLaunch: false,
            tags: {
              ...tags,
              Name: `${props.clusterName}-public-${i}`,
              'kubernetes.io/role/elb': '1',
              [clusterTag]: 'shared',
            },
          },
          parent,
        ),
    );
    const privateSubnets = layout.private.map(
      (cidr, i) =>
        new aws.ec2.Subnet(
          `${name}-private-${i}`,
          {
            vpcId: vpc.id,
            cidrBlock: cidr,
            availabilityZone: azAt(i),
            mapPublicIpOnLaunch: false,
            tags: {
              ...tags,
              Name: `${props.clusterName}-private-${i}`,
              'kubernetes.io/role/internal-elb': '1',
              [clusterTag]: 'shared',
            },
          },
          parent,
        ),
    );
    const publicRouteTable = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags },
      parent,
    );
    publicSubnets.forEach(
      (subnet, i) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-public-rta-${i}`,
          { subnetId: subnet.id, routeTableId: publicRouteTable.id },
          parent,
        ),
    );
    const natCount = props.singleNatGateway ? 1 : props.azCount;
    const nats = Array.from({ length: natCount }, (_, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-eip-${i}`, { domain: 'vpc', tags }, parent);
      return new aws.ec2.NatGateway(
        `${name}-nat-${i}`,
        { allocationId: eip.id, subnetId: publicSubnets[i]!.id, tags },
        { parent: this, dependsOn: [igw] },
      );
    });
    privateSubnets.forEach((subnet, i) => {
      const nat = nats[props.singleNatGateway ? 0 : i]!;
      const rt = new aws.ec2.RouteTable(
        `${name}-private-rt-${i}`,
        { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }], tags },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-rta-${i}`,
        { subnetId: subnet.id, routeTableId: rt.id },
        parent,
      );
    });
    const privateSubnetIds = privateSubnets.map((s) => s.id);

    // --- encryption key ------------------------------------------------------------------
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

    // --- EKS control plane ---------------------------------------------------------------
    const clusterRole = new aws.iam.Role(
      `${name}-cluster-role`,
      { assumeRolePolicy: serviceTrustPolicy('eks.amazonaws.com'), tags },
      parent,
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-cluster-policy`,
      { role: clusterRole.name, policyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' },
      parent,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane-logs`,
      { name: `/aws/eks/${props.clusterName}/cluster`, retentionInDays: 90, tags },
      parent,
    );
    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        name: props.clusterName,
        version: props.kubernetesVersion,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: privateSubnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: true,
          publicAccessCidrs: [...props.apiPublicAccessCidrs],
        },
        encryptionConfig: { provider: { keyArn: key.arn }, resources: ['secrets'] },
        accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: true },
        enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
        deletionProtection: props.deletionProtection,
        tags,
      },
      { parent: this, dependsOn: [logGroup] },
    );
    const clusterSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;

    // --- nodes ---------------------------------------------------------------------------
    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      { assumeRolePolicy: serviceTrustPolicy('ec2.amazonaws.com'), tags },
      parent,
    );
    const nodePolicies = [
      'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
      'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
    ].map(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-policy-${i}`,
          { role: nodeRole.name, policyArn },
          parent,
        ),
    );
    new aws.eks.NodeGroup(
      `${name}-nodes`,
      {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: privateSubnetIds,
        instanceTypes: [...props.nodes.instanceTypes],
        amiType,
        capacityType: 'ON_DEMAND',
        scalingConfig: {
          minSize: props.nodes.min,
          maxSize: props.nodes.max,
          desiredSize: props.nodes.desired,
        },
        updateConfig: { maxUnavailable: 1 },
        tags,
      },
      { parent: this, dependsOn: nodePolicies },
    );

    // --- IRSA ----------------------------------------------------------------------------
    const issuerUrl = cluster.identities.apply((ids) => {
      const issuer = ids[0]?.oidcs?.[0]?.issuer;
      if (!issuer) throw new Error(`EKS cluster ${props.clusterName} reported no OIDC issuer`);
      return issuer;
    });
    const oidc = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuerUrl, clientIdLists: ['sts.amazonaws.com'], tags },
      parent,
    );
    const irsaRole = new aws.iam.Role(
      `${name}-irsa`,
      {
        description: `IRSA role for ${props.irsa.namespace}/${props.irsa.serviceAccount}`,
        assumeRolePolicy: pulumi.all([oidc.arn, issuerUrl]).apply(([oidcProviderArn, url]) =>
          JSON.stringify(
            irsaTrustPolicy({
              oidcProviderArn,
              issuerUrl: url,
              namespace: props.irsa.namespace,
              serviceAccount: props.irsa.serviceAccount,
            }),
          ),
        ),
        tags,
      },
      parent,
    );

    // --- image registry ------------------------------------------------------------------
    const repo = new aws.ecr.Repository(
      `${name}-ecr`,
      {
        name: props.ecrRepository,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: 'KMS', kmsKey: key.arn }],
        forceDelete: !props.deletionProtection,
        tags,
      },
      parent,
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-ecr-lifecycle`,
      { repository: repo.name, policy: ECR_LIFECYCLE_POLICY },
      parent,
    );

    /** A data store's security group: one TCP port, from the EKS cluster security group only, no egress. */
    const dataStoreSecurityGroup = (role: string, label: string, port: number): aws.ec2.SecurityGroup =>
      new aws.ec2.SecurityGroup(
        `${name}-${role}-sg`,
        {
          vpcId: vpc.id,
          description: `${label}: reachable from the EKS cluster security group only`,
          ingress: [
            {
              protocol: 'tcp',
              fromPort: port,
              toPort: port,
              securityGroups: [clusterSecurityGroupId],
              description: 'EKS',
            },
          ],
          egress: [],
          tags,
        },
        parent,
      );

    // --- Redis (ElastiCache) -------------------------------------------------------------
    if (props.redis.enabled) {
      const sg = dataStoreSecurityGroup('redis', 'Redis', 6379);
      const subnetGroup = new aws.elasticache.SubnetGroup(
        `${name}-redis-subnets`,
        { description: 'private subnets', subnetIds: privateSubnetIds, tags },
        parent,
      );
      const params = new aws.elasticache.ParameterGroup(
        `${name}-redis-params`,
        {
          family: 'redis7',
          description: 'BullMQ needs noeviction',
          parameters: [{ name: 'maxmemory-policy', value: 'noeviction' }],
          tags,
        },
        parent,
      );
      const authToken = new random.RandomPassword(
        `${name}-redis-auth`,
        { length: 40, special: false },
        parent,
      );
      const multi = props.redis.replicas > 1;
      const rg = new aws.elasticache.ReplicationGroup(
        `${name}-redis`,
        {
          replicationGroupId: `${props.clusterName}-redis`,
          description: `${props.clusterName} BullMQ queues`,
          engine: 'redis',
          engineVersion: '7.1',
          nodeType: props.redis.nodeType,
          numCacheClusters: props.redis.replicas,
          automaticFailoverEnabled: multi,
          multiAzEnabled: multi,
          port: 6379,
          parameterGroupName: params.name,
          subnetGroupName: subnetGroup.name,
          securityGroupIds: [sg.id],
          atRestEncryptionEnabled: true,
          kmsKeyId: key.arn,
          transitEncryptionEnabled: true,
          authToken: authToken.result,
          snapshotRetentionLimit: props.deletionProtection ? 7 : 1,
          autoMinorVersionUpgrade: true,
          applyImmediately: !props.deletionProtection,
          tags,
        },
        parent,
      );
      this.redis = {
        host: rg.primaryEndpointAddress,
        port: 6379,
        authToken: pulumi.secret(authToken.result),
      };
    }

    // --- PostgreSQL (RDS) ----------------------------------------------------------------
    if (props.postgres.enabled) {
      const sg = dataStoreSecurityGroup('postgres', 'PostgreSQL', 5432);
      const subnetGroup = new aws.rds.SubnetGroup(
        `${name}-postgres-subnets`,
        { description: 'private subnets', subnetIds: privateSubnetIds, tags },
        parent,
      );
      // No '/', '@', '"' or spaces (RDS rule), and URL-safe for DATABASE_URL.
      const password = new random.RandomPassword(
        `${name}-postgres-password`,
        { length: 40, special: false },
        parent,
      );
      const db = new aws.rds.Instance(
        `${name}-postgres`,
        {
          identifier: `${props.clusterName}-postgres`,
          engine: 'postgres',
          engineVersion: props.postgres.version,
          instanceClass: props.postgres.instanceClass,
          allocatedStorage: props.postgres.storageGb,
          maxAllocatedStorage: props.postgres.storageGb * 5,
          storageType: 'gp3',
          storageEncrypted: true,
          kmsKeyId: key.arn,
          dbName: 'jobplane',
          username: 'jobplane',
          password: password.result,
          dbSubnetGroupName: subnetGroup.name,
          vpcSecurityGroupIds: [sg.id],
          publiclyAccessible: false,
          multiAz: props.postgres.multiAz,
          backupRetentionPeriod: props.postgres.backupRetentionDays,
          deletionProtection: props.deletionProtection,
          skipFinalSnapshot: !props.deletionProtection,
          ...(props.deletionProtection
            ? { finalSnapshotIdentifier: `${props.clusterName}-postgres-final` }
            : {}),
          copyTagsToSnapshot: true,
          autoMinorVersionUpgrade: true,
          applyImmediately: !props.deletionProtection,
          tags,
        },
        parent,
      );
      this.postgres = {
        host: db.address,
        port: db.port,
        database: 'jobplane',
        username: 'jobplane',
        password: pulumi.secret(password.result),
      };
    }

    this.clusterName = cluster.name;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
        .apply(([clusterName, endpoint, ca]) =>
          eksKubeconfig({ clusterName, endpoint, certificateAuthority: ca.data ?? '', region: props.region }),
        ),
    );
    this.vpcId = vpc.id;
    this.privateSubnetIds = privateSubnetIds;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.ecrRepositoryUrl = repo.repositoryUrl;
    this.oidcProviderArn = oidc.arn;
    this.irsaRoleArn = irsaRole.arn;
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      vpcId: this.vpcId,
      ecrRepositoryUrl: this.ecrRepositoryUrl,
      oidcProviderArn: this.oidcProviderArn,
      irsaRoleArn: this.irsaRoleArn,
    });
  }
}
