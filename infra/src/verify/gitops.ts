/**
 * A1: Argo CD objects. No Application in project `default`; `default` neutered when present; the
 * Jobplane AppProject lists exact repos and destinations (no `*`), only `Namespace` as a
 * cluster-scoped kind, roles without `*`; every Application's source and destination are
 * permitted by its project.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
 */
import type { Finding, Manifest } from './types.js';
import { arr, obj, ref } from './types.js';

export function checkGitOps(objects: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  const add = (o: Manifest, message: string) => findings.push({ rule: 'A1', object: ref(o), message });
  const projects = objects.filter((o) => o.kind === 'AppProject');
  for (const p of projects) {
    const spec = obj(p['spec']);
    if (p.metadata.name === 'default') {
      const neutered =
        ((spec['sourceRepos'] as unknown[] | undefined) ?? []).length === 0 &&
        ((spec['destinations'] as unknown[] | undefined) ?? []).length === 0 &&
        arr(spec['namespaceResourceBlacklist']).some((r) => r['group'] === '*' && r['kind'] === '*');
      if (!neutered)
        add(
          p,
          "project 'default' must have no sourceRepos, no destinations and blacklist every namespaced kind",
        );
      continue;
    }
    const repos = (spec['sourceRepos'] as string[] | undefined) ?? [];
    if (repos.length === 0 || repos.some((r) => r.includes('*')))
      add(p, `sourceRepos must list exact URLs (got ${JSON.stringify(repos)})`);
    for (const d of arr(spec['destinations'])) {
      if (Object.values(d).some((v) => String(v).includes('*')))
        add(p, `destination ${JSON.stringify(d)} contains '*'`);
      if (!d['namespace']) add(p, `destination ${JSON.stringify(d)} has no namespace`);
    }
    for (const w of arr(spec['clusterResourceWhitelist'])) {
      if (!(w['group'] === 'scheduling.k8s.io' && w['kind'] === 'PriorityClass'))
        add(
          p,
          `clusterResourceWhitelist may only hold {group: scheduling.k8s.io, kind: PriorityClass}: Namespaces belong to the stacks (got ${JSON.stringify(w)})`,
        );
    }
    if (!arr(spec['namespaceResourceBlacklist']).some((b) => b['group'] === '' && b['kind'] === 'Secret'))
      add(p, 'namespaceResourceBlacklist must hold {group: "", kind: Secret}: Secrets belong to the stacks');
    for (const role of arr(spec['roles'])) {
      for (const policy of (role['policies'] as string[] | undefined) ?? [])
        if (policy.includes('*')) add(p, `role '${String(role['name'])}' policy has '*': ${policy}`);
    }
  }
  for (const app of objects.filter((o) => o.kind === 'Application')) {
    const spec = obj(app['spec']);
    const projectName = String(spec['project']);
    if (projectName === 'default') {
      add(app, "Application in project 'default'");
      continue;
    }
    const project = projects.find((p) => p.metadata.name === projectName);
    if (!project) {
      add(app, `project '${projectName}' is not synthesized`);
      continue;
    }
    const pspec = obj(project['spec']);
    const source = obj(spec['source']);
    if (!((pspec['sourceRepos'] as string[] | undefined) ?? []).includes(String(source['repoURL']))) {
      add(app, `repoURL ${String(source['repoURL'])} is not allowed by project '${projectName}'`);
    }
    const dest = obj(spec['destination']);
    const allowed = arr(pspec['destinations']).some(
      (d) =>
        d['namespace'] === dest['namespace'] &&
        (d['name'] !== undefined ? d['name'] === dest['name'] : d['server'] === dest['server']),
    );
    if (!allowed) add(app, `destination ${JSON.stringify(dest)} is not allowed by project '${projectName}'`);
    const sync = obj(spec['syncPolicy']);
    const automated = obj(sync['automated']);
    if (automated['prune'] !== true || automated['selfHeal'] !== true)
      add(app, 'automated sync must prune and self-heal');
    if (sync['retry'] === undefined) add(app, 'syncPolicy.retry unset');
  }
  return findings;
}

/** Where an environment is deployed: its charts-out folder, Argo CD cluster name and namespace. */
export interface GitOpsTarget {
  /** `charts-out/<name>`. */
  readonly name: string;
  readonly cluster: string;
  readonly namespace: string;
}

export interface ApplicationPathOptions {
  readonly environments: readonly GitOpsTarget[];
  /** Folders that exist (synthesized) relative to the repository root, e.g. `charts-out/dev`. */
  readonly folders: ReadonlySet<string>;
  /** The app-of-apps folder. @default 'argocd/apps' */
  readonly appsPath?: string;
}

/**
 * A1-path: each Application's `source.path` is an existing folder, and the folder of the
 * environment whose cluster and namespace are the destination (an Application pointing at
 * another environment's folder, or a missing one, would deploy the wrong manifests or nothing).
 */
export function checkApplicationPaths(
  objects: readonly Manifest[],
  options: ApplicationPathOptions,
): Finding[] {
  const findings: Finding[] = [];
  const appsPath = options.appsPath ?? 'argocd/apps';
  for (const app of objects.filter((o) => o.kind === 'Application')) {
    const spec = obj(app['spec']);
    const path = String(obj(spec['source'])['path']);
    const dest = obj(spec['destination']);
    const add = (message: string) => findings.push({ rule: 'A1-path', object: ref(app), message });
    if (!options.folders.has(path)) {
      add(`source path '${path}' is not a synthesized folder (${[...options.folders].sort().join(', ')})`);
      continue;
    }
    if (path === appsPath) continue;
    const env = options.environments.find((e) => `charts-out/${e.name}` === path);
    if (!env) {
      add(`source path '${path}' is not the charts-out folder of an environment`);
      continue;
    }
    if (dest['name'] !== env.cluster || dest['namespace'] !== env.namespace)
      add(
        `source path '${path}' is environment '${env.name}' (cluster ${env.cluster}, namespace ${env.namespace}), but the destination is ${JSON.stringify(dest)}`,
      );
  }
  return findings;
}
