/**
 * PlatformServiceAccount: one ServiceAccount per component, token not auto-mounted (RB2), on
 * cdk8s-plus' typed `ServiceAccount`.
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
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
  /** The L1 ServiceAccount (escape hatch: `addJsonPatch`). */
  readonly resource: ApiObject;
  /** The cdk8s-plus ServiceAccount (a subject for RoleBindings, `serviceAccount` of workloads). */
  readonly serviceAccount: kplus.ServiceAccount;
  readonly name: string;
  constructor(scope: Construct, id: string, props: PlatformServiceAccountProps) {
    super(scope, id);
    this.name = checkDnsLabel('name', props.name);
    this.serviceAccount = new kplus.ServiceAccount(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: checkDnsLabel('namespace', props.namespace),
        ...(props.labels ? { labels: { ...props.labels } } : {}),
        annotations: { ...props.annotations, ...argoAnnotations('foundation') },
      },
      automountToken: false,
    });
    this.resource = ApiObject.of(this.serviceAccount);
  }
}
