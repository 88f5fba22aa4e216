/**
 * PlatformNamespace: a Namespace enforcing the restricted Pod Security Standard (P14), optionally
 * with a ResourceQuota and LimitRange (J1: the isolated-Jobs namespace gets both).
 * @see https://kubernetes.io/docs/concepts/security/pod-security-admission/
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkDnsLabel } from './lib/errors.js';
import { argoAnnotations } from './lib/sync.js';

/** Pod Security Standard version the namespaces pin (`enforce-version`). */
export const PSS_VERSION = 'v1.30';

export interface NamespaceQuota {
  /** Total CPU requests. */
  readonly requestsCpu: string;
  /** Total memory limits. */
  readonly limitsMemory: string;
  /** Maximum number of Jobs. */
  readonly jobs: number;
  /** Maximum number of pods. */
  readonly pods: number;
}

export interface PlatformNamespaceProps {
  /** Namespace name. */
  readonly name: string;
  /** Extra labels. @default none */
  readonly labels?: Record<string, string>;
  /**
   * ResourceQuota + LimitRange (default container requests/limits) for the namespace.
   * @see https://kubernetes.io/docs/concepts/policy/resource-quotas/
   * @default none
   */
  readonly quota?: NamespaceQuota;
}

export class PlatformNamespace extends Construct {
  /** The L1 Namespace (escape hatch). */
  readonly resource: ApiObject;
  readonly name: string;

  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    this.name = checkDnsLabel('name', props.name);
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: this.name,
        annotations: argoAnnotations('foundation'),
        labels: {
          ...props.labels,
          'app.kubernetes.io/part-of': 'jobplane',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': PSS_VERSION,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    });
    if (props.quota) {
      const q = props.quota;
      new ApiObject(this, 'Quota', {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: {
          name: `${this.name}-quota`,
          namespace: this.name,
          annotations: argoAnnotations('foundation'),
        },
        spec: {
          hard: {
            'requests.cpu': q.requestsCpu,
            'limits.memory': q.limitsMemory,
            'count/jobs.batch': String(q.jobs),
            pods: String(q.pods),
          },
        },
      });
      new ApiObject(this, 'Limits', {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: {
          name: `${this.name}-limits`,
          namespace: this.name,
          annotations: argoAnnotations('foundation'),
        },
        spec: {
          limits: [
            {
              type: 'Container',
              defaultRequest: { cpu: '100m', memory: '128Mi' },
              default: { memory: '256Mi' },
            },
          ],
        },
      });
    }
  }
}
