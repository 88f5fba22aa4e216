/**
 * What the API server would reject although the upstream JSON schemas accept it: the OpenAPI
 * schemas kubernetes-models validates against carry types and required fields, not the
 * validation code of the API server. No maintained npm package exposes that code, so the rules
 * below transcribe it (names, label syntax, port ranges, one handler per probe, …) from
 * k8s.io/apimachinery/pkg/util/validation and k8s.io/kubernetes/pkg/apis/core/validation.
 * @see https://github.com/kubernetes/apimachinery/blob/master/pkg/util/validation/validation.go
 * @see https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
 */
import { parseQuantity } from '../lib/quantity.js';
import type { Finding, Json, Manifest } from './types.js';
import { allContainers, arr, obj, podTemplates, ref } from './types.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_PART = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const isDnsLabel = (s: string): boolean => s.length <= 63 && DNS_LABEL.test(s);
export const isDnsSubdomain = (s: string): boolean => s.length <= 253 && DNS_SUBDOMAIN_PART.test(s);

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 (IsQualifiedName). */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'has more than one /';
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  const prefix = parts.length === 2 ? parts[0]! : undefined;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return `prefix '${prefix}' is not a DNS subdomain`;
  if (name.length === 0 || name.length > 63) return `name part has ${name.length} characters (1..63)`;
  if (!QUALIFIED_NAME.test(name))
    return 'name part must be alphanumeric, -, _ or . and alphanumeric at both ends';
  return undefined;
}

/** A label value: at most 63 characters, alphanumeric at both ends (IsValidLabelValue). */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  if (value.length > 63) return `has ${value.length} characters (at most 63)`;
  if (!LABEL_VALUE.test(value)) return 'must be alphanumeric, -, _ or . and alphanumeric at both ends';
  return undefined;
}

/** A port name: an IANA service name (IsValidPortName). */
export function portNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 15) return `has ${name.length} characters (1..15)`;
  if (!/^[-a-z0-9]+$/.test(name)) return 'must be lower-case alphanumeric or -';
  if (!/[a-z]/.test(name)) return 'must contain a letter';
  if (name.includes('--') || name.startsWith('-') || name.endsWith('-'))
    return 'must not have -- or start or end with -';
  return undefined;
}

/** Kinds whose names must be DNS labels, not subdomains (Services: DNS names; Namespaces). */
const LABEL_NAMED_KINDS = new Set(['Namespace', 'Service']);

type Add = (rule: string, o: Manifest, message: string) => void;

function checkLabels(o: Manifest, where: string, labels: unknown, add: Add): void {
  for (const [key, value] of Object.entries(obj(labels))) {
    const k = qualifiedNameProblem(key);
    if (k) add('V1-label', o, `${where}label key '${key}' ${k}`);
    const v = labelValueProblem(value);
    if (v) add('V1-label', o, `${where}label ${key}='${String(value)}' ${v}`);
  }
}

function checkSelector(o: Manifest, where: string, selector: Json, add: Add): void {
  checkLabels(o, `${where} selector `, selector['matchLabels'], add);
  for (const e of arr(selector['matchExpressions'])) {
    const k = qualifiedNameProblem(String(e['key']));
    if (k) add('V1-label', o, `${where} selector key '${String(e['key'])}' ${k}`);
    const op = e['operator'];
    const values = Array.isArray(e['values']) ? e['values'] : [];
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(op)))
      add(
        'V1-label',
        o,
        `${where} selector operator '${String(op)}' is not In, NotIn, Exists or DoesNotExist`,
      );
    else if ((op === 'In' || op === 'NotIn') === (values.length === 0))
      add(
        'V1-label',
        o,
        `${where} selector operator ${String(op)} ${values.length === 0 ? 'needs' : 'takes no'} values`,
      );
  }
}

const PORT_MAX = 65535;
function checkPortNumber(o: Manifest, where: string, port: unknown, add: Add): void {
  if (typeof port === 'number' && (!Number.isInteger(port) || port < 1 || port > PORT_MAX))
    add('API-port', o, `${where} port ${port} is outside 1..${PORT_MAX}`);
  if (typeof port === 'string') {
    const p = portNameProblem(port);
    if (p) add('V1-name', o, `${where} port name '${port}' ${p}`);
  }
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const HOOK_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

function handlerPort(h: Json): unknown {
  return obj(h['httpGet'])['port'] ?? obj(h['tcpSocket'])['port'] ?? obj(h['grpc'])['port'];
}

function checkContainer(o: Manifest, at: string, c: Json, add: Add): void {
  const name = String(c['name']);
  if (!isDnsLabel(name)) add('V1-name', o, `${at}: container name '${name}' must be a DNS label`);
  const portNames = new Set<string>();
  for (const p of arr(c['ports'])) {
    checkPortNumber(o, `${at}: containerPort`, p['containerPort'], add);
    if (p['hostPort'] !== undefined && p['hostPort'] !== 0)
      checkPortNumber(o, `${at}: hostPort`, p['hostPort'], add);
    if (typeof p['name'] === 'string') {
      const problem = portNameProblem(p['name']);
      if (problem) add('V1-name', o, `${at}: port name '${p['name']}' ${problem}`);
      if (portNames.has(p['name'])) add('API-port-dup', o, `${at}: duplicate port name '${p['name']}'`);
      portNames.add(p['name']);
    }
  }
  const res = obj(c['resources']);
  for (const r of ['cpu', 'memory']) {
    const req = obj(res['requests'])[r];
    const lim = obj(res['limits'])[r];
    if (req === undefined || lim === undefined) continue;
    const rq = parseQuantity(req);
    const lq = parseQuantity(lim);
    if (rq === undefined || lq === undefined)
      add('API-resources', o, `${at}: ${r} ${String(rq === undefined ? req : lim)} is not a quantity`);
    else if (rq > lq)
      add('API-resources', o, `${at}: requests.${r} (${String(req)}) is above limits.${r} (${String(lim)})`);
  }
  for (const e of arr(c['env'])) {
    const en = String(e['name']);
    if (e['value'] !== undefined && e['valueFrom'] !== undefined)
      add('API-env', o, `${at}: env ${en} sets both value and valueFrom`);
    if (e['valueFrom'] !== undefined) {
      const sources = Object.keys(obj(e['valueFrom']));
      if (sources.length !== 1)
        add(
          'API-env',
          o,
          `${at}: env ${en} valueFrom has ${sources.length} sources (${sources.join(', ')}): exactly one is allowed`,
        );
    }
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (c[probe] === undefined) continue;
    const p = obj(c[probe]);
    const handlers = PROBE_HANDLERS.filter((h) => p[h] !== undefined);
    if (handlers.length !== 1)
      add(
        'API-handler',
        o,
        `${at}: ${probe} has ${handlers.length} handlers (${handlers.join(', ')}): exactly one is allowed`,
      );
    checkPortNumber(o, `${at}: ${probe}`, handlerPort(p), add);
  }
  for (const hook of ['postStart', 'preStop']) {
    const lc = obj(c['lifecycle']);
    if (lc[hook] === undefined) continue;
    const h = obj(lc[hook]);
    const handlers = HOOK_HANDLERS.filter((x) => h[x] !== undefined);
    if (handlers.length !== 1)
      add(
        'API-handler',
        o,
        `${at}: lifecycle.${hook} has ${handlers.length} handlers (${handlers.join(', ')}): exactly one is allowed`,
      );
  }
}

/** Names, labels, ports, resources, env, handlers, rollouts and scale bounds (V1-name, V1-label, V1-dup, API-*). */
export function checkApiServer(objects: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  const add: Add = (rule, o, message) => findings.push({ rule, object: ref(o), message });
  const seen = new Map<string, number>();
  for (const o of objects) {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    const key = `${group}/${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (seen.get(key) === 2) add('V1-dup', o, `duplicate object: ${ref(o)} is emitted more than once`);

    const name = String(o.metadata.name);
    const labelNamed = LABEL_NAMED_KINDS.has(o.kind);
    if (labelNamed ? !isDnsLabel(name) : !isDnsSubdomain(name)) {
      add(
        'V1-name',
        o,
        `metadata.name '${name}' (${name.length} characters) must be a DNS ${labelNamed ? 'label of at most 63' : 'subdomain of at most 253'} characters`,
      );
    }
    if (o.metadata.namespace !== undefined && !isDnsLabel(o.metadata.namespace))
      add('V1-name', o, `metadata.namespace '${o.metadata.namespace}' must be a DNS label`);
    checkLabels(o, '', o.metadata.labels, add);
    for (const key of Object.keys(obj(o.metadata.annotations))) {
      const k = qualifiedNameProblem(key);
      if (k) add('V1-label', o, `annotation key '${key}' ${k}`);
    }
    const spec = obj(o['spec']);
    if (
      ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'PodDisruptionBudget', 'Job'].includes(o.kind)
    )
      checkSelector(o, 'spec', obj(spec['selector']), add);
    if (o.kind === 'NetworkPolicy') {
      checkSelector(o, 'spec.podSelector', obj(spec['podSelector']), add);
      for (const dir of ['ingress', 'egress']) {
        for (const [i, r] of arr(spec[dir]).entries()) {
          for (const p of arr(r['ports'])) {
            checkPortNumber(o, `spec.${dir}[${i}]`, p['port'], add);
            if (p['endPort'] !== undefined)
              checkPortNumber(o, `spec.${dir}[${i}] endPort`, p['endPort'], add);
          }
          for (const peer of [...arr(r['from']), ...arr(r['to'])]) {
            if (peer['podSelector'] !== undefined)
              checkSelector(o, `spec.${dir}[${i}] podSelector`, obj(peer['podSelector']), add);
            if (peer['namespaceSelector'] !== undefined)
              checkSelector(o, `spec.${dir}[${i}] namespaceSelector`, obj(peer['namespaceSelector']), add);
          }
        }
      }
    }
    if (o.kind === 'Service') {
      checkLabels(o, 'spec.selector ', spec['selector'], add);
      const names = new Set<string>();
      const numbers = new Set<string>();
      for (const p of arr(spec['ports'])) {
        checkPortNumber(o, 'spec.ports', p['port'], add);
        checkPortNumber(o, 'spec.ports targetPort', p['targetPort'], add);
        if (typeof p['name'] === 'string') {
          if (!isDnsLabel(p['name']))
            add('V1-name', o, `Service port name '${p['name']}' must be a DNS label`);
          if (names.has(p['name'])) add('API-port-dup', o, `duplicate Service port name '${p['name']}'`);
          names.add(p['name']);
        }
        const num = `${String(p['protocol'] ?? 'TCP')}/${String(p['port'])}`;
        if (numbers.has(num)) add('API-port-dup', o, `duplicate Service port ${num}`);
        numbers.add(num);
      }
    }
    if (o.kind === 'Deployment') {
      const ru = obj(obj(spec['strategy'])['rollingUpdate']);
      const zero = (v: unknown) => v === 0 || v === '0%' || v === '0';
      if (obj(spec['strategy'])['type'] !== 'Recreate' && zero(ru['maxSurge']) && zero(ru['maxUnavailable']))
        add('API-rollout', o, 'spec.strategy.rollingUpdate: maxSurge and maxUnavailable are both 0');
    }
    const bound = (minKey: string, maxKey: string, minDefault: number, maxDefault: number) => {
      const min = typeof spec[minKey] === 'number' ? (spec[minKey] as number) : minDefault;
      const max = typeof spec[maxKey] === 'number' ? (spec[maxKey] as number) : maxDefault;
      if (min > max) add('API-scale-bounds', o, `spec.${minKey} (${min}) is above spec.${maxKey} (${max})`);
    };
    if (o.kind === 'HorizontalPodAutoscaler') bound('minReplicas', 'maxReplicas', 1, Number.MAX_SAFE_INTEGER);
    if (o.kind === 'ScaledObject') bound('minReplicaCount', 'maxReplicaCount', 0, 100);
    if (o.kind === 'ScaledJob') bound('minReplicaCount', 'maxReplicaCount', 0, 100);

    for (const t of podTemplates(o)) {
      checkLabels(o, `${t.path} `, t.labels, add);
      const volumeNames = new Set<string>();
      for (const v of arr(t.spec['volumes'])) {
        const vn = String(v['name']);
        if (!isDnsLabel(vn)) add('V1-name', o, `${t.path}: volume name '${vn}' must be a DNS label`);
        volumeNames.add(vn);
      }
      const containerNames = new Set<string>();
      for (const c of allContainers(t.spec)) {
        const cn = String(c['name']);
        if (containerNames.has(cn)) add('V1-dup', o, `${t.path}: duplicate container name '${cn}'`);
        containerNames.add(cn);
        checkContainer(o, `${t.path} container '${cn}'`, c, add);
      }
    }
  }
  return findings;
}
