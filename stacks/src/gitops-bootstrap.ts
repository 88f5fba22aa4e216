/**
 * GitOpsBootstrap: applies the synthesized Argo CD AppProject and root Application from `argocd/`.
 *
 * The objects are the ones the construct library synthesizes (`argocd/appproject.yaml`,
 * `argocd/root-application.yaml`), read from the repository at `pulumi up` time, never a second
 * copy. The root app-of-apps points at `argocd/apps/`, whose `<env>.yaml` Application syncs
 * `charts-out/<env>`. Each object becomes a `CustomResource` that depends on the Argo CD release,
 * so the CRDs exist before the objects are applied (argo-cd#15095, pulumi-kubernetes#3176).
 * The synthesized per-environment Applications target a cluster *name* (`jobplane-<env>`): the
 * bootstrap registers the cluster Argo CD runs in under that name with a declarative cluster
 * Secret, and scopes the root Application to `<env>.yaml` so each cluster syncs only its own.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/cluster-bootstrapping/
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { parseAllDocuments } from 'yaml';

/** Files under `argocd/` that the bootstrap applies, in order. */
export const BOOTSTRAP_FILES = ['appproject.yaml', 'root-application.yaml'] as const;
/** Folder (in Git) holding one Application per environment. */
export const APPS_PATH = 'argocd/apps';
/** AppProject every Jobplane Application belongs to. */
export const APP_PROJECT = 'jobplane';

/** `argocd/` at the repository root (same relative location from `src/` and `dist/`). */
export const DEFAULT_ARGOCD_DIR = fileURLToPath(new URL('../../argocd/', import.meta.url));

export interface ArgoObject {
  apiVersion: string;
  kind: 'AppProject' | 'Application';
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec: Record<string, unknown>;
  [k: string]: unknown;
}

interface AppSource {
  repoURL?: unknown;
  path?: unknown;
  targetRevision?: unknown;
}

/** The single `spec.source` of an Application (multi-source apps are not used by Jobplane). */
export function appSource(app: ArgoObject): AppSource {
  const source = app.spec['source'];
  if (typeof source !== 'object' || source === null) {
    throw new Error(`Application '${app.metadata.name}' has no spec.source`);
  }
  return source as AppSource;
}

/** Parses a YAML file of Argo CD objects, rejecting anything that is not an AppProject/Application. */
export function parseArgoObjects(text: string, file: string): ArgoObject[] {
  const objects: ArgoObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as unknown;
    if (obj === null || obj === undefined) continue;
    const o = obj as Partial<ArgoObject>;
    if (o.apiVersion !== 'argoproj.io/v1alpha1' || (o.kind !== 'AppProject' && o.kind !== 'Application')) {
      throw new Error(
        `${file}: expected argoproj.io/v1alpha1 AppProject or Application, got ${o.apiVersion}/${o.kind}`,
      );
    }
    if (typeof o.metadata?.name !== 'string' || typeof o.spec !== 'object' || o.spec === null) {
      throw new Error(`${file}: ${o.kind} without metadata.name or spec`);
    }
    objects.push(o as ArgoObject);
  }
  return objects;
}

/**
 * Checks the bootstrap objects against the GitOps contract: the AppProject exists, and the root
 * Application belongs to it and points at `argocd/apps` in the expected repository.
 */
export function checkBootstrapObjects(objects: readonly ArgoObject[], repoURL: string): void {
  const project = objects.find((o) => o.kind === 'AppProject' && o.metadata.name === APP_PROJECT);
  if (!project) throw new Error(`argocd/: no AppProject '${APP_PROJECT}'`);
  const apps = objects.filter((o) => o.kind === 'Application');
  if (apps.length !== 1)
    throw new Error(`argocd/: expected exactly one root Application, found ${apps.length}`);
  const root = apps[0]!;
  const source = appSource(root);
  if (source.repoURL !== repoURL) {
    throw new Error(
      `root Application '${root.metadata.name}' repoURL (${String(source.repoURL)}) must be ${repoURL}`,
    );
  }
  if (String(source.path).replace(/\/$/, '') !== APPS_PATH) {
    throw new Error(
      `root Application '${root.metadata.name}' path (${String(source.path)}) must be ${APPS_PATH}`,
    );
  }
  if (root.spec['project'] !== APP_PROJECT) {
    throw new Error(
      `root Application '${root.metadata.name}' project (${String(root.spec['project'])}) must be ${APP_PROJECT}`,
    );
  }
}

/**
 * The root Application as applied to one environment's cluster: `argocd/apps/` holds one
 * Application per environment, and a cluster must sync only its own (`<env>.yaml`), or the dev
 * cluster would also deploy staging and prod. Everything else stays as synthesized.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/directory/#including-file
 */
export function scopeRootToEnvironment(root: ArgoObject, environment: string): ArgoObject {
  const source = appSource(root);
  const directory = (source as { directory?: Record<string, unknown> }).directory ?? {};
  return {
    ...root,
    spec: {
      ...root.spec,
      source: { ...source, directory: { ...directory, include: `${environment}.yaml` } },
    },
  };
}

/** In-cluster API server URL as Argo CD names it. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/**
 * Reads `argocd/apps/<env>.yaml` and returns the Argo CD cluster *name* its destination uses
 * (undefined when it targets the in-cluster server URL). The constructs name each environment's
 * destination (`jobplane-<env>`) and expect every cluster's Argo CD to register itself under its
 * environment's name.
 */
export function environmentDestination(
  dir: string,
  environment: string,
  repoURL: string,
): string | undefined {
  const file = `argocd/apps/${environment}.yaml`;
  let text: string;
  try {
    text = readFileSync(join(dir, 'apps', `${environment}.yaml`), 'utf8');
  } catch (err) {
    throw new Error(`GitOps bootstrap: cannot read ${file} (run 'make synth'): ${String(err)}`);
  }
  const apps = parseArgoObjects(text, file).filter((o) => o.kind === 'Application');
  if (apps.length !== 1) throw new Error(`${file}: expected one Application, found ${apps.length}`);
  const app = apps[0]!;
  const source = appSource(app);
  if (source.repoURL !== repoURL || String(source.path).replace(/\/$/, '') !== `charts-out/${environment}`) {
    throw new Error(
      `${file}: must sync charts-out/${environment} from ${repoURL}, not ${String(source.path)} from ${String(source.repoURL)}`,
    );
  }
  const destination = (app.spec['destination'] ?? {}) as { name?: unknown; server?: unknown };
  if (typeof destination.name === 'string' && destination.name !== '') return destination.name;
  if (destination.server === IN_CLUSTER_SERVER) return undefined;
  throw new Error(`${file}: destination must be a cluster name or ${IN_CLUSTER_SERVER}`);
}

/**
 * Argo CD declarative cluster Secret registering the cluster Argo CD runs in under `name`
 * (no credentials: Argo CD uses its in-cluster service account for this server URL).
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#clusters
 */
export function inClusterSecretData(name: string): Record<string, string> {
  return {
    name,
    server: IN_CLUSTER_SERVER,
    config: JSON.stringify({ tlsClientConfig: { insecure: false } }),
  };
}

/** Reads and checks the bootstrap objects from an `argocd/` folder. */
export function loadBootstrapObjects(dir: string, repoURL: string): ArgoObject[] {
  const objects = BOOTSTRAP_FILES.flatMap((f) => {
    const file = join(dir, f);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(
        `GitOps bootstrap: cannot read ${f} from the argocd/ folder (run 'make synth'): ${String(err)}`,
      );
    }
    return parseArgoObjects(text, `argocd/${f}`);
  });
  checkBootstrapObjects(objects, repoURL);
  return objects;
}

export interface GitOpsBootstrapProps {
  /** Folder holding the synthesized Argo CD objects. @default the repository's `argocd/` */
  readonly argocdDir?: string;
  /** Environment of this cluster: the root Application syncs only `argocd/apps/<environment>.yaml`. */
  readonly environment: string;
  /** Repository the root Application must point at. */
  readonly repoURL: string;
  /** Namespace Argo CD runs in (objects without a namespace go there). */
  readonly argocdNamespace: string;
  /** The Argo CD Helm release: its CRDs must exist before these objects are applied. */
  readonly argocdRelease: pulumi.Resource;
}

export class GitOpsBootstrap extends pulumi.ComponentResource {
  readonly objects: readonly ArgoObject[];
  readonly resources: readonly k8s.apiextensions.CustomResource[];
  /** Argo CD cluster name this cluster is registered under (from `argocd/apps/<env>.yaml`). */
  readonly clusterName?: string;
  /** Name of the root Application. */
  readonly rootApplication: string;

  constructor(name: string, props: GitOpsBootstrapProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:gitops:GitOpsBootstrap', name, {}, opts);
    const dir = props.argocdDir ?? DEFAULT_ARGOCD_DIR;
    this.objects = loadBootstrapObjects(dir, props.repoURL).map((o) =>
      o.kind === 'Application' ? scopeRootToEnvironment(o, props.environment) : o,
    );
    const clusterName = environmentDestination(dir, props.environment, props.repoURL);
    const cluster = clusterName
      ? new k8s.core.v1.Secret(
          `${name}-cluster`,
          {
            metadata: {
              name: `cluster-${clusterName}`,
              namespace: props.argocdNamespace,
              labels: {
                'argocd.argoproj.io/secret-type': 'cluster',
                'app.kubernetes.io/part-of': 'jobplane',
              },
            },
            type: 'Opaque',
            stringData: inClusterSecretData(clusterName),
          },
          { parent: this, dependsOn: [props.argocdRelease] },
        )
      : undefined;
    const resources: k8s.apiextensions.CustomResource[] = [];
    // AppProject first: an Application whose project does not exist yet is rejected by Argo CD.
    const ordered = [...this.objects].sort((a, b) =>
      a.kind === b.kind ? 0 : a.kind === 'AppProject' ? -1 : 1,
    );
    for (const obj of ordered) {
      const { apiVersion, kind, metadata, ...rest } = obj;
      const annotations = {
        ...(metadata['annotations'] as Record<string, string> | undefined),
        // Argo CD creates its `default` AppProject itself at start-up; take ownership of the fields
        // the synthesized (locked-down) version sets instead of failing on a field-manager conflict.
        'pulumi.com/patchForce': 'true',
      };
      resources.push(
        new k8s.apiextensions.CustomResource(
          `${name}-${kind.toLowerCase()}-${metadata.name}`,
          {
            apiVersion,
            kind,
            ...rest,
            metadata: { ...metadata, annotations, namespace: metadata.namespace ?? props.argocdNamespace },
          },
          {
            parent: this,
            dependsOn: [
              props.argocdRelease,
              ...(cluster && kind === 'Application' ? [cluster] : []),
              ...resources,
            ],
          },
        ),
      );
    }
    this.resources = resources;
    this.rootApplication = this.objects.find((o) => o.kind === 'Application')!.metadata.name;
    if (clusterName) this.clusterName = clusterName;
    this.registerOutputs({ rootApplication: this.rootApplication, clusterName });
  }
}
