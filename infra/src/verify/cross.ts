/**
 * Checks across objects: monitors against the Services/pods they scrape, one scaler per target
 * and no replica count under a scaler, PriorityClasses (present, ordered), spread and affinity
 * terms that select their own pod, zone spread where configured, Ingress backends, what the
 * stacks own (OWN1) and sync-wave order (SYNC-order).
 */
import { CLUSTER_ISSUER_ANNOTATION } from '../api-ingress.js';
import { RUNTIME_POD_LABEL, ZONE_TOPOLOGY_KEY } from '../lib/pod.js';
import type { ExternalRefs } from './references.js';
import type { Finding, Json, Manifest, PodTemplateRef } from './types.js';
import { allContainers, arr, obj, podTemplates, ref, selects } from './types.js';

type Add = (rule: string, o: Manifest, message: string) => void;

export interface CrossOptions {
  readonly external: ExternalRefs;
  /** Zone spread the environment asks for (X-zone-spread). @default not checked */
  readonly zoneSpread?: 'DoNotSchedule' | 'ScheduleAnyway';
}

const component = (t: PodTemplateRef) => t.labels['app.kubernetes.io/component'];

export function checkCross(objects: readonly Manifest[], options: CrossOptions): Finding[] {
  const findings: Finding[] = [];
  const add: Add = (rule, o, message) => findings.push({ rule, object: ref(o), message });
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const templates = objects.flatMap(podTemplates);
  const external = options.external;

  // X-monitor-port: ServiceMonitor endpoints name a port of a Service they select.
  for (const sm of byKind('ServiceMonitor')) {
    const spec = obj(sm['spec']);
    const nsSel = obj(spec['namespaceSelector']);
    const namespaces =
      nsSel['any'] === true
        ? undefined
        : ((nsSel['matchNames'] as string[] | undefined) ?? [sm.metadata.namespace]);
    const services = byKind('Service').filter(
      (s) =>
        (namespaces === undefined || namespaces.includes(String(s.metadata.namespace))) &&
        selects(obj(spec['selector']), s.metadata.labels ?? {}),
    );
    for (const ep of arr(spec['endpoints'])) {
      const port = ep['port'];
      if (typeof port !== 'string') continue;
      if (!services.some((s) => arr(obj(s['spec'])['ports']).some((p) => p['name'] === port)))
        add(
          'X-monitor-port',
          sm,
          `ServiceMonitor port '${port}' is not a port of any Service it selects (${services.map(ref).join(', ') || 'none'})`,
        );
    }
  }
  for (const pm of byKind('PodMonitor')) {
    const spec = obj(pm['spec']);
    const pods = templates.filter(
      (t) => t.owner.metadata.namespace === pm.metadata.namespace && selects(obj(spec['selector']), t.labels),
    );
    for (const ep of arr(spec['podMetricsEndpoints'])) {
      const port = ep['port'];
      if (typeof port !== 'string') continue;
      const has = pods.some((t) =>
        allContainers(t.spec).some((c) => arr(c['ports']).some((p) => p['name'] === port)),
      );
      if (!has)
        add('X-monitor-port', pm, `PodMonitor port '${port}' is not a container port of any pod it selects`);
    }
  }

  // X-scalers / X-replicas: one scaler per target, and the scaler owns the replica count.
  const scalers = new Map<string, Manifest[]>();
  for (const s of [...byKind('HorizontalPodAutoscaler'), ...byKind('ScaledObject')]) {
    const target = obj(obj(s['spec'])['scaleTargetRef']);
    const key = `${s.metadata.namespace}/${String(target['kind'] ?? 'Deployment')}/${String(target['name'])}`;
    scalers.set(key, [...(scalers.get(key) ?? []), s]);
  }
  for (const [key, list] of scalers) {
    if (list.length > 1) add('X-scalers', list[1]!, `${key} is scaled by ${list.map(ref).join(' and ')}`);
  }
  for (const o of [...byKind('Deployment'), ...byKind('StatefulSet')]) {
    const list = scalers.get(`${o.metadata.namespace}/${o.kind}/${o.metadata.name}`);
    if (list && obj(o['spec'])['replicas'] !== undefined)
      add('X-replicas', o, `spec.replicas is set, but ${ref(list[0]!)} owns the replica count`);
  }

  // X-priority / X-priority-order.
  const priorities = new Map(byKind('PriorityClass').map((p) => [p.metadata.name, Number(p['value'])]));
  const priorityOf = (t: PodTemplateRef) => priorities.get(String(t.spec['priorityClassName']));
  for (const t of templates) {
    const name = t.spec['priorityClassName'];
    if (typeof name !== 'string') add('X-priority', t.owner, `${t.path}: no priorityClassName`);
    else if (!priorities.has(name) && !(external.priorityClasses ?? []).includes(name))
      add('X-priority', t.owner, `${t.path}: priorityClassName '${name}' is not a synthesized PriorityClass`);
  }
  const tiers: [string, (t: PodTemplateRef) => boolean][] = [
    ['api/relay', (t) => ['api', 'relay'].includes(String(component(t))) && t.owner.kind === 'Deployment'],
    ['workers', (t) => component(t) === 'worker' && t.owner.kind === 'Deployment'],
    ['isolated Jobs', (t) => t.owner.kind === 'ScaledJob'],
  ];
  for (let i = 0; i + 1 < tiers.length; i++) {
    const [hiName, hi] = tiers[i]!;
    const [loName, lo] = tiers[i + 1]!;
    for (const a of templates.filter(hi)) {
      for (const b of templates.filter(lo)) {
        const pa = priorityOf(a);
        const pb = priorityOf(b);
        if (pa !== undefined && pb !== undefined && pa <= pb)
          add(
            'X-priority-order',
            b.owner,
            `${hiName} ${ref(a.owner)} (${pa}) must have a higher priority than ${loName} ${ref(b.owner)} (${pb})`,
          );
      }
    }
  }

  // X-spread: spread constraints and affinity terms select their own pod.
  for (const t of templates) {
    for (const [i, c] of arr(t.spec['topologySpreadConstraints']).entries()) {
      if (!selects(obj(c['labelSelector']), t.labels))
        add(
          'X-spread',
          t.owner,
          `${t.path}: topologySpreadConstraints[${i}] (${String(c['topologyKey'])}) does not select the pod it is on`,
        );
    }
    const anti = obj(obj(t.spec['affinity'])['podAntiAffinity']);
    for (const [i, w] of arr(anti['preferredDuringSchedulingIgnoredDuringExecution']).entries()) {
      if (!selects(obj(obj(w['podAffinityTerm'])['labelSelector']), t.labels))
        add(
          'X-spread',
          t.owner,
          `${t.path}: podAntiAffinity preferred[${i}] does not select the pod it is on`,
        );
    }
  }
  if (options.zoneSpread !== undefined) {
    for (const t of templates) {
      if (t.owner.kind !== 'Deployment' || !['api', 'relay', 'worker'].includes(String(component(t))))
        continue;
      const zone = arr(t.spec['topologySpreadConstraints']).find(
        (c) => c['topologyKey'] === ZONE_TOPOLOGY_KEY,
      );
      if (!zone)
        add('X-zone-spread', t.owner, `${t.path}: no topologySpreadConstraint on ${ZONE_TOPOLOGY_KEY}`);
    }
  }

  // REF-ingress.
  for (const ing of byKind('Ingress')) {
    const spec = obj(ing['spec']);
    if (typeof spec['ingressClassName'] !== 'string') add('REF-ingress', ing, 'spec.ingressClassName unset');
    const tls = arr(spec['tls']);
    if (tls.length > 0 && !ing.metadata.annotations?.[CLUSTER_ISSUER_ANNOTATION])
      add(
        'REF-ingress',
        ing,
        `TLS without a ${CLUSTER_ISSUER_ANNOTATION} annotation: nothing issues the certificate`,
      );
    const hosts = new Set(arr(spec['rules']).map((r) => String(r['host'])));
    for (const entry of tls)
      for (const h of (entry['hosts'] as string[] | undefined) ?? [])
        if (!hosts.has(h)) add('REF-ingress', ing, `TLS host '${h}' has no rule`);
    for (const r of arr(spec['rules'])) {
      for (const p of arr(obj(r['http'])['paths'])) {
        const backend = obj(obj(p['backend'])['service']);
        const port = obj(backend['port']);
        const svc = objects.find(
          (s) =>
            s.kind === 'Service' &&
            s.metadata.namespace === ing.metadata.namespace &&
            s.metadata.name === backend['name'],
        );
        if (!svc) {
          add('REF-ingress', ing, `backend Service '${String(backend['name'])}' does not exist`);
          continue;
        }
        const ok = arr(obj(svc['spec'])['ports']).some((sp) =>
          port['name'] !== undefined ? sp['name'] === port['name'] : sp['port'] === port['number'],
        );
        if (!ok)
          add(
            'REF-ingress',
            ing,
            `backend Service ${String(backend['name'])} has no port ${JSON.stringify(port)}`,
          );
      }
    }
  }

  // OWN1: nothing the stacks own is synthesized.
  for (const o of objects) {
    if (o.kind === 'Namespace' && (external.namespaces ?? []).includes(o.metadata.name))
      add(
        'OWN1',
        o,
        `Namespace '${o.metadata.name}' is owned by the stacks and must not be synthesized (Argo CD would prune it with its Secrets)`,
      );
    if (o.kind === 'Secret' && (external.secrets ?? []).includes(o.metadata.name))
      add('OWN1', o, `Secret '${o.metadata.name}' is owned by the stacks and must not be synthesized`);
  }

  findings.push(...checkSyncOrder(objects));
  return findings;
}

const WAVE = 'argocd.argoproj.io/sync-wave';
const waveOf = (o: Manifest): number | undefined => {
  const w = o.metadata.annotations?.[WAVE];
  return w === undefined ? undefined : Number(w);
};

/**
 * Argo CD's order of kinds inside one wave (gitops-engine `kindOrder`, Helm's install order);
 * every other kind (custom resources, PriorityClass) comes after all of these.
 * @see https://github.com/argoproj/gitops-engine/blob/master/pkg/sync/sync_tasks.go
 */
const KIND_ORDER = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
];
const kindRank = (kind: string) => {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
};

/**
 * SYNC-order: every dependency of an object is applied before it: in an earlier wave, or in the
 * same wave with a kind Argo CD applies first (a PriorityClass, applied after every built-in
 * kind of its wave, must come a wave earlier than its pods). Argo CD applies a wave, waits for it
 * to be healthy, then goes on, so a pod whose PriorityClass, ServiceAccount, ConfigMap or
 * namespace quota comes later is rejected or admitted without the LimitRange defaults.
 */
function checkSyncOrder(objects: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  const find = (kind: string, ns: string | undefined, name: string) =>
    objects.find(
      (o) => o.kind === kind && o.metadata.name === name && (ns === undefined || o.metadata.namespace === ns),
    );
  const before = (o: Manifest, dep: Manifest | undefined, why: string) => {
    if (!dep) return;
    const a = waveOf(o);
    const b = waveOf(dep);
    if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)) return;
    if (b > a || (b === a && kindRank(dep.kind) >= kindRank(o.kind)))
      findings.push({
        rule: 'SYNC-order',
        object: ref(o),
        message: `sync wave ${a} does not apply after ${ref(dep)} (wave ${b}${b === a ? `, and Argo CD applies ${dep.kind} after ${o.kind} within a wave` : ''}) it depends on (${why})`,
      });
  };
  for (const o of objects) {
    const ns = o.metadata.namespace;
    for (const t of podTemplates(o)) {
      const spec = t.spec;
      if (typeof spec['priorityClassName'] === 'string')
        before(o, find('PriorityClass', undefined, spec['priorityClassName']), 'priorityClassName');
      if (typeof spec['serviceAccountName'] === 'string')
        before(o, find('ServiceAccount', ns, spec['serviceAccountName']), 'serviceAccountName');
      for (const v of arr(spec['volumes'])) {
        const cm = obj(v['configMap'])['name'];
        if (typeof cm === 'string') before(o, find('ConfigMap', ns, cm), `volume '${String(v['name'])}'`);
        const sec = obj(v['secret'])['secretName'];
        if (typeof sec === 'string') before(o, find('Secret', ns, sec), `volume '${String(v['name'])}'`);
      }
      for (const q of objects.filter(
        (x) => (x.kind === 'ResourceQuota' || x.kind === 'LimitRange') && x.metadata.namespace === ns,
      ))
        before(o, q, `${q.kind} of its namespace`);
      for (const np of objects.filter(
        (x) =>
          x.kind === 'NetworkPolicy' && x.metadata.namespace === ns && x.metadata.name === 'default-deny',
      ))
        before(o, np, 'default-deny NetworkPolicy');
    }
    if (o.kind === 'RoleBinding') {
      const role = obj(o['roleRef']);
      before(o, find(String(role['kind']), ns, String(role['name'])), 'roleRef');
    }
    if (o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject') {
      const target = obj(obj(o['spec'])['scaleTargetRef']);
      before(o, find(String(target['kind'] ?? 'Deployment'), ns, String(target['name'])), 'scaleTargetRef');
    }
    if (o.kind === 'Job' && o.metadata.annotations?.['argocd.argoproj.io/hook'] !== undefined) {
      // Migrations run after the in-cluster data stores they migrate.
      for (const s of objects.filter((x) => x.kind === 'StatefulSet' && x.metadata.namespace === ns))
        before(o, s, 'data store');
    }
    if (podTemplates(o).some((t) => t.labels[RUNTIME_POD_LABEL] === 'true') && o.kind !== 'Job') {
      for (const j of objects.filter(
        (x) =>
          x.kind === 'Job' &&
          x.metadata.namespace !== undefined &&
          x.metadata.annotations?.['argocd.argoproj.io/hook'] !== undefined,
      ))
        before(o, j, 'migrations hook');
    }
  }
  return findings;
}

/** A PodTemplateRef's requests: containers summed, init containers as the maximum (what the scheduler counts). */
export function podRequests(
  spec: Json,
  parse: (q: unknown) => number | undefined,
): { cpu: number; memory: number } {
  const of = (c: Json, r: string) => parse(obj(obj(c['resources'])['requests'])[r]) ?? 0;
  const main = { cpu: 0, memory: 0 };
  for (const c of arr(spec['containers'])) {
    main.cpu += of(c, 'cpu');
    main.memory += of(c, 'memory');
  }
  for (const c of arr(spec['initContainers'])) {
    main.cpu = Math.max(main.cpu, of(c, 'cpu'));
    main.memory = Math.max(main.memory, of(c, 'memory'));
  }
  return main;
}
