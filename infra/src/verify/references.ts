/**
 * Cross-references: Service selectors and ports (K6, dangling-service, invalid-target-ports),
 * workload selectors (mismatching-selector), PDB/HPA/ScaledObject targets, ConfigMap/Secret/
 * ServiceAccount references (K7), RoleBinding roles and subjects, namespaces, probe ports,
 * and NetworkPolicy coverage of every workload (N1).
 */
import type { Finding, Json, Manifest, PodTemplateRef } from './types.js';
import { allContainers, arr, obj, podTemplates, ref, selects } from './types.js';

export interface ExternalRefs {
  /** Secrets created out of band (never in Git): names, any namespace. */
  readonly secrets?: readonly string[];
  readonly configMaps?: readonly string[];
  readonly serviceAccounts?: readonly string[];
  /** Namespaces that exist without being synthesized (the stacks' platform namespaces, `argocd`). */
  readonly namespaces?: readonly string[];
  /** PriorityClasses that exist without being synthesized. */
  readonly priorityClasses?: readonly string[];
}

export const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass']);

function containerPorts(spec: Json): { names: Set<string>; numbers: Set<number> } {
  const names = new Set<string>();
  const numbers = new Set<number>();
  for (const c of allContainers(spec)) {
    for (const p of arr(c['ports'])) {
      if (typeof p['name'] === 'string') names.add(p['name']);
      if (typeof p['containerPort'] === 'number') numbers.add(p['containerPort']);
    }
  }
  return { names, numbers };
}

function portExists(port: unknown, ports: { names: Set<string>; numbers: Set<number> }): boolean {
  return typeof port === 'number'
    ? ports.numbers.has(port)
    : typeof port === 'string'
      ? ports.names.has(port)
      : false;
}

export function checkReferences(objects: readonly Manifest[], external: ExternalRefs = {}): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, o: Manifest, message: string) =>
    findings.push({ rule, object: ref(o), message });
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const exists = (kind: string, ns: string | undefined, name: string) =>
    objects.some(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        (CLUSTER_SCOPED.has(kind) || o.metadata.namespace === ns),
    );
  const templates: PodTemplateRef[] = objects.flatMap(podTemplates);
  const nsOf = (t: PodTemplateRef) => t.owner.metadata.namespace;

  // Namespaces of namespaced objects are declared (or external).
  for (const o of objects) {
    if (CLUSTER_SCOPED.has(o.kind)) continue;
    const ns = o.metadata.namespace;
    if (!ns) add('REF-namespace', o, 'namespaced object without metadata.namespace');
    else if (!exists('Namespace', undefined, ns) && !(external.namespaces ?? []).includes(ns)) {
      add('REF-namespace', o, `namespace '${ns}' is neither synthesized nor declared external`);
    }
  }

  // Workload selectors match their own template (mismatching-selector).
  for (const o of objects) {
    if (!['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(o.kind)) continue;
    const [t] = podTemplates(o);
    if (!selects(obj(obj(o['spec'])['selector']), t!.labels))
      add('K6-selector', o, `spec.selector does not match the pod template labels`);
    if (o.kind === 'StatefulSet') {
      const svc = obj(o['spec'])['serviceName'];
      if (typeof svc === 'string' && !exists('Service', o.metadata.namespace, svc))
        add('REF-service', o, `serviceName '${svc}' does not exist`);
    }
  }

  // Services select pods and their target ports exist (dangling-service, invalid-target-ports).
  for (const s of byKind('Service')) {
    const spec = obj(s['spec']);
    if (spec['type'] === 'ExternalName') continue;
    const selector = obj(spec['selector']);
    const matched = templates.filter((t) => nsOf(t) === s.metadata.namespace && selects(selector, t.labels));
    if (matched.length === 0) {
      add(
        'K6-service',
        s,
        `selector ${JSON.stringify(selector)} matches no pod template in '${s.metadata.namespace}'`,
      );
      continue;
    }
    for (const p of arr(spec['ports'])) {
      const target = p['targetPort'] ?? p['port'];
      for (const t of matched) {
        if (!portExists(target, containerPorts(t.spec))) {
          add(
            'K6-target-port',
            s,
            `targetPort ${JSON.stringify(target)} is not a container port of ${ref(t.owner)}`,
          );
        }
      }
    }
  }

  // PDBs select a workload.
  for (const pdb of byKind('PodDisruptionBudget')) {
    const sel = obj(obj(pdb['spec'])['selector']);
    if (!templates.some((t) => nsOf(t) === pdb.metadata.namespace && selects(sel, t.labels))) {
      add('REF-pdb', pdb, `selector ${JSON.stringify(sel)} matches no workload`);
    }
  }

  // Scale targets exist.
  for (const o of [...byKind('HorizontalPodAutoscaler'), ...byKind('ScaledObject')]) {
    const target = obj(obj(o['spec'])['scaleTargetRef']);
    const kind = (target['kind'] as string | undefined) ?? 'Deployment';
    if (!exists(kind, o.metadata.namespace, String(target['name']))) {
      add('REF-scale-target', o, `scaleTargetRef ${kind}/${String(target['name'])} does not exist`);
    }
  }

  // Pod-level references and probe ports.
  for (const t of templates) {
    const ns = nsOf(t);
    const o = t.owner;
    if ('serviceAccount' in t.spec) add('K7', o, `${t.path}: deprecated field serviceAccount`);
    const sa = (t.spec['serviceAccountName'] as string | undefined) ?? 'default';
    if (!exists('ServiceAccount', ns, sa) && !(external.serviceAccounts ?? []).includes(sa)) {
      add('K7', o, `${t.path}: serviceAccountName '${sa}' does not exist`);
    }
    const secretOk = (name: unknown) =>
      exists('Secret', ns, String(name)) || (external.secrets ?? []).includes(String(name));
    const cmOk = (name: unknown) =>
      exists('ConfigMap', ns, String(name)) || (external.configMaps ?? []).includes(String(name));
    const volumes = arr(t.spec['volumes']);
    const volumeNames = new Set(volumes.map((v) => String(v['name'])));
    for (const v of volumes) {
      const cm = obj(v['configMap']);
      if (cm['name'] !== undefined && !cmOk(cm['name']))
        add(
          'REF-configmap',
          o,
          `volume '${String(v['name'])}': ConfigMap '${String(cm['name'])}' does not exist`,
        );
      const sec = obj(v['secret']);
      if (sec['secretName'] !== undefined && !secretOk(sec['secretName'])) {
        add(
          'REF-secret',
          o,
          `volume '${String(v['name'])}': Secret '${String(sec['secretName'])}' is not declared external`,
        );
      }
      for (const [i, source] of arr(obj(v['projected'])['sources']).entries()) {
        const ps = obj(source['secret']);
        if (ps['name'] !== undefined && ps['optional'] !== true && !secretOk(ps['name']))
          add(
            'REF-secret',
            o,
            `projected volume '${String(v['name'])}' source ${i}: Secret '${String(ps['name'])}' is not declared external`,
          );
        const pc = obj(source['configMap']);
        if (pc['name'] !== undefined && pc['optional'] !== true && !cmOk(pc['name']))
          add(
            'REF-configmap',
            o,
            `projected volume '${String(v['name'])}' source ${i}: ConfigMap '${String(pc['name'])}' does not exist`,
          );
      }
    }
    for (const c of allContainers(t.spec)) {
      const cname = String(c['name']);
      for (const e of arr(c['env'])) {
        const from = obj(e['valueFrom']);
        const sk = obj(from['secretKeyRef']);
        if (sk['name'] !== undefined && !secretOk(sk['name']))
          add(
            'REF-secret',
            o,
            `${cname}: env ${String(e['name'])} references Secret '${String(sk['name'])}', not declared external`,
          );
        const ck = obj(from['configMapKeyRef']);
        if (ck['name'] !== undefined && !cmOk(ck['name']))
          add(
            'REF-configmap',
            o,
            `${cname}: env ${String(e['name'])} references ConfigMap '${String(ck['name'])}'`,
          );
      }
      for (const e of arr(c['envFrom'])) {
        const sr = obj(e['secretRef']);
        if (sr['name'] !== undefined && !secretOk(sr['name']))
          add('REF-secret', o, `${cname}: envFrom Secret '${String(sr['name'])}' not declared external`);
        const cr = obj(e['configMapRef']);
        if (cr['name'] !== undefined && !cmOk(cr['name']))
          add('REF-configmap', o, `${cname}: envFrom ConfigMap '${String(cr['name'])}' does not exist`);
      }
      for (const m of arr(c['volumeMounts'])) {
        if (!volumeNames.has(String(m['name'])))
          add('REF-volume', o, `${cname}: volumeMount '${String(m['name'])}' has no volume`);
      }
      const ports = containerPorts({ containers: [c] });
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const p = obj(c[probe]);
        const port = obj(p['httpGet'])['port'] ?? obj(p['tcpSocket'])['port'] ?? obj(p['grpc'])['port'];
        if (port !== undefined && !portExists(port, ports))
          add('K6-probe-port', o, `${cname}: ${probe} port ${JSON.stringify(port)} is not a container port`);
      }
    }
  }
  // StatefulSet volumeClaimTemplates count as volumes: re-check mounts that failed only because of them.
  for (let i = findings.length - 1; i >= 0; i--) {
    const f = findings[i]!;
    if (f.rule !== 'REF-volume') continue;
    const o = objects.find((x) => ref(x) === f.object);
    const claims = arr(obj(o?.['spec'])['volumeClaimTemplates']).map((c) =>
      String(obj(c['metadata'])['name']),
    );
    if (claims.some((c) => f.message.includes(`'${c}'`))) findings.splice(i, 1);
  }

  // RoleBindings point at existing Roles and ServiceAccounts.
  for (const rb of byKind('RoleBinding')) {
    const role = obj(rb['roleRef']);
    if (role['kind'] !== 'Role' || !exists('Role', rb.metadata.namespace, String(role['name']))) {
      add(
        'REF-role',
        rb,
        `roleRef ${String(role['kind'])}/${String(role['name'])} is not a Role in '${rb.metadata.namespace}'`,
      );
    }
    for (const s of arr(rb['subjects'])) {
      if (
        s['kind'] === 'ServiceAccount' &&
        !exists('ServiceAccount', String(s['namespace'] ?? rb.metadata.namespace), String(s['name']))
      ) {
        add(
          'REF-subject',
          rb,
          `subject ServiceAccount ${String(s['namespace'])}/${String(s['name'])} does not exist`,
        );
      }
    }
  }

  // NetworkPolicies: default deny in every namespace with workloads, and a specific allow for each workload.
  const policies = byKind('NetworkPolicy');
  for (const ns of [...new Set(templates.map(nsOf))]) {
    const inNs = policies.filter((p) => p.metadata.namespace === ns);
    const denyAll = inNs.some((p) => {
      const spec = obj(p['spec']);
      const types = (spec['policyTypes'] as string[] | undefined) ?? [];
      return (
        Object.keys(obj(spec['podSelector'])).length === 0 &&
        types.includes('Ingress') &&
        types.includes('Egress') &&
        arr(spec['ingress']).length === 0 &&
        arr(spec['egress']).length === 0
      );
    });
    if (!denyAll)
      findings.push({
        rule: 'N1',
        object: `Namespace/-/${String(ns)}`,
        message: 'no default-deny NetworkPolicy (podSelector {}, Ingress+Egress, no rules)',
      });
    for (const t of templates.filter((x) => nsOf(x) === ns)) {
      const covered = inNs.some((p) => {
        const sel = obj(obj(p['spec'])['podSelector']);
        return Object.keys(sel).length > 0 && selects(sel, t.labels);
      });
      if (!covered)
        add('N1', t.owner, `${t.path}: no NetworkPolicy allows this workload's traffic explicitly`);
    }
  }
  return findings;
}
