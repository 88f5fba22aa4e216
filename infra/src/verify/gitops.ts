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
      if (!(w['group'] === '' && w['kind'] === 'Namespace'))
        add(
          p,
          `clusterResourceWhitelist may only hold {group: '', kind: Namespace} (got ${JSON.stringify(w)})`,
        );
    }
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
