/**
 * Security checks (listed in docs/infra.md) over synthesized objects: the restricted Pod
 * Security Standard (P1–P14), kube-linter defaults (K1–K8), RBAC (RB1, RB2), Jobs (J1), drain
 * (G1), Secrets in Git (S1), and Argo CD sync options for CRD-backed kinds.
 * Sources: kubernetes/kubernetes pod-security-admission policy/check_*.go; kube-linter checks.
 */
import type { Finding, Json, Manifest } from './types.js';
import { allContainers, arr, obj, podTemplates, ref, selects } from './types.js';

const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
/** Env names whose literal value would be a credential (K4). */
const CREDENTIAL_ENV =
  /SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|ADMIN_KEY|_KEYS$|PRIVATE|WEBHOOK|DATABASE_URL|REDIS_URL|CREDENTIAL/i;
/** Kinds served by CRDs (Argo CD must skip dry-run when the CRD is missing). */
export const CRD_KINDS = new Set([
  'ScaledObject',
  'ScaledJob',
  'TriggerAuthentication',
  'ServiceMonitor',
  'PodMonitor',
  'PrometheusRule',
  'AlertmanagerConfig',
]);

export function checkSecurity(objects: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, o: Manifest, message: string) =>
    findings.push({ rule, object: ref(o), message });
  const boundSAs = new Set(
    objects
      .filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
      .flatMap((rb) =>
        arr(rb['subjects'])
          .filter((s) => s['kind'] === 'ServiceAccount')
          .map((s) => `${String(s['namespace'])}/${String(s['name'])}`),
      ),
  );

  for (const o of objects) {
    // S1: nothing secret in Git.
    if (o.kind === 'Secret' && (o['data'] !== undefined || o['stringData'] !== undefined))
      add('S1', o, 'Secret with data/stringData in Git output');
    // P14: namespaces enforce restricted.
    if (o.kind === 'Namespace') {
      const l = o.metadata.labels ?? {};
      if (
        l['pod-security.kubernetes.io/enforce'] !== 'restricted' ||
        !l['pod-security.kubernetes.io/enforce-version']
      ) {
        add(
          'P14',
          o,
          'namespace must be labelled pod-security.kubernetes.io/enforce=restricted with enforce-version',
        );
      }
    }
    if (o.kind === 'ServiceAccount' && o['automountServiceAccountToken'] !== false)
      add('RB2', o, 'ServiceAccount must set automountServiceAccountToken: false');
    if (CRD_KINDS.has(o.kind)) {
      const opts = o.metadata.annotations?.['argocd.argoproj.io/sync-options'] ?? '';
      if (!opts.includes('SkipDryRunOnMissingResource=true'))
        add(
          'SYNC-crd',
          o,
          'CRD-backed kind needs argocd.argoproj.io/sync-options SkipDryRunOnMissingResource=true',
        );
      if (o.kind === 'ScaledJob' && !opts.includes('ServerSideApply=true'))
        add(
          'SYNC-crd',
          o,
          'ScaledJob needs ServerSideApply=true (its CRD exceeds the client-side apply annotation limit)',
        );
    }
    if (
      o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] === undefined &&
      !['Application', 'AppProject'].includes(o.kind)
    ) {
      add('SYNC-wave', o, 'missing argocd.argoproj.io/sync-wave');
    }
    checkRbac(o, add);
    checkPdb(o, objects, add);
  }

  for (const o of objects) {
    for (const t of podTemplates(o)) {
      const spec = t.spec;
      const where = t.path;
      const psc = obj(spec['securityContext']);
      // P1
      for (const f of ['hostNetwork', 'hostPID', 'hostIPC'])
        if (spec[f] === true) add('P1', o, `${where}: ${f} is true`);
      // P4
      for (const v of arr(spec['volumes'])) {
        const type = Object.keys(v).find((k) => k !== 'name');
        if (!type || !ALLOWED_VOLUMES.has(type))
          add('P4', o, `${where}: volume '${String(v['name'])}' of type ${String(type)} is not allowed`);
      }
      // P11 sysctls
      for (const s of arr(psc['sysctls']))
        if (!SAFE_SYSCTLS.has(String(s['name'])))
          add('P11', o, `${where}: unsafe sysctl ${String(s['name'])}`);
      // RB2
      const sa = (spec['serviceAccountName'] as string | undefined) ?? 'default';
      if (sa === 'default') add('RB2', o, `${where}: uses the default ServiceAccount`);
      if (spec['automountServiceAccountToken'] !== false && !boundSAs.has(`${o.metadata.namespace}/${sa}`)) {
        add(
          'RB2',
          o,
          `${where}: automountServiceAccountToken must be false (ServiceAccount '${sa}' has no RBAC binding that needs it)`,
        );
      }
      // K8 anti-affinity
      const replicas = obj(o['spec'])['replicas'];
      if (
        o.kind === 'Deployment' &&
        typeof replicas === 'number' &&
        replicas > 1 &&
        !obj(spec['affinity'])['podAntiAffinity']
      ) {
        add('K8', o, `${where}: ${replicas} replicas without podAntiAffinity`);
      }
      const podNonRoot = psc['runAsNonRoot'] === true;
      const podSeccomp = obj(psc['seccompProfile'])['type'];
      const podUser = psc['runAsUser'];
      if (psc['runAsNonRoot'] === false) add('P7', o, `${where}: pod runAsNonRoot is false`);
      if (podUser === 0) add('P8', o, `${where}: pod runAsUser is 0`);
      if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(String(podSeccomp)))
        add('P9', o, `${where}: pod seccompProfile ${String(podSeccomp)}`);
      checkSeLinux(obj(psc['seLinuxOptions']), `${where} pod`, o, add);
      checkAppArmor(obj(psc['appArmorProfile']), `${where} pod`, o, add);
      const envNames = new Map<string, Set<string>>();
      for (const c of allContainers(spec)) {
        const name = String(c['name']);
        const sc = obj(c['securityContext']);
        const at = `${where} container '${name}'`;
        if (sc['privileged'] === true) add('P2', o, `${at}: privileged`);
        if (obj(sc['windowsOptions'])['hostProcess'] === true)
          add('P2', o, `${at}: windowsOptions.hostProcess`);
        const caps = obj(sc['capabilities']);
        if (!((caps['drop'] as string[] | undefined) ?? []).includes('ALL'))
          add('P3', o, `${at}: capabilities.drop must contain ALL`);
        for (const cap of (caps['add'] as string[] | undefined) ?? [])
          if (cap !== 'NET_BIND_SERVICE') add('P3', o, `${at}: adds capability ${cap}`);
        for (const p of arr(c['ports']))
          if (p['hostPort'] !== undefined && p['hostPort'] !== 0)
            add('P5', o, `${at}: hostPort ${String(p['hostPort'])}`);
        if (sc['allowPrivilegeEscalation'] !== false)
          add('P6', o, `${at}: allowPrivilegeEscalation must be explicitly false`);
        if (sc['runAsNonRoot'] === false || (!podNonRoot && sc['runAsNonRoot'] !== true))
          add('P7', o, `${at}: runAsNonRoot must be true (pod or container)`);
        if (sc['runAsUser'] === 0) add('P8', o, `${at}: runAsUser is 0`);
        if (typeof (sc['runAsUser'] ?? podUser) !== 'number')
          add('P8', o, `${at}: needs a numeric runAsUser (pod or container) so runAsNonRoot is verifiable`);
        const seccomp = obj(sc['seccompProfile'])['type'] ?? podSeccomp;
        if (!['RuntimeDefault', 'Localhost'].includes(String(seccomp)))
          add('P9', o, `${at}: seccompProfile must be RuntimeDefault or Localhost (is ${String(seccomp)})`);
        checkSeLinux(obj(sc['seLinuxOptions']), at, o, add);
        if (sc['procMount'] !== undefined && sc['procMount'] !== 'Default')
          add('P11', o, `${at}: procMount ${String(sc['procMount'])}`);
        checkAppArmor(obj(sc['appArmorProfile']), at, o, add);
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
          const p = obj(c[probe]);
          if (obj(p['httpGet'])['host'] || obj(p['tcpSocket'])['host'])
            add('P13', o, `${at}: ${probe} sets host`);
        }
        for (const hook of ['postStart', 'preStop']) {
          const h = obj(obj(c['lifecycle'])[hook]);
          if (obj(h['httpGet'])['host'] || obj(h['tcpSocket'])['host'])
            add('P13', o, `${at}: ${hook} sets host`);
        }
        if (sc['readOnlyRootFilesystem'] !== true) add('K1', o, `${at}: readOnlyRootFilesystem must be true`);
        const res = obj(c['resources']);
        if (obj(res['requests'])['cpu'] === undefined) add('K2', o, `${at}: resources.requests.cpu unset`);
        if (obj(res['requests'])['memory'] === undefined)
          add('K2', o, `${at}: resources.requests.memory unset`);
        if (obj(res['limits'])['memory'] === undefined) add('K2', o, `${at}: resources.limits.memory unset`);
        const image = String(c['image'] ?? '');
        const last = image.split('/').pop() ?? '';
        if (!image.includes('@sha256:') && (!last.includes(':') || last.endsWith(':latest')))
          add('K3', o, `${at}: image '${image}' has no explicit non-latest tag`);
        const seen = envNames.get(name) ?? new Set<string>();
        envNames.set(name, seen);
        for (const e of arr(c['env'])) {
          const en = String(e['name']);
          if (seen.has(en)) add('K4', o, `${at}: duplicate env ${en}`);
          seen.add(en);
          if (e['value'] !== undefined && CREDENTIAL_ENV.test(en))
            add('K4', o, `${at}: env ${en} carries a literal value; use a secretKeyRef`);
        }
      }
    }
    // J1 / K5
    if (o.kind === 'Job' || o.kind === 'ScaledJob') {
      const spec = o.kind === 'Job' ? obj(o['spec']) : obj(obj(o['spec'])['jobTargetRef']);
      if (typeof spec['activeDeadlineSeconds'] !== 'number') add('J1', o, 'activeDeadlineSeconds unset');
      if (typeof spec['backoffLimit'] !== 'number' || (spec['backoffLimit'] as number) > 6)
        add('J1', o, 'backoffLimit must be set and ≤ 6');
      if (typeof spec['ttlSecondsAfterFinished'] !== 'number') add('K5', o, 'ttlSecondsAfterFinished unset');
      const rp = obj(obj(spec['template'])['spec'])['restartPolicy'];
      if (rp !== 'Never' && rp !== 'OnFailure')
        add('J1', o, `restartPolicy must be Never or OnFailure (is ${String(rp)})`);
      const ns = o.metadata.namespace;
      if (o.kind === 'ScaledJob') {
        for (const k of ['ResourceQuota', 'LimitRange']) {
          if (!objects.some((x) => x.kind === k && x.metadata.namespace === ns))
            add('J1', o, `namespace '${String(ns)}' runs Jobs without a ${k}`);
        }
      }
    }
    if (
      o.kind === 'CronJob' &&
      obj(obj(obj(o['spec'])['jobTemplate'])['spec'])['ttlSecondsAfterFinished'] !== undefined
    ) {
      add('K5', o, 'CronJob jobTemplate must not set ttlSecondsAfterFinished');
    }
  }
  findings.push(...checkDrain(objects));
  return findings;
}

function checkSeLinux(
  se: Json,
  at: string,
  o: Manifest,
  add: (r: string, o: Manifest, m: string) => void,
): void {
  if (se['type'] !== undefined && !SELINUX_TYPES.has(String(se['type'])))
    add('P10', o, `${at}: seLinuxOptions.type ${String(se['type'])}`);
  if (se['user'] !== undefined || se['role'] !== undefined)
    add('P10', o, `${at}: seLinuxOptions user/role set`);
}

function checkAppArmor(
  p: Json,
  at: string,
  o: Manifest,
  add: (r: string, o: Manifest, m: string) => void,
): void {
  if (p['type'] !== undefined && !['RuntimeDefault', 'Localhost'].includes(String(p['type'])))
    add('P12', o, `${at}: appArmorProfile ${String(p['type'])}`);
}

function checkRbac(o: Manifest, add: (r: string, o: Manifest, m: string) => void): void {
  if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') {
    add('RB1', o, 'cluster-wide RBAC is not allowed: use a namespaced Role/RoleBinding');
    return;
  }
  if (o.kind !== 'Role') return;
  for (const rule of arr(o['rules'])) {
    const groups = (rule['apiGroups'] as string[] | undefined) ?? [];
    const resources = (rule['resources'] as string[] | undefined) ?? [];
    const verbs = (rule['verbs'] as string[] | undefined) ?? [];
    if ([...groups, ...resources, ...verbs].includes('*'))
      add('RB1', o, `wildcard in rule ${JSON.stringify(rule)}`);
    // The launcher creates its Jobs' payload Secrets; LR1 (launcher-rules.ts) bounds exactly what it may do.
    const launcher = o.metadata.labels?.['app.kubernetes.io/component'] === 'launcher';
    if (resources.includes('secrets') && !launcher) add('RB1', o, 'access to secrets');
    if (resources.includes('pods') && verbs.includes('create')) add('RB1', o, 'can create pods');
    for (const v of ['escalate', 'bind', 'impersonate']) if (verbs.includes(v)) add('RB1', o, `verb ${v}`);
  }
}

function checkPdb(
  o: Manifest,
  objects: readonly Manifest[],
  add: (r: string, o: Manifest, m: string) => void,
): void {
  if (o.kind !== 'PodDisruptionBudget') return;
  const spec = obj(o['spec']);
  if (spec['unhealthyPodEvictionPolicy'] === undefined) add('K8', o, 'unhealthyPodEvictionPolicy unset');
  if (spec['maxUnavailable'] === 0 || spec['maxUnavailable'] === '0%')
    add('K8', o, 'maxUnavailable 0 forbids every eviction');
  const min = spec['minAvailable'];
  if (min === '100%') add('K8', o, 'minAvailable 100% forbids every eviction');
  if (typeof min === 'number') {
    const sel = obj(spec['selector']);
    for (const w of objects) {
      const [t] = podTemplates(w);
      const replicas = obj(w['spec'])['replicas'];
      if (
        t &&
        w.metadata.namespace === o.metadata.namespace &&
        selects(sel, t.labels) &&
        typeof replicas === 'number' &&
        min >= replicas
      ) {
        add('K8', o, `minAvailable ${min} ≥ replicas ${replicas} of ${ref(w)} forbids every eviction`);
      }
    }
  }
}

/** G1: worker grace > drain + 10 s; the scaler's cooldown and HPA scale-down window ≥ drain. */
function checkDrain(objects: readonly Manifest[]): Finding[] {
  const findings: Finding[] = [];
  for (const o of objects) {
    if (o.kind !== 'Deployment') continue;
    const [t] = podTemplates(o);
    const drainEnv = allContainers(t!.spec)
      .flatMap((c) => arr(c['env']))
      .find((e) => e['name'] === 'DRAIN_TIMEOUT_SECONDS');
    if (!drainEnv) continue;
    const drain = Number(drainEnv['value']);
    const grace = t!.spec['terminationGracePeriodSeconds'];
    if (typeof grace !== 'number' || grace <= drain + 10) {
      findings.push({
        rule: 'G1',
        object: ref(o),
        message: `terminationGracePeriodSeconds (${String(grace)}) must be > DRAIN_TIMEOUT_SECONDS (${drain}) + 10`,
      });
    }
    for (const so of objects.filter(
      (x) => x.kind === 'ScaledObject' && x.metadata.namespace === o.metadata.namespace,
    )) {
      const spec = obj(so['spec']);
      if (obj(spec['scaleTargetRef'])['name'] !== o.metadata.name) continue;
      const cooldown = spec['cooldownPeriod'];
      if (typeof cooldown !== 'number' || cooldown < drain) {
        findings.push({
          rule: 'G1',
          object: ref(so),
          message: `cooldownPeriod (${String(cooldown)}) must be ≥ the drain budget (${drain})`,
        });
      }
      const window = obj(
        obj(obj(obj(spec['advanced'])['horizontalPodAutoscalerConfig'])['behavior'])['scaleDown'],
      )['stabilizationWindowSeconds'];
      if (typeof window !== 'number' || window < drain) {
        findings.push({
          rule: 'G1',
          object: ref(so),
          message: `HPA scaleDown stabilizationWindowSeconds (${String(window)}) must be ≥ the drain budget (${drain})`,
        });
      }
    }
  }
  return findings;
}
