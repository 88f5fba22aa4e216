/**
 * Capacity: the node autoscaler the EKS stacks install can hold what the synthesized workloads of
 * `charts-out/<env>` may scale to. Read from the manifests (never restated): every Deployment at
 * its scaler's maximum (ScaledObject `maxReplicaCount`, HPA `maxReplicas`, else `replicas`), every
 * ScaledJob at `maxReplicaCount` capped by its namespace's ResourceQuota, each Job once.
 *
 * `npx vitest run --project stacks capacity` prints the figures.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseStackConfig, type EksStackConfig } from '../src/config.js';
import { stackFileConfig } from './mocks.js';

/** Kubernetes quantity → number (CPU in cores, memory in bytes). */
export function quantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) throw new Error(`not a quantity: ${q}`);
  const unit: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] ? unit[m[2]]! : 1);
}

interface Requests {
  cpu: number;
  memory: number;
}

/** Effective pod requests: sum of containers, or the largest init container if that is more. */
function podRequests(podSpec: any): Requests {
  const of = (c: any) => ({
    cpu: quantity(c.resources?.requests?.cpu),
    memory: quantity(c.resources?.requests?.memory),
  });
  const main = (podSpec.containers ?? [])
    .map(of)
    .reduce((a: Requests, b: Requests) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), {
      cpu: 0,
      memory: 0,
    });
  for (const init of (podSpec.initContainers ?? []).map(of)) {
    main.cpu = Math.max(main.cpu, init.cpu);
    main.memory = Math.max(main.memory, init.memory);
  }
  return main;
}

export interface Workload {
  kind: string;
  name: string;
  replicas: number;
  perPod: Requests;
}

/** Every workload of `charts-out/<env>` at its maximum scale. */
export function workloadMaxima(environment: string): Workload[] {
  const dir = fileURLToPath(new URL(`../../charts-out/${environment}/`, import.meta.url));
  const objects: any[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const o = doc.toJS();
      if (o) objects.push(o);
    }
  }
  const scaledMax = new Map<string, number>();
  for (const o of objects) {
    if (o.kind === 'ScaledObject')
      scaledMax.set(`${o.metadata.namespace}/${o.spec.scaleTargetRef.name}`, o.spec.maxReplicaCount ?? 100);
    if (o.kind === 'HorizontalPodAutoscaler')
      scaledMax.set(`${o.metadata.namespace}/${o.spec.scaleTargetRef.name}`, o.spec.maxReplicas);
  }
  const quotaCpu = new Map<string, number>();
  for (const o of objects.filter((x) => x.kind === 'ResourceQuota')) {
    const cpu = o.spec.hard?.['requests.cpu'];
    if (cpu !== undefined) quotaCpu.set(o.metadata.namespace, quantity(cpu));
  }
  const out: Workload[] = [];
  for (const o of objects) {
    const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
      out.push({
        kind: o.kind,
        name: key,
        replicas: scaledMax.get(key) ?? o.spec.replicas ?? 1,
        perPod: podRequests(o.spec.template.spec),
      });
    } else if (o.kind === 'ScaledJob') {
      const perPod = podRequests(o.spec.jobTargetRef.template.spec);
      const max = o.spec.maxReplicaCount ?? 100;
      const quota = quotaCpu.get(o.metadata.namespace);
      const byQuota = quota !== undefined && perPod.cpu > 0 ? Math.floor(quota / perPod.cpu) : max;
      out.push({ kind: o.kind, name: key, replicas: Math.min(max, byQuota), perPod });
    } else if (o.kind === 'Job') {
      out.push({ kind: o.kind, name: key, replicas: 1, perPod: podRequests(o.spec.template.spec) });
    }
  }
  return out;
}

const GI = 2 ** 30;

describe.each(['staging', 'prod'] as const)('%s capacity', (env) => {
  const cfg = parseStackConfig(stackFileConfig(env), env) as EksStackConfig;
  const workloads = workloadMaxima(env);
  const total = workloads.reduce(
    (a, w) => ({ cpu: a.cpu + w.replicas * w.perPod.cpu, memory: a.memory + w.replicas * w.perPod.memory }),
    { cpu: 0, memory: 0 },
  );

  it('reads the scalers and workloads it sums', () => {
    expect(workloads.some((w) => w.kind === 'ScaledJob')).toBe(true);
    expect(workloads.filter((w) => w.kind === 'Deployment').length).toBeGreaterThanOrEqual(4);
    console.log(
      `${env}: scaler maxima × requests = ${total.cpu.toFixed(2)} CPU, ${(total.memory / GI).toFixed(1)} GiB; ` +
        `Karpenter NodePool limits = ${cfg.eks.karpenter.cpuLimit} CPU, ${cfg.eks.karpenter.memoryGiLimit} GiB\n` +
        workloads
          .map(
            (w) =>
              `  ${w.kind} ${w.name}: ${w.replicas} × ${w.perPod.cpu} CPU / ${(w.perPod.memory / GI).toFixed(2)} GiB`,
          )
          .join('\n'),
    );
  });

  it('gives the Karpenter NodePool limits that hold every workload at its maximum, with 15% headroom', () => {
    // Limits count node capacity; allocatable is lower (kubelet/system reservations, daemons).
    expect(cfg.eks.karpenter.cpuLimit).toBeGreaterThanOrEqual(total.cpu * 1.15);
    expect(cfg.eks.karpenter.memoryGiLimit * GI).toBeGreaterThanOrEqual(total.memory * 1.15);
  });

  it('launches nodes on which the largest pod fits, with a vCPU left for the node itself', () => {
    const largest = Math.max(...workloads.map((w) => w.perPod.cpu));
    expect(cfg.eks.karpenter.minInstanceCpu - 1).toBeGreaterThanOrEqual(largest);
  });
});
