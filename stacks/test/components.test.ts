import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADDON_CHARTS, EXACT_SEMVER } from '../src/addon-charts.js';
import {
  amiTypeFor,
  eksKubeconfig,
  irsaTrustPolicy,
  serviceTrustPolicy,
  subnetLayout,
} from '../src/eks-cluster.js';
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

describe('amiTypeFor', () => {
  it('picks the ARM AMI for Graviton types and x86 otherwise', () => {
    expect(amiTypeFor(['m7g.large', 'c7gn.xlarge', 't4g.medium'])).toBe('AL2023_ARM_64_STANDARD');
    expect(amiTypeFor(['m6i.large', 't3.large', 'c5n.xlarge'])).toBe('AL2023_x86_64_STANDARD');
  });
  it('rejects mixed architectures', () => {
    expect(() => amiTypeFor(['m7g.large', 'm6i.large'])).toThrow(/mixes ARM and x86/);
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
});

describe('addonReleases', () => {
  it('pins every chart of the table to an exact version', () => {
    for (const chart of Object.values(ADDON_CHARTS)) expect(chart.version).toMatch(EXACT_SEMVER);
    expect(addonReleases({ cluster: 'eks' }).map((r) => [r.chart, r.version])).toEqual([
      ['keda', ADDON_CHARTS.keda.version],
      ['argo-cd', ADDON_CHARTS.argocd.version],
      ['metrics-server', ADDON_CHARTS.metricsServer.version],
      ['kube-prometheus-stack', ADDON_CHARTS.prometheusStack.version],
    ]);
    // dev runs the constructs' own Prometheus: no operator on kind.
    expect(addonReleases({ cluster: 'kind' }).map((r) => r.id)).toEqual(['keda', 'argocd', 'metricsServer']);
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
