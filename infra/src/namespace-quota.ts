/**
 * NamespaceQuota: the ResourceQuota and LimitRange of a namespace the constructs deploy into but
 * do not own (J1: the isolated-Jobs namespace gets both).
 *
 * The platform Namespaces themselves (restricted Pod Security Standard, pinned version) are
 * created by the stacks (Pulumi `PlatformNamespaces`), never by the constructs: an Argo CD
 * Application deleted or renamed with `prune` would otherwise delete them together with the
 * Secrets Pulumi writes there (docs/infra.md, "Ownership").
 * @see https://kubernetes.io/docs/concepts/policy/resource-quotas/
 * @see https://kubernetes.io/docs/concepts/policy/limit-range/
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkDnsLabel, checkInt, checkQuantity } from './lib/errors.js';
import { argoAnnotations } from './lib/sync.js';

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

export interface NamespaceQuotaProps {
  /** The namespace (created by the stacks). */
  readonly namespace: string;
  readonly quota: NamespaceQuota;
}

export class NamespaceQuotaPolicy extends Construct {
  /** The L1 ResourceQuota (escape hatch). */
  readonly resource: ApiObject;
  readonly limitRange: ApiObject;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: NamespaceQuotaProps) {
    super(scope, id);
    this.namespace = checkDnsLabel('namespace', props.namespace);
    const q = props.quota;
    checkQuantity('quota.requestsCpu', q.requestsCpu, 'cpu');
    checkQuantity('quota.limitsMemory', q.limitsMemory, 'memory');
    checkInt('quota.jobs', q.jobs, 1);
    checkInt('quota.pods', q.pods, 1);
    this.resource = new ApiObject(this, 'Quota', {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: {
        name: `${this.namespace}-quota`,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/part-of': 'jobplane' },
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
    this.limitRange = new ApiObject(this, 'Limits', {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: {
        name: `${this.namespace}-limits`,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/part-of': 'jobplane' },
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
