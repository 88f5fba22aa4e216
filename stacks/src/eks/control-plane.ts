/**
 * EksControlPlane: the EKS cluster itself (what pulumi-eks calls the cluster's core): its IAM role,
 * control-plane logs, envelope encryption of Secrets, the API endpoint's reach, and the IAM OIDC
 * provider that IRSA roles trust.
 *
 * The private endpoint is always on. The public endpoint is either off or restricted to the given
 * CIDRs; which CIDRs an environment must give is config policy (config.ts).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { stringify } from 'yaml';
import { checkClusterName, checkMatch, checkRegion, IPV4_CIDR, K8S_MINOR } from '../props.js';

export interface EksControlPlaneProps {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  readonly region: string;
  /** Private subnets for the control-plane ENIs. */
  readonly subnetIds: pulumi.Input<string>[];
  /** KMS key encrypting Kubernetes Secrets at rest. */
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly apiPublicAccess: boolean;
  /** Required (non-empty) when `apiPublicAccess`; ignored otherwise. */
  readonly apiPublicAccessCidrs: readonly string[];
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
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

/** The endpoint settings of the cluster's `vpcConfig`, validated. */
export function endpointAccess(
  props: Pick<EksControlPlaneProps, 'apiPublicAccess' | 'apiPublicAccessCidrs'>,
): {
  endpointPrivateAccess: true;
  endpointPublicAccess: boolean;
  publicAccessCidrs?: string[];
} {
  if (!props.apiPublicAccess) return { endpointPrivateAccess: true, endpointPublicAccess: false };
  for (const cidr of props.apiPublicAccessCidrs)
    checkMatch('apiPublicAccessCidrs item', cidr, IPV4_CIDR, 'is not a CIDR');
  if (props.apiPublicAccessCidrs.length === 0) {
    throw new Error(
      `'apiPublicAccessCidrs' ([]) must list at least one CIDR when 'apiPublicAccess' is true ` +
        `(EKS would otherwise default to 0.0.0.0/0)`,
    );
  }
  return {
    endpointPrivateAccess: true,
    endpointPublicAccess: true,
    publicAccessCidrs: [...props.apiPublicAccessCidrs],
  };
}

export class EksControlPlane extends pulumi.ComponentResource {
  readonly cluster: aws.eks.Cluster;
  readonly clusterName: pulumi.Output<string>;
  /** The cluster security group EKS creates (nodes and control plane). */
  readonly securityGroupId: pulumi.Output<string>;
  readonly oidcIssuerUrl: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  /** Kubeconfig using `aws eks get-token` (secret). */
  readonly kubeconfig: pulumi.Output<string>;

  constructor(name: string, props: EksControlPlaneProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:eks:ControlPlane', name, {}, opts);
    checkClusterName(props.clusterName);
    checkRegion(props.region);
    checkMatch(
      'kubernetesVersion',
      props.kubernetesVersion,
      K8S_MINOR,
      "must be a minor version such as '1.34'",
    );
    const parent = { parent: this };
    const tags = { ...props.tags };
    const access = endpointAccess(props);
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: serviceTrustPolicy('eks.amazonaws.com'), tags },
      parent,
    );
    const policy = new aws.iam.RolePolicyAttachment(
      `${name}-policy`,
      { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy' },
      parent,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/eks/${props.clusterName}/cluster`, retentionInDays: 90, tags },
      parent,
    );
    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        name: props.clusterName,
        version: props.kubernetesVersion,
        roleArn: role.arn,
        vpcConfig: { subnetIds: props.subnetIds, ...access },
        encryptionConfig: { provider: { keyArn: props.kmsKeyArn }, resources: ['secrets'] },
        accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: true },
        enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
        deletionProtection: props.deletionProtection,
        tags,
      },
      { parent: this, dependsOn: [logGroup, policy] },
    );
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
    this.cluster = cluster;
    this.clusterName = cluster.name;
    this.securityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.oidcIssuerUrl = issuerUrl;
    this.oidcProviderArn = oidc.arn;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
        .apply(([clusterName, endpoint, ca]) =>
          eksKubeconfig({ clusterName, endpoint, certificateAuthority: ca.data ?? '', region: props.region }),
        ),
    );
    this.registerOutputs({ clusterName: this.clusterName, oidcProviderArn: this.oidcProviderArn });
  }
}
