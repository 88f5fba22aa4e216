/* eslint-disable @typescript-eslint/no-explicit-any -- resource inputs arrive from the engine as untyped JSON */
/**
 * The EKS stack policy suite, run once per EKS stack file (staging, prod) under mocks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseStackConfig, type EksStackConfig } from '../src/config.js';
import { ACCOUNT, REGION, runProgram, stackFileConfig, type ProgramRun } from './mocks.js';
import {
  assertBootstrap,
  assertIngress,
  assertOnlyFromSecurityGroup,
  assertPlatformNamespaces,
  assertPinnedReleases,
  assertPlatformSecrets,
  assertSecretsCoverCharts,
  assertTagged,
  privateSubnetIds,
  release,
  secretData,
} from './policy.js';

export function describeEksStack(stack: 'staging' | 'prod'): void {
  const raw = stackFileConfig(stack);
  const cfg = parseStackConfig(raw, stack) as EksStackConfig;
  let run: ProgramRun;
  const one = (type: string) => {
    const found = run.ofType(type);
    expect(found, type).toHaveLength(1);
    return found[0]!;
  };
  const clusterSg = () => one('aws:eks/cluster:Cluster').state.vpcConfig.clusterSecurityGroupId as string;
  const kmsKeyArn = () => one('aws:kms/key:Key').state.arn as string;

  beforeAll(async () => {
    run = await runProgram(stack, raw);
  });

  describe(`${stack} stack (EKS)`, () => {
    it('uses an explicit AWS provider for the configured region', () => {
      const [provider, ...more] = run.ofType('pulumi:providers:aws');
      expect(more).toEqual([]);
      expect(provider!.inputs.region).toBe(cfg.eks.region);
      for (const r of run.resources.filter((x) => x.type.startsWith('aws:'))) {
        expect(r.provider, r.name).toContain('pulumi:providers:aws');
      }
    });

    it('tags every taggable AWS resource with project, environment and managed-by', () => {
      assertTagged(run, { project: 'jobplane', environment: stack, 'managed-by': 'pulumi' });
    });

    it(`spreads ${cfg.eks.azCount} private and public subnets over distinct AZs`, () => {
      const subnets = run.ofType('aws:ec2/subnet:Subnet');
      expect(subnets).toHaveLength(cfg.eks.azCount * 2);
      const privateIds = privateSubnetIds(run);
      expect(privateIds.size).toBe(cfg.eks.azCount);
      const privateAzs = new Set(
        subnets.filter((s) => privateIds.has(s.id)).map((s) => s.inputs.availabilityZone),
      );
      expect(privateAzs.size).toBe(cfg.eks.azCount);
      expect(cfg.eks.azCount).toBeGreaterThanOrEqual(2);
      for (const s of subnets.filter((x) => !privateIds.has(x.id))) {
        expect(s.inputs.tags['kubernetes.io/role/elb']).toBe('1');
      }
      for (const s of subnets.filter((x) => privateIds.has(x.id))) {
        expect(s.inputs.tags['kubernetes.io/role/internal-elb']).toBe('1');
      }
    });

    it(`uses ${cfg.eks.singleNatGateway ? 'one NAT gateway' : 'one NAT gateway per AZ'}`, () => {
      const nats = run.ofType('aws:ec2/natGateway:NatGateway');
      expect(nats).toHaveLength(cfg.eks.singleNatGateway ? 1 : cfg.eks.azCount);
      const privateIds = privateSubnetIds(run);
      for (const nat of nats) expect(privateIds.has(nat.inputs.subnetId)).toBe(false);
    });

    it('runs nodes and the control-plane ENIs only in private subnets', () => {
      const privateIds = privateSubnetIds(run);
      const ng = one('aws:eks/nodeGroup:NodeGroup');
      expect(ng.inputs.subnetIds.length).toBe(cfg.eks.azCount);
      for (const id of ng.inputs.subnetIds) expect(privateIds.has(id), id).toBe(true);
      const cluster = one('aws:eks/cluster:Cluster');
      for (const id of cluster.inputs.vpcConfig.subnetIds) expect(privateIds.has(id), id).toBe(true);
    });

    it('sizes the managed node group from config', () => {
      const ng = one('aws:eks/nodeGroup:NodeGroup');
      expect(ng.inputs.scalingConfig).toEqual({
        minSize: cfg.eks.nodes.min,
        maxSize: cfg.eks.nodes.max,
        desiredSize: cfg.eks.nodes.desired,
      });
      expect(ng.inputs.instanceTypes).toEqual(cfg.eks.nodes.instanceTypes);
      expect(ng.inputs.capacityType).toBe('ON_DEMAND');
    });

    it('encrypts Kubernetes Secrets with a rotating customer-managed KMS key', () => {
      const key = one('aws:kms/key:Key');
      expect(key.inputs.enableKeyRotation).toBe(true);
      const cluster = one('aws:eks/cluster:Cluster');
      expect(cluster.inputs.encryptionConfig).toEqual({
        provider: { keyArn: kmsKeyArn() },
        resources: ['secrets'],
      });
      expect(cluster.inputs.version).toBe(cfg.kubernetesVersion);
      expect(cluster.inputs.enabledClusterLogTypes).toEqual(expect.arrayContaining(['api', 'audit']));
      expect(cluster.inputs.accessConfig.authenticationMode).toBe('API');
    });

    it('wires the Karpenter controller IRSA role to the ServiceAccount the Karpenter release creates', () => {
      const oidc = one('aws:iam/openIdConnectProvider:OpenIdConnectProvider');
      const cluster = one('aws:eks/cluster:Cluster');
      const issuer = cluster.state.identities[0].oidcs[0].issuer as string;
      expect(oidc.inputs.url).toBe(issuer);
      expect(oidc.inputs.clientIdLists).toEqual(['sts.amazonaws.com']);
      // Exactly one role is assumable through the OIDC provider: Karpenter's controller.
      const irsaRoles = run
        .ofType('aws:iam/role:Role')
        .filter((r) => String(r.inputs.assumeRolePolicy).includes('AssumeRoleWithWebIdentity'));
      expect(irsaRoles).toHaveLength(1);
      const irsa = irsaRoles[0]!;
      const trust = JSON.parse(irsa.inputs.assumeRolePolicy);
      expect(trust.Statement).toHaveLength(1);
      const [st] = trust.Statement;
      expect(st).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity' });
      expect(st.Principal).toEqual({ Federated: oidc.state.arn });
      expect(st.Principal.Federated).toMatch(
        new RegExp(`^arn:aws:iam::${ACCOUNT}:oidc-provider/oidc\\.eks\\.`),
      );
      const host = issuer.replace('https://', '');
      expect(st.Condition).toEqual({
        StringEquals: {
          [`${host}:sub`]: 'system:serviceaccount:kube-system:karpenter',
          [`${host}:aud`]: 'sts.amazonaws.com',
        },
      });
      expect(JSON.stringify(trust)).not.toContain('*');
      // The Karpenter release annotates its ServiceAccount with exactly this role.
      const karpenter = release(run, 'oci://public.ecr.aws/karpenter/karpenter');
      expect(karpenter.inputs).toMatchObject({ name: 'karpenter', namespace: 'kube-system' });
      expect(karpenter.inputs.values.serviceAccount.annotations).toEqual({
        'eks.amazonaws.com/role-arn': irsa.state.arn,
      });
      expect(karpenter.inputs.values.settings.clusterName).toBe(cfg.clusterName);
      // No role for the API (nothing in charts-out calls AWS): no trust names the jobplane namespaces.
      for (const r of run.ofType('aws:iam/role:Role')) {
        expect(String(r.inputs.assumeRolePolicy)).not.toMatch(/system:serviceaccount:jobplane/);
      }
    });

    it("scopes the Karpenter controller's inline policy to this cluster, its node role and queue", () => {
      const irsa = run
        .ofType('aws:iam/role:Role')
        .find((r) => String(r.inputs.assumeRolePolicy).includes('AssumeRoleWithWebIdentity'))!;
      const policies = run.ofType('aws:iam/rolePolicy:RolePolicy');
      expect(policies).toHaveLength(1);
      expect(policies[0]!.inputs.role).toBe(irsa.state.name);
      const doc = JSON.parse(policies[0]!.inputs.policy) as { Statement: Record<string, any>[] };
      const bySid = Object.fromEntries(doc.Statement.map((st) => [st.Sid, st]));
      const cluster = one('aws:eks/cluster:Cluster');
      expect(bySid.AllowAPIServerEndpointDiscovery!.Resource).toBe(cluster.state.arn);
      const nodeRole = run.named(`${cfg.clusterName}-karpenter-node-role`);
      expect(bySid.AllowPassingInstanceRole!.Resource).toBe(nodeRole.state.arn);
      for (const st of doc.Statement) {
        expect(st.Effect).toBe('Allow');
        for (const action of [st.Action].flat()) expect(action, st.Sid).not.toMatch(/\*/);
      }
      // Launch and terminate only what is tagged as this cluster's.
      for (const sid of ['AllowScopedEC2InstanceActionsWithTags', 'AllowScopedDeletion']) {
        expect(JSON.stringify(bySid[sid]!.Condition)).toContain(`kubernetes.io/cluster/${cfg.clusterName}`);
      }
      const queue = one('aws:sqs/queue:Queue');
      expect(bySid.AllowInterruptionQueueActions!.Resource).toBe(queue.state.arn);
      // Instance profiles: only in this account, only those Karpenter 1.x tags for an EC2NodeClass.
      for (const sid of ['AllowScopedInstanceProfileCreationActions', 'AllowScopedInstanceProfileActions']) {
        expect(bySid[sid]!.Resource).toBe(`arn:aws:iam::${ACCOUNT}:instance-profile/*`);
        expect(JSON.stringify(bySid[sid]!.Condition)).toContain('karpenter.k8s.aws/ec2nodeclass');
      }
      // Karpenter tags its instances with eks:eks-cluster-name after launch.
      expect(
        bySid.AllowScopedResourceTagging!.Condition['ForAllValues:StringEquals']['aws:TagKeys'],
      ).toContain('eks:eks-cluster-name');
    });

    it('lets Karpenter nodes join through an EC2_LINUX access entry, and feeds its interruption queue', () => {
      const nodeRole = run.named(`${cfg.clusterName}-karpenter-node-role`);
      const entry = one('aws:eks/accessEntry:AccessEntry');
      expect(entry.inputs).toMatchObject({
        clusterName: cfg.clusterName,
        principalArn: nodeRole.state.arn,
        type: 'EC2_LINUX',
      });
      const queue = one('aws:sqs/queue:Queue');
      expect(queue.inputs.sqsManagedSseEnabled).toBe(true);
      const rules = run.ofType('aws:cloudwatch/eventRule:EventRule');
      expect(rules.map((r) => JSON.parse(r.inputs.eventPattern)['detail-type'][0]).sort()).toEqual([
        'AWS Health Event',
        'EC2 Instance Rebalance Recommendation',
        'EC2 Instance State-change Notification',
        'EC2 Spot Instance Interruption Warning',
      ]);
      const targets = run.ofType('aws:cloudwatch/eventTarget:EventTarget');
      expect(targets.map((t) => t.inputs.rule).sort()).toEqual(rules.map((r) => r.state.name).sort());
      for (const t of targets) expect(t.inputs.arn).toBe(queue.state.arn);
      const karpenter = release(run, 'oci://public.ecr.aws/karpenter/karpenter');
      expect(karpenter.inputs.values.settings.interruptionQueue).toBe(queue.inputs.name);
    });

    it('installs a Karpenter NodePool sized for the platform, on private subnets and the cluster security group', () => {
      const nodeRole = run.named(`${cfg.clusterName}-karpenter-node-role`);
      const [nodeClass, ...moreClasses] = run.ofType('kubernetes:karpenter.k8s.aws/v1:EC2NodeClass');
      expect(moreClasses).toEqual([]);
      expect(nodeClass!.inputs.spec.role).toBe(nodeRole.state.name);
      const privateIds = privateSubnetIds(run);
      const subnetTerms = nodeClass!.inputs.spec.subnetSelectorTerms as { id: string }[];
      expect(subnetTerms).toHaveLength(cfg.eks.azCount);
      for (const t of subnetTerms) expect(privateIds.has(t.id), t.id).toBe(true);
      expect(nodeClass!.inputs.spec.securityGroupSelectorTerms).toEqual([{ id: clusterSg() }]);
      expect(nodeClass!.inputs.spec.metadataOptions).toMatchObject({
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
      });
      const [pool, ...morePools] = run.ofType('kubernetes:karpenter.sh/v1:NodePool');
      expect(morePools).toEqual([]);
      expect(pool!.inputs.spec.template.spec.nodeClassRef).toEqual({
        group: 'karpenter.k8s.aws',
        kind: 'EC2NodeClass',
        name: nodeClass!.inputs.metadata.name,
      });
      expect(pool!.inputs.spec.limits).toEqual({
        cpu: String(cfg.eks.karpenter.cpuLimit),
        memory: `${cfg.eks.karpenter.memoryGiLimit}Gi`,
      });
      const req = (key: string, operator: string) =>
        (
          pool!.inputs.spec.template.spec.requirements as {
            key: string;
            operator: string;
            values: string[];
          }[]
        ).find((r) => r.key === key && r.operator === operator)?.values;
      // Prod isolated Jobs request 2 CPU: the pool launches nothing below 4 vCPUs.
      expect(Number(req('karpenter.k8s.aws/instance-cpu', 'Gt')![0])).toBeGreaterThanOrEqual(3);
      expect(req('karpenter.sh/capacity-type', 'In')).toEqual(cfg.eks.karpenter.capacityTypes);
      // Same architecture as the add-on nodes (the image is built for it).
      const ng = one('aws:eks/nodeGroup:NodeGroup');
      expect(req('kubernetes.io/arch', 'In')).toEqual([
        ng.inputs.amiType.includes('ARM') ? 'arm64' : 'amd64',
      ]);
      expect(pool!.inputs.spec.disruption.consolidationPolicy).toBe('WhenEmptyOrUnderutilized');
    });

    it(`restricts the public EKS API endpoint to the configured CIDRs${stack === 'prod' ? ', never 0.0.0.0/0' : ''}`, () => {
      const { vpcConfig } = one('aws:eks/cluster:Cluster').inputs;
      expect(vpcConfig.endpointPrivateAccess).toBe(true);
      expect(vpcConfig.endpointPublicAccess).toBe(true);
      expect(vpcConfig.publicAccessCidrs).toEqual(cfg.eks.apiPublicAccessCidrs);
      expect(vpcConfig.publicAccessCidrs.length).toBeGreaterThan(0);
      if (stack === 'prod') expect(vpcConfig.publicAccessCidrs).not.toContain('0.0.0.0/0');
    });

    it('installs Traefik behind a Network Load Balancer, cert-manager and a self-signed issuer (no ACME e-mail set)', () => {
      assertIngress(run, 'selfSigned');
      const traefik = release(run, 'traefik');
      expect(traefik.inputs.values.service).toEqual({
        type: 'LoadBalancer',
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
      });
    });

    it('owns the platform Namespaces, with the Pod Security Standard of the cluster version', () => {
      assertPlatformNamespaces(run, cfg.kubernetesVersion);
    });

    it('creates an ECR repository with scan on push, immutable tags and KMS encryption', () => {
      const repo = one('aws:ecr/repository:Repository');
      expect(repo.inputs.imageScanningConfiguration).toEqual({ scanOnPush: true });
      expect(repo.inputs.imageTagMutability).toBe('IMMUTABLE');
      expect(repo.inputs.encryptionConfigurations).toEqual([{ encryptionType: 'KMS', kmsKey: kmsKeyArn() }]);
      expect(repo.inputs.forceDelete).toBe(!cfg.eks.deletionProtection);
      expect(run.outputs.ecrRepositoryUrl).toBe(
        `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${cfg.eks.ecrRepository}`,
      );
    });

    it('keeps ElastiCache private, encrypted in transit and at rest, with noeviction', () => {
      const rg = one('aws:elasticache/replicationGroup:ReplicationGroup');
      expect(rg.inputs.transitEncryptionEnabled).toBe(true);
      expect(rg.inputs.atRestEncryptionEnabled).toBe(true);
      expect(rg.inputs.kmsKeyId).toBe(kmsKeyArn());
      expect(rg.inputs.authToken).toMatch(/^[A-Za-z0-9]{40}$/);
      expect(rg.secretPaths).toContain('authToken');
      const params = one('aws:elasticache/parameterGroup:ParameterGroup');
      expect(rg.inputs.parameterGroupName).toBe(params.state.name);
      expect(params.inputs.parameters).toEqual([{ name: 'maxmemory-policy', value: 'noeviction' }]);
      const subnets = one('aws:elasticache/subnetGroup:SubnetGroup');
      expect(rg.inputs.subnetGroupName).toBe(subnets.state.name);
      const privateIds = privateSubnetIds(run);
      for (const id of subnets.inputs.subnetIds) expect(privateIds.has(id), id).toBe(true);
      expect(rg.inputs.securityGroupIds).toHaveLength(1);
      assertOnlyFromSecurityGroup(run.byId(rg.inputs.securityGroupIds[0])!, 6379, clusterSg());
      expect(rg.inputs.numCacheClusters).toBe(stack === 'prod' ? 2 : 1);
      expect(rg.inputs.automaticFailoverEnabled).toBe(stack === 'prod');
    });

    it('keeps RDS PostgreSQL private and encrypted, with backups', () => {
      const db = one('aws:rds/instance:Instance');
      expect(db.inputs.publiclyAccessible).toBe(false);
      expect(db.inputs.storageEncrypted).toBe(true);
      expect(db.inputs.kmsKeyId).toBe(kmsKeyArn());
      expect(db.inputs.backupRetentionPeriod).toBe(cfg.eks.postgres.backupRetentionDays);
      expect(db.inputs.backupRetentionPeriod).toBeGreaterThanOrEqual(7);
      expect(db.secretPaths).toContain('password');
      const subnets = one('aws:rds/subnetGroup:SubnetGroup');
      expect(db.inputs.dbSubnetGroupName).toBe(subnets.state.name);
      const privateIds = privateSubnetIds(run);
      for (const id of subnets.inputs.subnetIds) expect(privateIds.has(id), id).toBe(true);
      expect(db.inputs.vpcSecurityGroupIds).toHaveLength(1);
      assertOnlyFromSecurityGroup(run.byId(db.inputs.vpcSecurityGroupIds[0])!, 5432, clusterSg());
    });

    it(`${stack === 'prod' ? 'protects' : 'does not protect'} the cluster and database against deletion`, () => {
      const prod = stack === 'prod';
      expect(cfg.eks.deletionProtection).toBe(prod);
      const db = one('aws:rds/instance:Instance');
      expect(db.inputs.deletionProtection).toBe(prod);
      expect(db.inputs.skipFinalSnapshot).toBe(!prod);
      expect(db.inputs.finalSnapshotIdentifier).toBe(prod ? `${cfg.clusterName}-postgres-final` : undefined);
      expect(db.inputs.multiAz).toBe(prod);
      expect(one('aws:eks/cluster:Cluster').inputs.deletionProtection).toBe(prod);
    });

    it('writes the platform Secrets from the RDS and ElastiCache outputs', () => {
      assertPlatformSecrets(run, false);
      assertSecretsCoverCharts(run, stack);
      const db = one('aws:rds/instance:Instance');
      const rg = one('aws:elasticache/replicationGroup:ReplicationGroup');
      for (const ns of ['jobplane', 'jobplane-jobs']) {
        const url = new URL(secretData(run, ns, 'jobplane-postgres').DATABASE_URL!);
        expect(url.hostname).toBe(db.state.address);
        expect(url.port).toBe('5432');
        expect(url.pathname).toBe('/jobplane');
        expect(url.password).toBe(db.inputs.password);
        expect(url.searchParams.get('sslmode')).toBe('require');
        const redis = new URL(secretData(run, ns, 'jobplane-redis').REDIS_URL!);
        expect(redis.protocol).toBe('rediss:');
        expect(redis.hostname).toBe(rg.state.primaryEndpointAddress);
        expect(redis.password).toBe(rg.inputs.authToken);
      }
      expect(secretData(run, 'jobplane', 'jobplane-api-keys').JOBPLANE_API_KEYS).toMatch(
        /^default:[A-Za-z0-9]{48}$/,
      );
    });

    it('installs the pinned add-ons and bootstraps Argo CD after them', () => {
      const releases = assertPinnedReleases(run, 'eks');
      for (const r of releases) expect(r.inputs.values.args).toBeUndefined();
      // Prometheus Operator for the synthesized ServiceMonitors (`release: prometheus`).
      const prom = releases.find((r) => r.inputs.chart === 'kube-prometheus-stack')!;
      expect(prom.inputs).toMatchObject({ name: 'prometheus', namespace: 'monitoring' });
      assertBootstrap(run, stack);
    });

    it('exports an exec-based kubeconfig as a secret, and the cluster name', () => {
      expect(run.secret!.kubeconfig).toBe(true);
      const kubeconfig = parse(run.outputs.kubeconfig as string);
      expect(kubeconfig.clusters[0].cluster.server).toMatch(/^https:\/\/.+\.eks\.amazonaws\.com$/);
      expect(kubeconfig.users[0].user.exec.args).toEqual([
        'eks',
        'get-token',
        '--cluster-name',
        cfg.clusterName,
        '--region',
        cfg.eks.region,
        '--output',
        'json',
      ]);
      expect(run.outputs.clusterName).toBe(cfg.clusterName);
      expect(run.outputs.oidcProviderArn).toMatch(/^arn:aws:iam::\d{12}:oidc-provider\//);
    });
  });
}
