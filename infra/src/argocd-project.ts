/**
 * ArgoCdProject: an Argo CD AppProject restricted to exact source repositories and exact
 * destinations (no `*`), with `PriorityClass` the only cluster-scoped kind and Secrets blacklisted
 * (the stacks own the Namespaces and the Secrets). With `lockdown`, it
 * neuters a project instead (used for Argo CD's `default` project; docs/infra.md):
 * no sources, no destinations, every namespaced kind blacklisted.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ArgoCdAppProjectResource } from './imports/crds.js';
import { PropValidationError, checkDnsLabel } from './lib/errors.js';

/** An Argo CD destination: a registered cluster name (or server URL) and one namespace. */
export interface ArgoCdDestination {
  readonly name?: string;
  readonly server?: string;
  readonly namespace: string;
}

export interface ArgoCdProjectProps {
  readonly name: string;
  /** Namespace Argo CD runs in. @default 'argocd' */
  readonly argocdNamespace?: string;
  /** Exact repository URLs. Required unless `lockdown`. */
  readonly sourceRepos?: readonly string[];
  /** Exact destinations. Required unless `lockdown`. */
  readonly destinations?: readonly ArgoCdDestination[];
  /** @default 'Jobplane platform' */
  readonly description?: string;
  /** Neuter the project (for `default`). @default false */
  readonly lockdown?: boolean;
}

export class ArgoCdProject extends Construct {
  /** The L1 AppProject (escape hatch). */
  readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: ArgoCdProjectProps) {
    super(scope, id);
    const name = checkDnsLabel('name', props.name);
    const metadata = { name, namespace: props.argocdNamespace ?? 'argocd' };
    if (props.lockdown) {
      this.resource = new ArgoCdAppProjectResource(this, 'Resource', {
        metadata,
        spec: {
          description: 'Locked down: Jobplane applications use their own project.',
          sourceRepos: [],
          destinations: [],
          clusterResourceWhitelist: [],
          namespaceResourceBlacklist: [{ group: '*', kind: '*' }],
        },
      });
      return;
    }
    const repos = props.sourceRepos ?? [];
    const destinations = props.destinations ?? [];
    if (repos.length === 0)
      throw new PropValidationError(`'sourceRepos' (empty) must list at least one repository`);
    if (destinations.length === 0)
      throw new PropValidationError(`'destinations' (empty) must list at least one destination`);
    for (const repo of repos) {
      if (repo.includes('*'))
        throw new PropValidationError(`'sourceRepos' ('${repo}') must be an exact URL, not a pattern`);
    }
    for (const d of destinations) {
      if ([d.name, d.server, d.namespace].some((v) => v?.includes('*'))) {
        throw new PropValidationError(`'destinations' (${JSON.stringify(d)}) must not contain '*'`);
      }
      if (!d.name === !d.server)
        throw new PropValidationError(
          `'destinations' (${JSON.stringify(d)}) must set exactly one of name or server`,
        );
    }
    this.resource = new ArgoCdAppProjectResource(this, 'Resource', {
      metadata: { ...metadata, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
      spec: {
        description: props.description ?? 'Jobplane platform',
        sourceRepos: [...repos],
        destinations: destinations.map((d) => ({ ...d })),
        // Namespaces belong to the stacks (Pulumi): Argo CD may not create, adopt or prune them.
        // The only cluster-scoped kind the platform syncs is its PriorityClasses.
        clusterResourceWhitelist: [{ group: 'scheduling.k8s.io', kind: 'PriorityClass' }],
        // Secrets are never in Git (S1): Pulumi writes them, Argo CD can never manage or prune one.
        namespaceResourceBlacklist: [{ group: '', kind: 'Secret' }],
        orphanedResources: { warn: true },
      },
    });
  }
}
