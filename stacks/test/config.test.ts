import { describe, expect, it } from 'vitest';
import { ADDON_CHARTS } from '../src/addon-charts.js';
import {
  CONFIG_KEYS,
  ENVIRONMENT_DEFAULTS,
  parseStackConfig,
  StackConfigError,
  type EksStackConfig,
  type KindStackConfig,
  type RawStackConfig,
} from '../src/config.js';
import { stackFileConfig } from './mocks.js';

const eks: RawStackConfig = { cluster: 'eks', region: 'eu-west-1' };

/** The problems a config raises (fails the test if it is accepted). */
function problems(raw: Record<string, string>, stack = 'staging'): readonly string[] {
  try {
    parseStackConfig(raw as RawStackConfig, stack);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    expect((err as StackConfigError).code).toBe('STACK.CONFIG_INVALID');
    return (err as StackConfigError).problems;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

describe('parseStackConfig', () => {
  it('types a kind config with defaults derived from the stack', () => {
    const cfg = parseStackConfig({ cluster: 'kind' }, 'dev') as KindStackConfig;
    expect(cfg).toMatchObject({
      cluster: 'kind',
      environment: 'dev',
      clusterName: 'jobplane-dev',
      kubernetesVersion: '1.34',
      kind: { nodeImage: 'kindest/node:v1.34.0', workers: 1, httpPort: 80, httpsPort: 443 },
      tags: { project: 'jobplane', environment: 'dev', 'managed-by': 'pulumi' },
      apiClient: 'default',
    });
    expect(cfg.chartVersions).toEqual({
      keda: ADDON_CHARTS.keda.version,
      argocd: ADDON_CHARTS.argocd.version,
      metricsServer: ADDON_CHARTS.metricsServer.version,
      prometheusStack: ADDON_CHARTS.prometheusStack.version,
      traefik: ADDON_CHARTS.traefik.version,
      certManager: ADDON_CHARTS.certManager.version,
      karpenter: ADDON_CHARTS.karpenter.version,
    });
  });

  it('derives prod defaults from the environment table: 3 AZs, NAT per AZ, Multi-AZ, deletion protection', () => {
    const cfg = parseStackConfig(
      { ...eks, apiPublicAccessCidrs: '203.0.113.0/24' },
      'prod',
    ) as EksStackConfig;
    expect(cfg.eks).toEqual({
      region: 'eu-west-1',
      vpcCidr: '10.0.0.0/16',
      azCount: 3,
      singleNatGateway: false,
      apiPublicAccess: true,
      apiPublicAccessCidrs: ['203.0.113.0/24'],
      deletionProtection: true,
      nodes: { min: 3, max: 6, desired: 3, instanceTypes: ['m6i.xlarge'] },
      karpenter: {
        cpuLimit: 128,
        memoryGiLimit: 512,
        capacityTypes: ['on-demand'],
        minInstanceCpu: 4,
        interruptionQueue: true,
      },
      redis: { enabled: true, nodeType: 'cache.t4g.small', replicas: 2 },
      postgres: {
        enabled: true,
        instanceClass: 'db.t4g.small',
        storageGb: 20,
        multiAz: true,
        backupRetentionDays: 14,
        version: '17',
      },
      ecrRepository: 'jobplane',
    });
    expect(cfg.eks.karpenter).toMatchObject({
      cpuLimit: ENVIRONMENT_DEFAULTS.prod.karpenterCpuLimit,
      memoryGiLimit: ENVIRONMENT_DEFAULTS.prod.karpenterMemoryGiLimit,
    });
  });

  it('requires explicit API endpoint CIDRs for prod, and refuses 0.0.0.0/0 there', () => {
    expect(problems(eks, 'prod')).toEqual([
      "jobplane:apiPublicAccessCidrs is required when jobplane:environment is 'prod': list the CIDRs allowed " +
        'to reach the public EKS API endpoint (office, VPN, CI egress), or set jobplane:apiPublicAccess to ' +
        'false for a private endpoint only',
    ]);
    expect(problems({ ...eks, apiPublicAccessCidrs: '203.0.113.0/24,0.0.0.0/0' }, 'prod')).toEqual([
      "jobplane:apiPublicAccessCidrs item ('0.0.0.0/0') opens the EKS API endpoint to the internet, which is " +
        "refused when jobplane:environment is 'prod'",
    ]);
    // A private endpoint needs no CIDRs, and gets none.
    const priv = parseStackConfig({ ...eks, apiPublicAccess: 'false' }, 'prod') as EksStackConfig;
    expect(priv.eks).toMatchObject({ apiPublicAccess: false, apiPublicAccessCidrs: [] });
    // staging keeps the open default (documented), narrowed by config when wanted.
    expect((parseStackConfig(eks, 'staging') as EksStackConfig).eks.apiPublicAccessCidrs).toEqual([
      '0.0.0.0/0',
    ]);
  });

  it('reads the Karpenter and ingress keys', () => {
    const cfg = parseStackConfig(
      {
        ...eks,
        karpenterCpuLimit: '32',
        karpenterMemoryGiLimit: '128',
        karpenterCapacityTypes: '["on-demand"]',
        karpenterInterruptionQueue: 'false',
        acmeEmail: 'ops@example.com',
      },
      'staging',
    ) as EksStackConfig;
    expect(cfg.eks.karpenter).toEqual({
      cpuLimit: 32,
      memoryGiLimit: 128,
      capacityTypes: ['on-demand'],
      minInstanceCpu: 4,
      interruptionQueue: false,
    });
    expect(cfg.acmeEmail).toBe('ops@example.com');
    expect(problems({ ...eks, karpenterCapacityTypes: 'spot,reserved', acmeEmail: 'ops' })).toEqual(
      expect.arrayContaining([
        "jobplane:karpenterCapacityTypes item ('reserved') must be one of on-demand, spot",
        "jobplane:acmeEmail ('ops') is not an e-mail address",
      ]),
    );
    expect(problems({ cluster: 'kind', kindHttpPort: '70000' }, 'dev')).toContain(
      'jobplane:kindHttpPort (70000) must be between 1 and 65535',
    );
  });

  it('derives staging defaults: 2 AZs, one NAT gateway, no deletion protection', () => {
    const cfg = parseStackConfig(eks, 'staging') as EksStackConfig;
    expect(cfg.eks).toMatchObject({ azCount: 2, singleNatGateway: true, deletionProtection: false });
    expect(cfg.eks.redis.replicas).toBe(1);
    expect(cfg.eks.postgres.multiAz).toBe(false);
  });

  it('reads lists as YAML lists (JSON) or comma-separated strings, and booleans and integers', () => {
    const cfg = parseStackConfig(
      {
        ...eks,
        nodeInstanceTypes: '["m7g.large","m7g.xlarge"]',
        apiPublicAccessCidrs: '203.0.113.0/24, 198.51.100.7/32',
        redis: 'false',
        nodeMin: '2',
        nodeMax: '5',
        nodeDesired: '4',
      },
      'staging',
    ) as EksStackConfig;
    expect(cfg.eks.nodes).toEqual({ min: 2, max: 5, desired: 4, instanceTypes: ['m7g.large', 'm7g.xlarge'] });
    expect(cfg.eks.apiPublicAccessCidrs).toEqual(['203.0.113.0/24', '198.51.100.7/32']);
    expect(cfg.eks.redis.enabled).toBe(false);
  });

  it('lets a stack override a chart version with an exact version', () => {
    const cfg = parseStackConfig({ cluster: 'kind', chartVersions: '{"keda":"2.20.0"}' }, 'dev');
    expect(cfg.chartVersions.keda).toBe('2.20.0');
    expect(cfg.chartVersions.argocd).toBe(ADDON_CHARTS.argocd.version);
  });

  it('rejects nodeMax < nodeMin, naming both keys and values', () => {
    expect(problems({ ...eks, nodeMin: '2', nodeMax: '1' })).toContain(
      'jobplane:nodeMax (1) must be ≥ jobplane:nodeMin (2)',
    );
  });

  it('rejects nodeDesired outside [nodeMin, nodeMax]', () => {
    expect(problems({ ...eks, nodeMin: '2', nodeMax: '3', nodeDesired: '5' })).toContain(
      'jobplane:nodeDesired (5) must be between jobplane:nodeMin (2) and jobplane:nodeMax (3)',
    );
  });

  it('rejects an unknown cluster kind', () => {
    expect(problems({ cluster: 'gke' })).toContain("jobplane:cluster ('gke') must be one of kind, eks");
  });

  it('requires the cluster kind', () => {
    expect(problems({})).toContain('jobplane:cluster is required (one of kind, eks)');
  });

  it('requires a region for EKS and checks its shape', () => {
    expect(problems({ cluster: 'eks' })).toContain(
      "jobplane:region is required when jobplane:cluster is 'eks'",
    );
    expect(problems({ cluster: 'eks', region: 'Europe' })).toContain(
      "jobplane:region ('Europe') is not an AWS region such as 'eu-west-1'",
    );
  });

  it('refuses prod without deletion protection', () => {
    expect(problems({ ...eks, deletionProtection: 'false' }, 'prod')).toContain(
      "jobplane:deletionProtection (false) must be true when jobplane:environment is 'prod'",
    );
  });

  it('rejects chart version ranges and unknown add-ons', () => {
    const p = problems({ cluster: 'kind', chartVersions: '{"keda":"^2.17.0","nginx":"1.0.0"}' });
    expect(p).toContain(
      "jobplane:chartVersions.keda ('^2.17.0') must be an exact version such as '1.2.3', not a range",
    );
    expect(p).toContain(
      'jobplane:chartVersions.nginx is not an add-on (one of keda, argocd, metricsServer, prometheusStack, traefik, certManager, karpenter)',
    );
    expect(problems({ cluster: 'kind', chartVersions: 'keda=2' })).toContain(
      "jobplane:chartVersions ('keda=2') must be a map of add-on to version",
    );
    expect(problems({ cluster: 'kind', chartVersions: '["2.1.0"]' })).toContain(
      'jobplane:chartVersions (\'["2.1.0"]\') must be a map of add-on to version',
    );
  });

  it('rejects misspelt keys instead of ignoring them', () => {
    expect(problems({ cluster: 'kind', nodemax: '3' })).toContain('jobplane:nodemax is not a known key');
  });

  it('rejects malformed integers, booleans, lists, CIDRs and names', () => {
    const p = problems({
      ...eks,
      nodeMin: 'two',
      azCount: '1',
      singleNatGateway: 'yes',
      nodeInstanceTypes: '[t3.large',
      apiPublicAccessCidrs: '10.0.0.0/33',
      vpcCidr: '10.0.0.0/8',
      clusterName: 'Jobplane_Prod',
      kubernetesVersion: '1.34.1',
    });
    expect(p).toEqual(
      expect.arrayContaining([
        "jobplane:nodeMin ('two') must be an integer",
        'jobplane:azCount (1) must be between 2 and 6',
        "jobplane:singleNatGateway ('yes') must be true or false",
        "jobplane:nodeInstanceTypes ('[t3.large') is not a valid list",
        "jobplane:apiPublicAccessCidrs item ('10.0.0.0/33') is not a CIDR",
        "jobplane:vpcCidr ('10.0.0.0/8') must be a /16 such as '10.0.0.0/16'",
        "jobplane:clusterName ('Jobplane_Prod') must be 2-32 lower-case letters, digits and dashes, starting with a letter",
        "jobplane:kubernetesVersion ('1.34.1') must be a minor version such as '1.34'",
      ]),
    );
    expect(problems({ ...eks, nodeInstanceTypes: '[]' })).toContain(
      "jobplane:nodeInstanceTypes ('[]') must be a non-empty list",
    );
    expect(problems({ ...eks, vpcCidr: '300.0.0.0/16' })).toContain(
      "jobplane:vpcCidr ('300.0.0.0/16') is not valid",
    );
  });

  it('requires an environment when the stack name is not one', () => {
    expect(problems({ cluster: 'kind' }, 'my-sandbox')).toContain(
      'jobplane:environment is required (one of dev, staging, prod)',
    );
    expect(problems({ cluster: 'kind', environment: 'qa' }, 'dev')).toContain(
      "jobplane:environment ('qa') must be one of dev, staging, prod",
    );
  });

  it('lists every problem at once in the error message', () => {
    expect(() => parseStackConfig({ cluster: 'eks', nodeMin: '3', nodeMax: '2' }, 'staging')).toThrow(
      /invalid stack configuration:\n {2}- jobplane:region is required.*\n {2}- jobplane:nodeMax \(2\) must be ≥ jobplane:nodeMin \(3\)/s,
    );
  });
});

describe('stack files', () => {
  it.each([
    ['dev', 'kind'],
    ['staging', 'eks'],
    ['prod', 'eks'],
  ])('Pulumi.%s.yaml is valid and selects %s', (stack, cluster) => {
    const raw = stackFileConfig(stack);
    for (const key of Object.keys(raw)) expect(CONFIG_KEYS).toContain(key);
    const cfg = parseStackConfig(raw, stack);
    expect(cfg.cluster).toBe(cluster);
    expect(cfg.environment).toBe(stack);
  });
});
