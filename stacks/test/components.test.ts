/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped records */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADDON_CHARTS, EXACT_SEMVER } from '../src/addon-charts.js';
import { endpointAccess, eksKubeconfig, serviceTrustPolicy } from '../src/eks/control-plane.js';
import { irsaTrustPolicy } from '../src/eks/irsa.js';
import { subnetLayout } from '../src/eks/network.js';
import { amiTypeFor, instanceArchitecture } from '../src/eks/node-groups.js';
import { karpenterNodePool } from '../src/capacity.js';
import { checkDataStoreProps } from '../src/eks/data-stores.js';
import { clusterIssuer } from '../src/ingress.js';
import { checkClusterName, checkInt, checkRegion } from '../src/props.js';
import { kindClusterConfig, kindClusterConfigYaml } from '../src/kind-cluster.js';
import { addonReleases, addonValues } from '../src/platform-addons.js';
import { postgresUrl, redisUrl } from '../src/platform-secrets.js';
import { argocdUrlHint } from '../src/program.js';
import { NON_TAGGABLE_AWS_TYPES } from './policy.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('subnetLayout', () => {
  it('gives each AZ a /19 private and a /22 public subnet without overlap', () => {
    expect(subnetLayout('10.20.0.0/16', 3)).toEqual({
      private: ['10.20.0.0/19', '10.20.32.0/19', '10.20.64.0/19'],
      public: ['10.20.192.0/22', '10.20.196.0/22', '10.20.200.0/22'],
    });
    const six = subnetLayout('10.0.0.0/16', 6);
    const starts = [...six.private, ...six.public].map((c) => Number(c.split('.')[2]));
    expect(new Set(starts).size).toBe(12);
    expect(Math.max(...six.private.map((c) => Number(c.split('.')[2])))).toBeLessThan(192);
  });

  it('refuses fewer than 2 AZs and non-/16 VPCs', () => {
    expect(() => subnetLayout('10.0.0.0/16', 1)).toThrow("'azCount' (1) must be between 2 and 6");
    expect(() => subnetLayout('10.0.0.0/20', 2)).toThrow("'vpcCidr' (10.0.0.0/20) must be a /16");
  });
});

describe('instanceArchitecture / amiTypeFor', () => {
  // Graviton: the attribute letter `g` after the generation, wherever it sits among the others.
  const arm = [
    'a1.large', // first Graviton: family `a`, generation 1, no attribute
    'm6g.large',
    'm6gd.xlarge',
    'm7g.medium',
    'm7g-flex.large',
    'm8g.large',
    'c6gn.xlarge',
    'c7gn.xlarge',
    'c7gd.2xlarge',
    'c8g.large',
    'r6g.large',
    'r7gd.large',
    'r8g.xlarge',
    't4g.medium',
    'x2gd.xlarge',
    'x8g.large',
    'im4gn.large',
    'is4gen.medium',
    'i4g.large',
    'i8ge.large',
    'g5g.xlarge', // GPU family `g`, Graviton attribute `g`
    'hpc7g.4xlarge',
    'p6e-gb200.36xlarge', // Grace superchip option
  ];
  const x86 = [
    't3.large',
    't3a.large',
    'm5.large',
    'm6i.large',
    'm6a.xlarge',
    'm7i-flex.large',
    'm5zn.large',
    'c5n.xlarge',
    'c6in.large',
    'c7i.large',
    'r5b.large',
    'r7iz.large',
    'x2iedn.xlarge',
    'x2iezn.2xlarge',
    'z1d.large',
    'd3en.xlarge',
    'i4i.large',
    'g4dn.xlarge', // GPU family `g`, no Graviton attribute
    'g4ad.xlarge',
    'g6e.xlarge',
    'gr6.4xlarge',
    'p5en.48xlarge',
    'p6-b200.48xlarge',
    'inf2.xlarge',
    'trn1n.32xlarge',
    'dl1.24xlarge',
    'f2.6xlarge',
    'vt1.3xlarge',
    'hpc6a.48xlarge',
    'u-6tb1.metal',
    'u7i-12tb.224xlarge',
  ];
  it.each(arm)('%s is arm64', (t) => {
    expect(instanceArchitecture(t)).toBe('arm64');
    expect(amiTypeFor([t])).toBe('AL2023_ARM_64_STANDARD');
  });
  it.each(x86)('%s is x86_64', (t) => {
    expect(instanceArchitecture(t)).toBe('x86_64');
    expect(amiTypeFor([t])).toBe('AL2023_x86_64_STANDARD');
  });
  it('rejects mixed architectures, Mac instances and names that are not instance types', () => {
    expect(() => amiTypeFor(['m7g.large', 'm6i.large'])).toThrow(/mixes ARM and x86/);
    expect(() => amiTypeFor(['a1.large', 't3.large'])).toThrow(/mixes ARM and x86/);
    expect(() => amiTypeFor(['mac2.metal'])).toThrow('instance type (mac2.metal) is a Mac instance');
    expect(() => amiTypeFor(['large'])).toThrow('instance type (large) is not an EC2 instance type name');
    expect(() => amiTypeFor([])).toThrow("'instanceTypes' ([]) must list at least one instance type");
  });
});

describe('endpointAccess', () => {
  it('restricts the public endpoint to the CIDRs, or turns it off', () => {
    expect(endpointAccess({ apiPublicAccess: true, apiPublicAccessCidrs: ['203.0.113.0/24'] })).toEqual({
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ['203.0.113.0/24'],
    });
    expect(endpointAccess({ apiPublicAccess: false, apiPublicAccessCidrs: ['203.0.113.0/24'] })).toEqual({
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
    });
  });
  it('refuses a public endpoint without CIDRs (EKS would default to 0.0.0.0/0)', () => {
    expect(() => endpointAccess({ apiPublicAccess: true, apiPublicAccessCidrs: [] })).toThrow(
      "'apiPublicAccessCidrs' ([]) must list at least one CIDR when 'apiPublicAccess' is true",
    );
  });
});

describe('component prop checks', () => {
  it('name the prop and the value', () => {
    expect(() => checkClusterName('Prod_1')).toThrow(
      "'clusterName' (Prod_1) must be 2-32 lower-case letters, digits and dashes",
    );
    expect(() => checkRegion('Europe')).toThrow("'region' (Europe) is not an AWS region such as 'eu-west-1'");
    expect(() => checkInt('redis.replicas', 0, 1, 6)).toThrow(
      "'redis.replicas' (0) must be an integer between 1 and 6",
    );
    expect(() =>
      checkDataStoreProps({
        clusterName: 'jp',
        redis: { enabled: true, nodeType: 'cache.t4g.small', replicas: 1 },
        postgres: {
          enabled: true,
          instanceClass: 'db.t4g.small',
          storageGb: 10,
          version: '17',
          backupRetentionDays: 7,
          multiAz: false,
        },
      }),
    ).toThrow("'postgres.storageGb' (10) must be an integer between 20 and 65536");
    expect(() => endpointAccess({ apiPublicAccess: true, apiPublicAccessCidrs: ['10.0.0.0/33'] })).toThrow(
      "'apiPublicAccessCidrs item' (10.0.0.0/33) is not a CIDR",
    );
    expect(() => clusterIssuer('ops')).toThrow("'acmeEmail' (ops) is not an e-mail address");
  });
});

describe('karpenterNodePool', () => {
  const settings = {
    cpuLimit: 64,
    memoryGiLimit: 256,
    capacityTypes: ['on-demand'] as const,
    minInstanceCpu: 4,
    interruptionQueue: true,
  };
  it('launches nodes of at least minInstanceCpu vCPUs within the limits', () => {
    const pool = karpenterNodePool(settings, 'amd64') as { spec: any };
    expect(pool.spec.limits).toEqual({ cpu: '64', memory: '256Gi' });
    expect(pool.spec.template.spec.requirements).toContainEqual({
      key: 'karpenter.k8s.aws/instance-cpu',
      operator: 'Gt',
      values: ['3'],
    });
  });
  it('validates its settings, naming the prop and the value', () => {
    expect(() => karpenterNodePool({ ...settings, minInstanceCpu: 1 }, 'amd64')).toThrow(
      "'minInstanceCpu' (1) must be an integer ≥ 2",
    );
    expect(() => karpenterNodePool({ ...settings, cpuLimit: 2 }, 'amd64')).toThrow(
      "'cpuLimit' (2) must be ≥ 'minInstanceCpu' (4)",
    );
    expect(() => karpenterNodePool({ ...settings, capacityTypes: [] }, 'amd64')).toThrow(
      "'capacityTypes' ([]) must not be empty",
    );
  });
});

describe('IAM policies', () => {
  it('IRSA trust names one service account and the STS audience, without wildcards', () => {
    const policy = irsaTrustPolicy({
      oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      namespace: 'jobplane',
      serviceAccount: 'jobplane-api',
    });
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: {
            Federated: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC',
          },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub': 'system:serviceaccount:jobplane:jobplane-api',
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud': 'sts.amazonaws.com',
            },
          },
        },
      ],
    });
  });
  it('service trust policies allow one AWS service to assume the role', () => {
    expect(JSON.parse(serviceTrustPolicy('eks.amazonaws.com')).Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
  });
});

describe('eksKubeconfig', () => {
  it('authenticates through aws eks get-token for the cluster and region', () => {
    const kc = parse(
      eksKubeconfig({
        clusterName: 'c1',
        endpoint: 'https://x.eks.amazonaws.com',
        certificateAuthority: 'Q0E=',
        region: 'us-east-2',
      }),
    );
    expect(kc['current-context']).toBe('c1');
    expect(kc.clusters[0].cluster).toEqual({
      server: 'https://x.eks.amazonaws.com',
      'certificate-authority-data': 'Q0E=',
    });
    expect(kc.users[0].user.exec).toMatchObject({
      command: 'aws',
      args: ['eks', 'get-token', '--cluster-name', 'c1', '--region', 'us-east-2', '--output', 'json'],
    });
  });
});

describe('kindClusterConfig', () => {
  it('has one control plane plus the workers, all on the pinned image', () => {
    const cfg = kindClusterConfig({
      clusterName: 'k',
      nodeImage: 'kindest/node:v1.34.0',
      workers: 2,
      nodeLabels: { a: 'b' },
    });
    expect(cfg).toEqual({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'k',
      nodes: [
        { role: 'control-plane', image: 'kindest/node:v1.34.0', labels: { a: 'b' } },
        { role: 'worker', image: 'kindest/node:v1.34.0', labels: { a: 'b' } },
        { role: 'worker', image: 'kindest/node:v1.34.0', labels: { a: 'b' } },
      ],
    });
    expect(parse(kindClusterConfigYaml({ clusterName: 'k', nodeImage: 'i', workers: 0 })).nodes).toEqual([
      { role: 'control-plane', image: 'i' },
    ]);
  });
  it('rejects a negative worker count', () => {
    expect(() => kindClusterConfig({ clusterName: 'k', nodeImage: 'i', workers: -1 })).toThrow(
      "'workers' (-1) must be an integer ≥ 0",
    );
  });
  it('maps the ingress node ports to host ports on the control-plane node only', () => {
    const cfg = kindClusterConfig({
      clusterName: 'k',
      nodeImage: 'i',
      workers: 1,
      ingressHostPorts: { http: 8080, https: 8443 },
    }) as { nodes: Record<string, unknown>[] };
    expect(cfg.nodes[0]!.extraPortMappings).toEqual([
      { containerPort: 30080, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'TCP' },
      { containerPort: 30443, hostPort: 8443, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(cfg.nodes[1]!.extraPortMappings).toBeUndefined();
    expect(() =>
      kindClusterConfig({ clusterName: 'k', nodeImage: 'i', ingressHostPorts: { http: 0, https: 443 } }),
    ).toThrow("'ingressHostPorts.http' (0) must be a port between 1 and 65535");
    expect(() =>
      kindClusterConfig({ clusterName: 'k', nodeImage: 'i', ingressHostPorts: { http: 80, https: 80 } }),
    ).toThrow("'ingressHostPorts' (80, 80) must be two different ports");
  });
});

describe('addonReleases', () => {
  it('pins every chart of the table to an exact version', () => {
    for (const chart of Object.values(ADDON_CHARTS)) expect(chart.version).toMatch(EXACT_SEMVER);
    expect(addonReleases({ cluster: 'eks' }).map((r) => [r.chart, r.version])).toEqual([
      ['keda', ADDON_CHARTS.keda.version],
      ['argo-cd', ADDON_CHARTS.argocd.version],
      ['metrics-server', ADDON_CHARTS.metricsServer.version],
      ['kube-prometheus-stack', ADDON_CHARTS.prometheusStack.version],
      ['traefik', ADDON_CHARTS.traefik.version],
      ['cert-manager', ADDON_CHARTS.certManager.version],
      ['oci://public.ecr.aws/karpenter/karpenter', ADDON_CHARTS.karpenter.version],
    ]);
    // dev runs the constructs' own Prometheus: no operator on kind, and no node autoscaler.
    expect(addonReleases({ cluster: 'kind' }).map((r) => r.id)).toEqual([
      'keda',
      'argocd',
      'metricsServer',
      'traefik',
      'certManager',
    ]);
    // An OCI chart has no repository.
    expect(addonReleases({ cluster: 'eks' }).find((r) => r.id === 'karpenter')!.repo).toBeUndefined();
  });
  it('applies overrides and refuses ranges', () => {
    expect(addonReleases({ cluster: 'eks', chartVersions: { argocd: '9.4.17' } })[1]!.version).toBe('9.4.17');
    for (const range of ['^2.0.0', '~2.1', '2.x', '>=2.0.0', '*', '2.17']) {
      expect(() => addonReleases({ cluster: 'eks', chartVersions: { keda: range } }), range).toThrow(
        `chart version of 'keda' (${range}) must be an exact version, not a range`,
      );
    }
  });
  it('configures Argo CD for server-side diff and metrics-server for kind kubelets only', () => {
    expect(addonValues('argocd', 'eks')).toMatchObject({
      configs: { params: { 'controller.diff.server.side': 'true' } },
    });
    expect(addonValues('metricsServer', 'kind')).toEqual({ args: ['--kubelet-insecure-tls'] });
    expect(addonValues('metricsServer', 'eks')).toEqual({});
    expect(addonValues('keda', 'kind')).toEqual({});
  });
});

describe('connection URLs', () => {
  it('URL-encodes credentials and requires TLS for RDS', () => {
    const url = postgresUrl({
      username: 'job plane',
      password: 'p@ss/w:rd',
      host: 'db',
      port: 5432,
      database: 'jobplane',
      tls: true,
    });
    expect(url).toBe('postgresql://job%20plane:p%40ss%2Fw%3Ard@db:5432/jobplane?sslmode=require');
    expect(decodeURIComponent(new URL(url).password)).toBe('p@ss/w:rd');
    expect(postgresUrl({ username: 'u', password: 'p', host: 'h', port: 1, database: 'd', tls: false })).toBe(
      'postgresql://u:p@h:1/d',
    );
  });
  it('uses rediss:// with the AUTH token for ElastiCache, redis:// without auth in dev', () => {
    expect(redisUrl({ host: 'r', port: 6379, password: 't/k', tls: true })).toBe('rediss://:t%2Fk@r:6379');
    expect(redisUrl({ host: 'r', port: 6379, tls: false })).toBe('redis://r:6379');
  });
  it('tells how to reach Argo CD', () => {
    expect(argocdUrlHint('argocd')).toMatch(
      /kubectl --kubeconfig kubeconfig -n argocd port-forward svc\/argocd-server 8080:443/,
    );
  });
});

describe('Pulumi project', () => {
  it('runs the compiled ESM program of the stacks workspace with the nodejs runtime', () => {
    const project = parse(readFileSync(join(root, 'Pulumi.yaml'), 'utf8'));
    expect(project.name).toBe('jobplane');
    expect(project.runtime).toEqual({
      name: 'nodejs',
      options: { typescript: false, packagemanager: 'npm' },
    });
    expect(project.main).toBe('stacks');
    const pkg = JSON.parse(readFileSync(join(root, 'stacks/package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.exports).toBeUndefined();
    const tsconfig = JSON.parse(readFileSync(join(root, 'stacks/tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(root, 'stacks/src/index.ts'))).toBe(true);
  });

  it('lists as non-taggable only AWS types whose arguments have no tags', () => {
    const require = createRequire(import.meta.url);
    const awsRoot = dirname(require.resolve('@pulumi/aws/package.json'));
    for (const type of NON_TAGGABLE_AWS_TYPES) {
      const [, mod, rest] = /^aws:([a-zA-Z0-9]+)\/([a-zA-Z0-9]+):/.exec(type)!;
      const dts = readFileSync(join(awsRoot, mod!, `${rest}.d.ts`), 'utf8');
      expect(dts, type).not.toMatch(/^\s+tags\?: /m);
    }
    const vpc = readFileSync(join(awsRoot, 'ec2', 'vpc.d.ts'), 'utf8');
    expect(vpc).toMatch(/^\s+tags\?: /m);
  });
});
