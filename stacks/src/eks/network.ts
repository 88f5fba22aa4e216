/**
 * EksNetwork: the VPC an EKS cluster and its data stores live in (pulumi-eks leaves this to
 * awsx.ec2.Vpc; this is the same layout written out, so every route is visible to the tests).
 *
 * Public subnets hold only load balancers and NAT gateways; nodes, the control-plane ENIs, RDS and
 * ElastiCache live in private subnets whose default route goes through a NAT gateway, never an
 * internet gateway. No subnet maps public IPs.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { checkClusterName, checkRegion } from '../props.js';

export interface EksNetworkProps {
  readonly clusterName: string;
  readonly region: string;
  /** A /16. */
  readonly vpcCidr: string;
  /** Availability zones, 2 to 6. */
  readonly azCount: number;
  /** One NAT gateway for all AZs (cheaper) or one per AZ (no cross-AZ dependency). */
  readonly singleNatGateway: boolean;
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

export class EksNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];

  constructor(name: string, props: EksNetworkProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:eks:Network', name, {}, opts);
    checkClusterName(props.clusterName);
    checkRegion(props.region);
    const parent = { parent: this };
    const tags = { ...props.tags };
    const layout = subnetLayout(props.vpcCidr, props.azCount);
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
    const subnet = (kind: 'public' | 'private', cidr: string, i: number) =>
      new aws.ec2.Subnet(
        `${name}-${kind}-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: azAt(i),
          mapPublicIpOnLaunch: false,
          tags: {
            ...tags,
            Name: `${props.clusterName}-${kind}-${i}`,
            [kind === 'public' ? 'kubernetes.io/role/elb' : 'kubernetes.io/role/internal-elb']: '1',
            [clusterTag]: 'shared',
          },
        },
        parent,
      );
    const publicSubnets = layout.public.map((cidr, i) => subnet('public', cidr, i));
    const privateSubnets = layout.private.map((cidr, i) => subnet('private', cidr, i));
    const publicRouteTable = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags },
      parent,
    );
    publicSubnets.forEach(
      (s, i) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-public-rta-${i}`,
          { subnetId: s.id, routeTableId: publicRouteTable.id },
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
    privateSubnets.forEach((s, i) => {
      const nat = nats[props.singleNatGateway ? 0 : i]!;
      const rt = new aws.ec2.RouteTable(
        `${name}-private-rt-${i}`,
        { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }], tags },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-rta-${i}`,
        { subnetId: s.id, routeTableId: rt.id },
        parent,
      );
    });
    this.vpcId = vpc.id;
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.registerOutputs({ vpcId: this.vpcId });
  }
}
