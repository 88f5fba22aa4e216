/**
 * A prod-like EKS stack with the API endpoint private only, Let's Encrypt for TLS and no
 * interruption queue: the switches of the cluster layer that the stack files do not set.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LETS_ENCRYPT_DIRECTORY } from '../src/ingress.js';
import { runProgram, type ProgramRun } from './mocks.js';
import { assertIngress, release } from './policy.js';

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram('prod', {
    cluster: 'eks',
    region: 'eu-west-1',
    apiPublicAccess: 'false',
    acmeEmail: 'ops@example.com',
    karpenterInterruptionQueue: 'false',
  });
});

describe('prod EKS stack with a private API endpoint', () => {
  it('turns the public endpoint off without any CIDR (none required)', () => {
    const [cluster] = run.ofType('aws:eks/cluster:Cluster');
    expect(cluster!.inputs.vpcConfig).toMatchObject({
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
    });
    expect(cluster!.inputs.vpcConfig.publicAccessCidrs).toBeUndefined();
  });

  it("issues certificates from Let's Encrypt through the traefik ingress class", () => {
    assertIngress(run, 'acme');
    const [issuer] = run.ofType('kubernetes:cert-manager.io/v1:ClusterIssuer');
    expect(issuer!.inputs.spec.acme).toMatchObject({
      email: 'ops@example.com',
      server: LETS_ENCRYPT_DIRECTORY,
      solvers: [{ http01: { ingress: { ingressClassName: 'traefik' } } }],
    });
  });

  it('runs Karpenter without an interruption queue, and no SQS permissions', () => {
    expect(run.ofType('aws:sqs/queue:Queue')).toEqual([]);
    expect(run.ofType('aws:cloudwatch/eventRule:EventRule')).toEqual([]);
    const karpenter = release(run, 'oci://public.ecr.aws/karpenter/karpenter');
    expect(karpenter.inputs.values.settings.interruptionQueue).toBeUndefined();
    const [policy] = run.ofType('aws:iam/rolePolicy:RolePolicy');
    expect(policy!.inputs.policy).not.toContain('sqs:');
  });
});
