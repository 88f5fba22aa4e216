/**
 * PriorityClasses: the scheduling order of the platform's pods when a cluster runs short. The API,
 * the relay and the in-cluster services they need (data stores, Prometheus, migrations) come
 * first, pooled workers next, isolated and batch Jobs last; batch Jobs never preempt anything
 * (`preemptionPolicy: Never`), they wait for capacity (the node autoscaler adds it).
 * None is `globalDefault`: pods of other teams keep the cluster default (0).
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { PropValidationError, checkInt } from './lib/errors.js';
import { argoAnnotations } from './lib/sync.js';

export type PriorityTier = 'platform' | 'workers' | 'batch';

export interface PriorityClassSpec {
  readonly name: string;
  readonly value: number;
  readonly preemptionPolicy: 'PreemptLowerPriority' | 'Never';
  readonly description: string;
}

/** The default tiers, highest first. User-defined priorities must stay ≤ 1 000 000 000. */
export const PRIORITY_CLASSES: Readonly<Record<PriorityTier, PriorityClassSpec>> = {
  platform: {
    name: 'jobplane-platform',
    value: 100_000,
    preemptionPolicy: 'PreemptLowerPriority',
    description: 'Jobplane api, relay and the in-cluster services they need: scheduled first.',
  },
  workers: {
    name: 'jobplane-workers',
    value: 10_000,
    preemptionPolicy: 'PreemptLowerPriority',
    description: 'Jobplane pooled workers: below the api and relay, above batch Jobs.',
  },
  batch: {
    name: 'jobplane-batch',
    value: 1_000,
    preemptionPolicy: 'Never',
    description: 'Jobplane isolated and batch Jobs: scheduled last, never preempt other pods.',
  },
};

export interface PriorityClassesProps {
  /** @default PRIORITY_CLASSES */
  readonly classes?: Readonly<Record<PriorityTier, PriorityClassSpec>>;
}

export class PriorityClasses extends Construct {
  /** The L1 PriorityClass per tier (escape hatch). */
  readonly resources: Readonly<Record<PriorityTier, ApiObject>>;
  /** `priorityClassName` per tier. */
  readonly names: Readonly<Record<PriorityTier, string>>;

  constructor(scope: Construct, id: string, props: PriorityClassesProps = {}) {
    super(scope, id);
    const classes = props.classes ?? PRIORITY_CLASSES;
    const order: PriorityTier[] = ['platform', 'workers', 'batch'];
    for (const [i, tier] of order.entries()) {
      const c = classes[tier];
      checkInt(`classes.${tier}.value`, c.value, 0, 1_000_000_000);
      if (c.name.startsWith('system-'))
        throw new PropValidationError(`'classes.${tier}.name' ('${c.name}') must not start with 'system-'`);
      const above = order[i - 1];
      if (above !== undefined && classes[above].value <= c.value)
        throw new PropValidationError(
          `'classes.${tier}.value' (${c.value}) must be < 'classes.${above}.value' (${classes[above].value})`,
        );
    }
    const resources = {} as Record<PriorityTier, ApiObject>;
    for (const tier of order) {
      const c = classes[tier];
      resources[tier] = new ApiObject(this, tier, {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: {
          name: c.name,
          labels: { 'app.kubernetes.io/part-of': 'jobplane' },
          annotations: argoAnnotations('foundation'),
        },
        value: c.value,
        globalDefault: false,
        preemptionPolicy: c.preemptionPolicy,
        description: c.description,
      });
    }
    this.resources = resources;
    this.names = {
      platform: classes.platform.name,
      workers: classes.workers.name,
      batch: classes.batch.name,
    };
  }
}
