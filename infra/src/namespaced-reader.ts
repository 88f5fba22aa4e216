/**
 * NamespacedReader: least-privilege read access for one ServiceAccount in one namespace — a Role
 * with only `get`, `list`, `watch` on the named resources and a RoleBinding to that account.
 * Never cluster-wide, never Secrets, never a wildcard (RB1).
 * @see https://kubernetes.io/docs/concepts/security/rbac-good-practices/
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PropValidationError, checkDnsLabel } from './lib/errors.js';
import type { Labels } from './lib/labels.js';
import { argoAnnotations } from './lib/sync.js';

/** Resources of one API group (`''` is the core group). */
export interface ReadableResources {
  readonly apiGroup: string;
  readonly resources: readonly string[];
}

export interface NamespacedReaderProps {
  /** Name of the Role and RoleBinding. */
  readonly name: string;
  /** Namespace the access is granted in. */
  readonly namespace: string;
  /** The ServiceAccount that gets the access. */
  readonly serviceAccount: { readonly name: string; readonly namespace: string };
  readonly resources: readonly ReadableResources[];
  /** @default none */
  readonly labels?: Labels;
}

export class NamespacedReader extends Construct {
  /** The L1 Role (escape hatch: `addJsonPatch`). */
  readonly resource: ApiObject;
  /** The cdk8s-plus Role. */
  readonly role: kplus.Role;

  constructor(scope: Construct, id: string, props: NamespacedReaderProps) {
    super(scope, id);
    const name = checkDnsLabel('name', props.name);
    const namespace = checkDnsLabel('namespace', props.namespace);
    if (props.resources.length === 0)
      throw new PropValidationError(`'resources' (empty) must name at least one resource`);
    for (const r of props.resources) {
      for (const res of r.resources) {
        if (res === '*' || r.apiGroup === '*')
          throw new PropValidationError(`'resources' ('${r.apiGroup}/${res}') must not use wildcards`);
        if (res === 'secrets')
          throw new PropValidationError(`'resources' ('secrets') is not readable through NamespacedReader`);
      }
    }
    const metadata = {
      name,
      namespace,
      ...(props.labels ? { labels: { ...props.labels } } : {}),
      annotations: argoAnnotations('foundation'),
    };
    this.role = new kplus.Role(this, 'Resource', { metadata });
    for (const r of props.resources) {
      this.role.allowRead(
        ...r.resources.map((resourceType) =>
          kplus.ApiResource.custom({ apiGroup: r.apiGroup, resourceType }),
        ),
      );
    }
    this.resource = ApiObject.of(this.role);
    const subject = kplus.ServiceAccount.fromServiceAccountName(this, 'Subject', props.serviceAccount.name, {
      namespaceName: checkDnsLabel('serviceAccount.namespace', props.serviceAccount.namespace),
    });
    new kplus.RoleBinding(this, 'Binding', { metadata, role: this.role }).addSubjects(subject);
  }
}
