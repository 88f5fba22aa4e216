/**
 * Recommended labels (app.kubernetes.io/*). Selectors use name + component + instance so two
 * instances of one construct never select each other's pods.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */
export const PART_OF = 'jobplane';

export type Labels = Readonly<Record<string, string>>;

/** Labels that select the pods of one component instance. */
export function selectorLabels(component: string, instance: string): Labels {
  return {
    'app.kubernetes.io/name': PART_OF,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/instance': instance,
  };
}

/** Selector labels plus the informational ones. */
export function objectLabels(component: string, instance: string): Labels {
  return {
    ...selectorLabels(component, instance),
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
}
