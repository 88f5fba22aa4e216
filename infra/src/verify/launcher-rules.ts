/**
 * Verifier rules of the container launcher (docs/container-jobs.md):
 * - LR1: a launcher's ServiceAccount is bound only by RoleBindings in other namespaces (the jobs
 *   namespace), to Roles granting exactly the launcher's rules (no wildcard, nothing more);
 * - LR2: a NetworkPolicy in the launcher's namespace selects its pods and allows egress to the API
 *   server (an ipBlock on TCP 443 or 6443).
 */
import { LAUNCHER_RULES } from '../launcher.js';
import type { Finding, Manifest } from './types.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function launcherDeployments(objects: readonly Manifest[]): Manifest[] {
  return objects.filter((o) => {
    if (o.kind !== 'Deployment') return false;
    const spec = obj(obj(obj(o['spec'])['template'])['spec']);
    return arr(spec['containers']).some((c) => arr(obj(c)['args'])[0] === 'launcher');
  });
}

const allowed = new Map(LAUNCHER_RULES.map((r) => [`${r.apiGroup}/${r.resource}`, new Set(r.verbs)]));

export function checkLauncher(objects: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, o: Manifest, message: string) =>
    findings.push({ rule, object: `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, message });
  for (const d of launcherDeployments(objects)) {
    const ns = d.metadata.namespace;
    const podSpec = obj(obj(obj(d['spec'])['template'])['spec']);
    const sa = String(podSpec['serviceAccountName'] ?? 'default');
    const bindings = objects.filter(
      (o) =>
        (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') &&
        arr(o['subjects']).some(
          (s) => obj(s)['kind'] === 'ServiceAccount' && obj(s)['name'] === sa && obj(s)['namespace'] === ns,
        ),
    );
    if (bindings.length === 0)
      add('LR1', d, `ServiceAccount '${sa}' has no RoleBinding in the jobs namespace`);
    for (const b of bindings) {
      if (b.kind === 'ClusterRoleBinding' || b.metadata.namespace === ns) {
        add(
          'LR1',
          b,
          `the launcher may act in the jobs namespace only (binding in '${b.metadata.namespace ?? 'cluster'}')`,
        );
        continue;
      }
      const ref = obj(b['roleRef']);
      const role = objects.find(
        (o) =>
          o.kind === 'Role' &&
          o.metadata.namespace === b.metadata.namespace &&
          o.metadata.name === ref['name'],
      );
      if (!role) continue; // the references check reports a dangling roleRef
      for (const r of arr(role['rules'])) {
        const rule = obj(r);
        for (const group of arr(rule['apiGroups']) as string[]) {
          for (const res of arr(rule['resources']) as string[]) {
            const ok = allowed.get(`${group}/${res}`);
            const extra = (arr(rule['verbs']) as string[]).filter((v) => !ok?.has(v));
            if (!ok || extra.length > 0) {
              add(
                'LR1',
                role,
                `grants ${extra.join(', ') || 'access'} on '${group}/${res}' beyond the launcher's rules`,
              );
            }
          }
        }
      }
    }
    const labels = obj(obj(obj(obj(d['spec'])['template'])['metadata'])['labels']);
    const egress = objects.some((p) => {
      if (p.kind !== 'NetworkPolicy' || p.metadata.namespace !== ns) return false;
      const sel = obj(obj(obj(p['spec'])['podSelector'])['matchLabels']);
      if (!Object.entries(sel).every(([k, v]) => labels[k] === v) || Object.keys(sel).length === 0)
        return false;
      return arr(obj(p['spec'])['egress']).some((e) => {
        const rule = obj(e);
        const ipBlock = arr(rule['to']).some((t) => obj(t)['ipBlock'] !== undefined);
        const port = arr(rule['ports']).some((x) => [443, 6443].includes(Number(obj(x)['port'])));
        return ipBlock && port;
      });
    });
    if (!egress)
      add('LR2', d, 'no NetworkPolicy allows its pods egress to the API server (ipBlock on TCP 443/6443)');
  }
  return findings;
}
