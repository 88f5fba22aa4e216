/**
 * PlatformServiceAccount: one ServiceAccount per component, token not auto-mounted (RB2).
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkDnsLabel } from './lib/errors.js';
import type { Labels } from './lib/labels.js';
import { argoAnnotations } from './lib/sync.js';

export interface PlatformServiceAccountProps {
  readonly name: string;
  readonly namespace: string;
  /** @default none */
  readonly labels?: Labels;
  /** Cloud IAM annotations (e.g. IRSA `eks.amazonaws.com/role-arn`). @default none */
  readonly annotations?: Record<string, string>;
}

export class PlatformServiceAccount extends Construct {
  /** The L1 ServiceAccount (escape hatch). */
  readonly resource: ApiObject;
  readonly name: string;
  constructor(scope: Construct, id: string, props: PlatformServiceAccountProps) {
    super(scope, id);
    this.name = checkDnsLabel('name', props.name);
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: this.name,
        namespace: props.namespace,
        ...(props.labels ? { labels: { ...props.labels } } : {}),
        annotations: { ...props.annotations, ...argoAnnotations('foundation') },
      },
      automountServiceAccountToken: false,
    });
  }
}
