/** Shared types of the offline verifier. */

/** A manifest object as synthesized (plain JSON). */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};

/** One problem the verifier found. `rule` is the checklist id (P6, K3, V1 …) or a verifier rule. */
export interface Finding {
  readonly rule: string;
  /** `Kind/namespace/name`. */
  readonly object: string;
  readonly message: string;
}

export type Json = Record<string, unknown>;

export function ref(o: Manifest): string {
  return `${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name}`;
}

export function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

export function arr(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Json[]) : [];
}

/** A pod template inside a workload, with where it was found. */
export interface PodTemplateRef {
  readonly owner: Manifest;
  readonly path: string;
  readonly labels: Record<string, string>;
  readonly spec: Json;
}

/** Every pod template of an object (Pod, Deployment/StatefulSet/DaemonSet/ReplicaSet, Job, CronJob, KEDA ScaledJob). */
export function podTemplates(o: Manifest): PodTemplateRef[] {
  const spec = obj(o['spec']);
  const at = (path: string, template: Json): PodTemplateRef => ({
    owner: o,
    path,
    labels: obj(obj(template['metadata'])['labels']) as Record<string, string>,
    spec: obj(template['spec']),
  });
  switch (o.kind) {
    case 'Pod':
      return [{ owner: o, path: 'spec', labels: o.metadata.labels ?? {}, spec }];
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return [at('spec.template', obj(spec['template']))];
    case 'CronJob':
      return [at('spec.jobTemplate.spec.template', obj(obj(obj(spec['jobTemplate'])['spec'])['template']))];
    case 'ScaledJob':
      return [at('spec.jobTargetRef.template', obj(obj(spec['jobTargetRef'])['template']))];
    default:
      return [];
  }
}

/** containers + initContainers + ephemeralContainers. */
export function allContainers(spec: Json): Json[] {
  return [...arr(spec['containers']), ...arr(spec['initContainers']), ...arr(spec['ephemeralContainers'])];
}

/**
 * A label selector selects `labels` the way the API server evaluates it: a `LabelSelector`
 * (`matchLabels` AND every `matchExpressions` requirement: In, NotIn, Exists, DoesNotExist) or a
 * Service's plain map. An empty selector selects nothing here (callers treat `podSelector: {}`
 * separately); an unknown operator matches nothing.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 */
export function selects(selector: Json, labels: Record<string, string>): boolean {
  const isLabelSelector = 'matchLabels' in selector || 'matchExpressions' in selector;
  const match = isLabelSelector ? obj(selector['matchLabels']) : selector;
  const expressions = isLabelSelector ? arr(selector['matchExpressions']) : [];
  const entries = Object.entries(match);
  if (entries.length === 0 && expressions.length === 0) return false;
  if (!entries.every(([k, v]) => labels[k] === v)) return false;
  return expressions.every((e) => {
    const key = String(e['key']);
    const values = Array.isArray(e['values']) ? (e['values'] as unknown[]).map(String) : [];
    const has = Object.hasOwn(labels, key);
    switch (e['operator']) {
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}
