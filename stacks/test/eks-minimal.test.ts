import { beforeAll, describe, expect, it } from 'vitest';
import { runProgram, type ProgramRun } from './mocks.js';
import { assertPlatformNamespaces } from './policy.js';

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
  });
});

describe('EKS stack without managed data stores', () => {
  it('creates no ElastiCache or RDS resources', () => {
    expect(run.resources.filter((r) => /^aws:(elasticache|rds)\//.test(r.type))).toEqual([]);
  });

  it('writes no platform Secrets: the operator provides them (docs/stacks.md), but still owns the Namespaces', () => {
    expect(
      run.ofType('kubernetes:core/v1:Secret').filter((s) => s.inputs.metadata.namespace !== 'argocd'),
    ).toEqual([]);
    expect(run.ofType('jobplane:platform:PlatformSecrets')).toEqual([]);
    assertPlatformNamespaces(run, '1.34');
  });

  it('uses the ARM AMI and an arm64 Karpenter NodePool for Graviton nodes, and the configured API access CIDRs', () => {
    expect(run.ofType('aws:eks/nodeGroup:NodeGroup')[0]!.inputs.amiType).toBe('AL2023_ARM_64_STANDARD');
    const [pool] = run.ofType('kubernetes:karpenter.sh/v1:NodePool');
    expect(pool!.inputs.spec.template.spec.requirements).toContainEqual({
      key: 'kubernetes.io/arch',
      operator: 'In',
      values: ['arm64'],
    });
    expect(run.ofType('aws:eks/cluster:Cluster')[0]!.inputs.vpcConfig.publicAccessCidrs).toEqual([
      '203.0.113.0/24',
    ]);
  });

  it('names children after the component (second instances do not collide)', () => {
    for (const r of run.resources.filter((x) => x.type.startsWith('aws:')))
      expect(r.name).toMatch(/^jp-sandbox-/);
    expect(run.outputs.clusterName).toBe('jp-sandbox');
  });
});
