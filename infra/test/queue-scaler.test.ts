import { drainContract } from '@jobplane/sdk';
import { BACKLOG_STATES } from '@jobplane/sdk/contract';
import { describe, expect, it } from 'vitest';
import { QueueScaler, type QueueScalerProps } from '../src/queue-scaler.js';
import type { AnyJson } from './helpers.js';
import { TEST_CATALOG, find, synth } from './helpers.js';

const base: QueueScalerProps = {
  target: { kind: 'Deployment', name: 'jobplane-worker-default', namespace: 'jobplane' },
  catalog: TEST_CATALOG,
  queue: 'default',
  prometheusAddress: 'http://jobplane-prometheus.jobplane.svc:9090',
};
const spec = (props: Partial<QueueScalerProps> = {}): AnyJson =>
  find(
    synth((s) => new QueueScaler(s, 'q', { ...base, ...props })),
    'ScaledObject',
  )['spec'];

describe('QueueScaler', () => {
  it('matches the snapshot', () => {
    expect(synth((s) => new QueueScaler(s, 'q', base))).toMatchSnapshot();
  });

  it('counts the real backlog: waiting + prioritized + active of its queue', () => {
    const trigger = spec().triggers[0];
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.query).toBe(
      'sum(max by (queue, state) (jobplane_queue_jobs{queue="default",state=~"waiting|prioritized|active"}))',
    );
    for (const s of BACKLOG_STATES) expect(trigger.metadata.query).toContain(s);
    expect(trigger.metadata.ignoreNullValues).toBe('false');
  });

  it('defaults: 1..10 replicas, cooldown and scale-down window from the drain contract, fallback', () => {
    const s = spec();
    const drain = drainContract(TEST_CATALOG, 'default');
    expect(s.minReplicaCount).toBe(1);
    expect(s.maxReplicaCount).toBe(10);
    expect(s.cooldownPeriod).toBe(drain.scaleDownStabilizationSeconds);
    expect(s.cooldownPeriod).toBeGreaterThanOrEqual(drain.drainSeconds);
    expect(s.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds).toBe(
      drain.scaleDownStabilizationSeconds,
    );
    expect(s.fallback).toEqual({ failureThreshold: 3, replicas: 1 });
    expect(s.triggers[0].metadata.threshold).toBe('10');
  });

  it('scaleToZero sets minReplicaCount 0 without a fallback', () => {
    const s = spec({ scaleToZero: true });
    expect(s.minReplicaCount).toBe(0);
    expect(s.fallback).toBeUndefined();
    expect(s.triggers[0].metadata.activationThreshold).toBe('0');
  });

  it('honours bounds, target, polling and cooldown', () => {
    const s = spec({
      minReplicas: 2,
      maxReplicas: 9,
      targetBacklogPerReplica: 3,
      pollingIntervalSeconds: 5,
      cooldownSeconds: 600,
    });
    expect(s).toMatchObject({
      minReplicaCount: 2,
      maxReplicaCount: 9,
      pollingInterval: 5,
      cooldownPeriod: 600,
    });
    expect(s.triggers[0].metadata.threshold).toBe('3');
  });

  it('marks the CRD-backed object for Argo CD', () => {
    const so = find(
      synth((s) => new QueueScaler(s, 'q', base)),
      'ScaledObject',
    );
    expect(so.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe(
      'SkipDryRunOnMissingResource=true',
    );
  });

  it.each([
    [{ minReplicas: 5, maxReplicas: 2 }, `'maxReplicas' (2) must be ≥ 'minReplicas' (5)`],
    [{ minReplicas: 0 }, `'minReplicas' (0) needs 'scaleToZero' (true)`],
    [{ cooldownSeconds: 30 }, `'cooldownSeconds' (30) must be ≥ 'drainSeconds' (120)`],
    [{ targetBacklogPerReplica: 0 }, `'targetBacklogPerReplica' (0) must be an integer ≥ 1`],
    [
      { prometheusAddress: 'prometheus:9090' },
      `'prometheusAddress' ('prometheus:9090') must be an http(s) URL`,
    ],
    [{ prometheusAddress: 'not a url' }, `'prometheusAddress' ('not a url') must be an http(s) URL`],
  ])('rejects %j', (props, message) => {
    expect(() => spec(props)).toThrow(message);
  });
});
