import { beforeAll, describe, expect, it } from 'vitest';
import { runProgram, type ProgramRun } from './mocks.js';

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram('sandbox', {
    cluster: 'eks',
    environment: 'staging',
    clusterName: 'jp-sandbox',
    region: 'eu-west-1',
    redis: 'false',
    postgres: 'false',
    nodeInstanceTypes: 't4g.large',
    apiPublicAccessCidrs: '["203.0.113.0/24"]',
    irsaNamespace: 'jobplane-jobs',
    irsaServiceAccount: 'runner',
  });
});

describe('EKS stack without managed data stores', () => {
  it('creates no ElastiCache or RDS resources', () => {
    expect(run.resources.filter((r) => /^aws:(elasticache|rds)\//.test(r.type))).toEqual([]);
  });

  it('writes no platform Secrets: the operator provides them (docs/stacks.md)', () => {
    expect(
      run.ofType('kubernetes:core/v1:Secret').filter((s) => s.inputs.metadata.namespace !== 'argocd'),
    ).toEqual([]);
    expect(run.ofType('jobplane:platform:PlatformSecrets')).toEqual([]);
  });

  it('uses the ARM AMI for Graviton nodes and the configured API access CIDRs', () => {
    expect(run.ofType('aws:eks/nodeGroup:NodeGroup')[0]!.inputs.amiType).toBe('AL2023_ARM_64_STANDARD');
    expect(run.ofType('aws:eks/cluster:Cluster')[0]!.inputs.vpcConfig.publicAccessCidrs).toEqual([
      '203.0.113.0/24',
    ]);
  });

  it('scopes IRSA to the configured service account', () => {
    const irsa = run.ofType('aws:iam/role:Role').find((r) => r.name === 'jp-sandbox-irsa')!;
    expect(irsa.inputs.assumeRolePolicy).toContain('"system:serviceaccount:jobplane-jobs:runner"');
  });

  it('names children after the component (second instances do not collide)', () => {
    for (const r of run.resources.filter((x) => x.type.startsWith('aws:')))
      expect(r.name).toMatch(/^jp-sandbox-/);
    expect(run.outputs.clusterName).toBe('jp-sandbox');
  });
});
