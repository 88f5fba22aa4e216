/** What every object of one component instance shares (imported by objects.ts and workloads.ts). */
import type { Labels } from './labels.js';
import { argoAnnotations, type SyncWave } from './sync.js';

/** Name, namespace and labels of one component instance, plus the labels selecting its pods. */
export interface Workload {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly selector: Labels;
}

/** `metadata` of a namespaced object: name, namespace, labels and its Argo CD sync wave. */
export function objectMeta(
  o: { readonly name: string; readonly namespace: string; readonly labels: Labels },
  wave: SyncWave,
): Record<string, unknown> {
  return { name: o.name, namespace: o.namespace, labels: o.labels, annotations: argoAnnotations(wave) };
}
