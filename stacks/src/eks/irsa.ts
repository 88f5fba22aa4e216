/**
 * IRSA (IAM roles for service accounts): an IAM role only one Kubernetes ServiceAccount can assume,
 * through the cluster's OIDC provider.
 *
 * The stack uses it for what it installs itself (the Karpenter controller): the role and the
 * ServiceAccount annotation `eks.amazonaws.com/role-arn` then have one owner, this program. No
 * workload synthesized in `charts-out/` calls AWS APIs, so no role is created for them; see
 * docs/stacks.md ("Ownership") for how one would be added.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** The annotation the EKS pod identity webhook reads on a ServiceAccount. */
export const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';

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

export interface IrsaRoleProps {
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuerUrl: pulumi.Input<string>;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Inline policy document (JSON) granted to the role. */
  readonly policy: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class IrsaRole extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, props: IrsaRoleProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:eks:IrsaRole', name, {}, opts);
    for (const prop of ['namespace', 'serviceAccount'] as const) {
      if (!K8S_NAME.test(props[prop])) throw new Error(`'${prop}' (${props[prop]}) is not a Kubernetes name`);
    }
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `IRSA role for ${props.namespace}/${props.serviceAccount}`,
        assumeRolePolicy: pulumi
          .all([props.oidcProviderArn, props.oidcIssuerUrl])
          .apply(([oidcProviderArn, issuerUrl]) =>
            JSON.stringify(
              irsaTrustPolicy({
                oidcProviderArn,
                issuerUrl,
                namespace: props.namespace,
                serviceAccount: props.serviceAccount,
              }),
            ),
          ),
        tags: { ...props.tags },
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(`${name}-policy`, { role: role.name, policy: props.policy }, { parent: this });
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
