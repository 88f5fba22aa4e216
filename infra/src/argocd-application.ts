/**
 * ArgoCdApplication: an Argo CD Application syncing one folder of this repository with automated
 * sync (prune, self-heal), retries with backoff, and server-side diff friendly options.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/cluster-bootstrapping/
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ArgoCdApplicationResource } from './imports/crds.js';
import { PropValidationError, checkDnsLabel } from './lib/errors.js';
import type { ArgoCdDestination } from './argocd-project.js';

export interface ArgoCdApplicationProps {
  readonly name: string;
  readonly project: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  /** Folder in the repository. */
  readonly path: string;
  /** Where the manifests go (namespace: the default for objects without one). */
  readonly destination: ArgoCdDestination;
  /** @default 'argocd' */
  readonly argocdNamespace?: string;
  /** Let the Application create namespaces that do not exist yet. @default false */
  readonly createNamespace?: boolean;
}

export class ArgoCdApplication extends Construct {
  /** The L1 Application (escape hatch). */
  readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: ArgoCdApplicationProps) {
    super(scope, id);
    const name = checkDnsLabel('name', props.name);
    if (props.project === 'default') {
      throw new PropValidationError(`'project' ('default') is locked down: use the Jobplane AppProject`);
    }
    if (props.targetRevision === 'HEAD' || props.targetRevision === '') {
      throw new PropValidationError(
        `'targetRevision' ('${props.targetRevision}') must name a branch, tag or commit`,
      );
    }
    const syncOptions = ['PruneLast=true', 'ApplyOutOfSyncOnly=true'];
    if (props.createNamespace) syncOptions.unshift('CreateNamespace=true');
    this.resource = new ArgoCdApplicationResource(this, 'Resource', {
      metadata: {
        name,
        namespace: props.argocdNamespace ?? 'argocd',
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: props.project,
        source: { repoURL: props.repoURL, targetRevision: props.targetRevision, path: props.path },
        destination: { ...props.destination },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions,
          retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
        },
      },
    });
  }
}
