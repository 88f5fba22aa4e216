/**
 * Capacity: what the synthesized workloads may scale to, against what the environment's cluster
 * can hold (`EnvironmentConfig.capacity`, the stacks' node types and Karpenter NodePool limits).
 *
 * - CAP-fit: every pod's requests fit the largest node's allocatable (else it stays Pending).
 * - CAP-quota: per namespace with a ResourceQuota, the workloads at their maxima (ScaledJob
 *   `maxReplicaCount`) fit the quota's requests.cpu, limits.memory, pods and Jobs; beyond it KEDA
 *   creates Jobs whose pods the quota refuses.
 * - CAP-pool: every workload at its maximum (scaler maxima × requests) fits the node pool limits.
 */
import type { CapacityConfig } from '../environments/environment.js';
import { formatCpu, formatMemory, parseQuantity } from '../lib/quantity.js';
import { podRequests } from './cross.js';
import type { Finding, Json, Manifest } from './types.js';
import { arr, obj, podTemplates, ref } from './types.js';

export interface WorkloadMaximum {
  readonly object: string;
  readonly namespace: string;
  readonly kind: string;
  /** Pods at the scaler's maximum (or replicas / parallelism). */
  readonly pods: number;
  readonly perPod: { readonly cpu: number; readonly memory: number; readonly memoryLimit: number };
}

export interface CapacityReport {
  readonly workloads: readonly WorkloadMaximum[];
  readonly total: { readonly cpu: number; readonly memory: number };
  readonly nodePoolLimits?: { readonly cpu: number; readonly memory: number };
  readonly largestNode: { readonly cpu: number; readonly memory: number; readonly description: string };
  readonly quotas: readonly {
    readonly namespace: string;
    readonly cpu: { readonly used: number; readonly hard?: number };
    readonly memoryLimits: { readonly used: number; readonly hard?: number };
    readonly pods: { readonly used: number; readonly hard?: number };
    readonly jobs: { readonly used: number; readonly hard?: number };
  }[];
}

const q = (v: unknown): number => parseQuantity(v) ?? 0;

function memoryLimit(spec: Json): number {
  return arr(spec['containers']).reduce((a, c) => a + q(obj(obj(c['resources'])['limits'])['memory']), 0);
}

/** Every workload at its maximum scale. */
export function workloadMaxima(objects: readonly Manifest[]): WorkloadMaximum[] {
  const scaledMax = new Map<string, number>();
  for (const o of objects) {
    const spec = obj(o['spec']);
    const target = `${o.metadata.namespace}/${String(obj(spec['scaleTargetRef'])['name'])}`;
    if (o.kind === 'ScaledObject')
      scaledMax.set(target, typeof spec['maxReplicaCount'] === 'number' ? spec['maxReplicaCount'] : 100);
    if (o.kind === 'HorizontalPodAutoscaler') scaledMax.set(target, Number(spec['maxReplicas']));
  }
  const out: WorkloadMaximum[] = [];
  for (const o of objects) {
    const [t] = podTemplates(o);
    if (!t || o.kind === 'Pod') continue;
    const spec = obj(o['spec']);
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    let pods: number;
    if (o.kind === 'ScaledJob') {
      const max = typeof spec['maxReplicaCount'] === 'number' ? spec['maxReplicaCount'] : 100;
      pods = max * (Number(obj(spec['jobTargetRef'])['parallelism']) || 1);
    } else if (o.kind === 'Job') pods = typeof spec['parallelism'] === 'number' ? spec['parallelism'] : 1;
    else if (o.kind === 'CronJob') pods = 1;
    else pods = scaledMax.get(key) ?? (typeof spec['replicas'] === 'number' ? spec['replicas'] : 1);
    out.push({
      object: ref(o),
      namespace: String(o.metadata.namespace),
      kind: o.kind,
      pods,
      perPod: { ...podRequests(t.spec, parseQuantity), memoryLimit: memoryLimit(t.spec) },
    });
  }
  return out;
}

export function capacityReport(objects: readonly Manifest[], capacity: CapacityConfig): CapacityReport {
  const workloads = workloadMaxima(objects);
  const total = workloads.reduce(
    (a, w) => ({ cpu: a.cpu + w.pods * w.perPod.cpu, memory: a.memory + w.pods * w.perPod.memory }),
    { cpu: 0, memory: 0 },
  );
  const quotas = objects
    .filter((o) => o.kind === 'ResourceQuota')
    .map((rq) => {
      const hard = obj(obj(rq['spec'])['hard']);
      const ns = String(rq.metadata.namespace);
      const inNs = workloads.filter((w) => w.namespace === ns);
      const sum = (f: (w: WorkloadMaximum) => number) => inNs.reduce((a, w) => a + f(w), 0);
      const h = (k: string) => (hard[k] === undefined ? undefined : q(hard[k]));
      return {
        namespace: ns,
        cpu: { used: sum((w) => w.pods * w.perPod.cpu), hard: h('requests.cpu') },
        memoryLimits: { used: sum((w) => w.pods * w.perPod.memoryLimit), hard: h('limits.memory') },
        pods: { used: sum((w) => w.pods), hard: h('pods') },
        jobs: {
          used: sum((w) => (w.kind === 'ScaledJob' ? w.pods : w.kind === 'Job' ? 1 : 0)),
          hard: h('count/jobs.batch'),
        },
      };
    });
  return {
    workloads,
    total,
    ...(capacity.nodePoolLimits
      ? { nodePoolLimits: { cpu: q(capacity.nodePoolLimits.cpu), memory: q(capacity.nodePoolLimits.memory) } }
      : {}),
    largestNode: {
      cpu: q(capacity.largestNode.cpu),
      memory: q(capacity.largestNode.memory),
      description: capacity.largestNode.description,
    },
    quotas,
  };
}

export function checkCapacity(objects: readonly Manifest[], capacity: CapacityConfig): Finding[] {
  const findings: Finding[] = [];
  const r = capacityReport(objects, capacity);
  const node = r.largestNode;
  for (const w of r.workloads) {
    if (w.perPod.cpu > node.cpu || w.perPod.memory > node.memory)
      findings.push({
        rule: 'CAP-fit',
        object: w.object,
        message: `pod requests ${formatCpu(w.perPod.cpu)} CPU / ${formatMemory(w.perPod.memory)}, the largest node (${node.description}) has ${formatCpu(node.cpu)} / ${formatMemory(node.memory)} allocatable`,
      });
  }
  for (const quota of r.quotas) {
    const scaledJobs = r.workloads.filter((w) => w.namespace === quota.namespace && w.kind === 'ScaledJob');
    if (scaledJobs.length === 0) continue;
    const who = scaledJobs.map((w) => `${w.object} × ${w.pods}`).join(', ');
    const over = (label: string, v: { used: number; hard?: number }, fmt: (n: number) => string) => {
      if (v.hard !== undefined && v.used > v.hard + 1e-9)
        findings.push({
          rule: 'CAP-quota',
          object: `ResourceQuota/${quota.namespace}`,
          message: `workloads at their maxima (${who}) need ${label} ${fmt(v.used)}, above the ResourceQuota's ${fmt(v.hard)}`,
        });
    };
    over('requests.cpu', quota.cpu, formatCpu);
    over('limits.memory', quota.memoryLimits, formatMemory);
    over('pods', quota.pods, String);
    over('count/jobs.batch', quota.jobs, String);
  }
  if (r.nodePoolLimits) {
    const l = r.nodePoolLimits;
    if (r.total.cpu > l.cpu || r.total.memory > l.memory)
      findings.push({
        rule: 'CAP-pool',
        object: 'NodePool/-/limits',
        message: `scaler maxima × requests (${formatCpu(r.total.cpu)} CPU, ${formatMemory(r.total.memory)}) exceed the node pool limits (${formatCpu(l.cpu)} CPU, ${formatMemory(l.memory)})`,
      });
  }
  return findings;
}

/** The report lines `make synth` prints. */
export function formatCapacityReport(r: CapacityReport): string {
  const lines = [
    `  capacity: maxima × requests ${formatCpu(r.total.cpu)} CPU, ${formatMemory(r.total.memory)}` +
      (r.nodePoolLimits
        ? ` of node pool limits ${formatCpu(r.nodePoolLimits.cpu)} CPU, ${formatMemory(r.nodePoolLimits.memory)}`
        : ' (no node autoscaler)') +
      `; largest pod ${formatCpu(Math.max(0, ...r.workloads.map((w) => w.perPod.cpu)))} CPU on ${r.largestNode.description}`,
  ];
  for (const quota of r.quotas) {
    const f = (v: { used: number; hard?: number }, fmt: (n: number) => string) =>
      `${fmt(v.used)}/${v.hard === undefined ? '-' : fmt(v.hard)}`;
    lines.push(
      `  quota ${quota.namespace}: requests.cpu ${f(quota.cpu, formatCpu)}, limits.memory ${f(quota.memoryLimits, formatMemory)}, pods ${f(quota.pods, String)}, jobs ${f(quota.jobs, String)}`,
    );
  }
  return lines.join('\n');
}
