/**
 * The platform's workloads on cdk8s-plus-28's typed constructs (`kplus.Deployment`,
 * `kplus.StatefulSet`, `kplus.Job`): containers, ports, env (literals and Secret keys), resources,
 * probes, volumes and mounts, the restricted security contexts, the ServiceAccount, strategy and
 * selector go through the typed API. What cdk8s-plus-28 does not model is added with escape
 * hatches on the L1 (`ApiObject.of(x).addJsonPatch`), in one place:
 *
 * - pod: `seccompProfile` (only the container context has it), `enableServiceLinks: false`,
 *   `priorityClassName`, `topologySpreadConstraints`, the `podAntiAffinity` term (cdk8s-plus'
 *   scheduling API selects by its own address label), and the removal of that
 *   `cdk8s.io/metadata.addr` label from the template;
 * - container: the native `preStop: sleep` action, mounts of StatefulSet claim templates;
 * - workload: Deployment `revisionHistoryLimit`, StatefulSet `volumeClaimTemplates`, Job
 *   `completions`/`parallelism`/`completionMode`.
 *
 * What cdk8s-plus adds on its own and we keep (each the API server's default, so nothing changes
 * on the cluster): `dnsPolicy: ClusterFirst`, `hostNetwork: false`, `setHostnameAsFQDN: false`,
 * `fsGroupChangePolicy: Always`, `terminationGracePeriodSeconds: 30` when none is set,
 * `restartPolicy: Always` (Deployments, StatefulSets), `minReadySeconds: 0`,
 * `progressDeadlineSeconds: 600`, StatefulSet `podManagementPolicy: OrderedReady` and
 * `updateStrategy: RollingUpdate` (partition 0). Memory quantities are rendered in Mi
 * (`1Gi` → `1024Mi`), probe ports as the container port number (cdk8s-plus takes no port names).
 */
import { ApiObject, App, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { PropValidationError } from './errors.js';
import { objectMeta, type Workload } from './workload.js';
import type { ContainerOptions, JsonObject, PodTemplate, VolumeSpec } from './pod.js';
import { parseQuantity } from './quantity.js';

/** The label cdk8s-plus adds to every pod template (it selects by it; the platform does not). */
const ADDR_LABEL = 'cdk8s.io/metadata.addr';
const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function cpu(prop: string, q: string): kplus.Cpu {
  const m = /^(\d+)m$/.exec(q);
  if (m) return kplus.Cpu.millis(Number(m[1]));
  if (/^\d+(\.\d+)?$/.test(q)) return kplus.Cpu.units(Number(q));
  throw new PropValidationError(`'${prop}' ('${q}') must be a CPU quantity such as '250m' or '2'`);
}

function memory(prop: string, q: string): Size {
  const bytes = parseQuantity(q);
  if (bytes === undefined || !(bytes > 0) || bytes % 2 ** 20 !== 0)
    throw new PropValidationError(
      `'${prop}' ('${q}') must be a memory quantity in whole MiB such as '512Mi' or '2Gi'`,
    );
  return Size.mebibytes(bytes / 2 ** 20);
}

function resources(c: ContainerOptions): kplus.ContainerResources {
  const r = c.resources as { requests?: Record<string, string>; limits?: Record<string, string> };
  const at = `containers.${c.name}.resources`;
  const req = r.requests ?? {};
  const lim = r.limits ?? {};
  return {
    cpu: {
      ...(req['cpu'] ? { request: cpu(`${at}.requests.cpu`, req['cpu']) } : {}),
      ...(lim['cpu'] ? { limit: cpu(`${at}.limits.cpu`, lim['cpu']) } : {}),
    },
    memory: {
      ...(req['memory'] ? { request: memory(`${at}.requests.memory`, req['memory']) } : {}),
      ...(lim['memory'] ? { limit: memory(`${at}.limits.memory`, lim['memory']) } : {}),
    },
  };
}

function probe(c: ContainerOptions, p: JsonObject | undefined): kplus.Probe | undefined {
  if (!p) return undefined;
  const portOf = (port: unknown): number => {
    if (typeof port === 'number') return port;
    const found = (c.ports ?? []).find((x) => x.name === port);
    if (!found)
      throw new PropValidationError(`probe port '${String(port)}' is not a port of container '${c.name}'`);
    return found.containerPort;
  };
  const options = {
    ...(typeof p['periodSeconds'] === 'number'
      ? { periodSeconds: Duration.seconds(p['periodSeconds']) }
      : {}),
    ...(typeof p['timeoutSeconds'] === 'number'
      ? { timeoutSeconds: Duration.seconds(p['timeoutSeconds']) }
      : {}),
    ...(typeof p['failureThreshold'] === 'number' ? { failureThreshold: p['failureThreshold'] } : {}),
  };
  const http = p['httpGet'] as { path: string; port: unknown } | undefined;
  if (http) return kplus.Probe.fromHttpGet(http.path, { ...options, port: portOf(http.port) });
  const tcp = p['tcpSocket'] as { port: unknown } | undefined;
  if (tcp) return kplus.Probe.fromTcpSocket({ ...options, port: portOf(tcp.port) });
  const exec = p['exec'] as { command: string[] } | undefined;
  if (exec) return kplus.Probe.fromCommand(exec.command, options);
  throw new PropValidationError(`probe of container '${c.name}' has no httpGet, tcpSocket or exec handler`);
}

/** The typed pod parts of a workload's props, and the patches of what cdk8s-plus lacks. */
function pod(scope: Construct, t: PodTemplate) {
  const volumes = new Map<string, kplus.Volume>();
  const volume = (v: VolumeSpec): kplus.Volume => {
    if ('emptyDir' in v) {
      return kplus.Volume.fromEmptyDir(scope, `Volume-${v.name}`, v.name, {
        ...(v.emptyDir.sizeLimit
          ? { sizeLimit: memory(`volumes.${v.name}.sizeLimit`, v.emptyDir.sizeLimit) }
          : {}),
      });
    }
    const cm = kplus.ConfigMap.fromConfigMapName(scope, `ConfigMapRef-${v.name}`, v.configMap.name);
    return kplus.Volume.fromConfigMap(scope, `Volume-${v.name}`, cm, {
      name: v.name,
      ...(v.configMap.items
        ? { items: Object.fromEntries(v.configMap.items.map((i) => [i.key, { path: i.path }])) }
        : {}),
    });
  };
  for (const v of t.volumes) volumes.set(v.name, volume(v));
  const secrets = new Map<string, kplus.ISecret>();
  const secret = (name: string) => {
    let s = secrets.get(name);
    if (!s) secrets.set(name, (s = kplus.Secret.fromSecretName(scope, `SecretRef-${name}`, name)));
    return s;
  };

  const containerPatches: ((base: string) => JsonPatch[])[] = [];
  /** preStop sleep seconds by container index (re-added after serialization, see withLateFields). */
  const sleeps = new Map<number, number>();
  const containers: kplus.ContainerProps[] = t.containers.map((c, i) => {
    const env: Record<string, kplus.EnvValue> = {};
    for (const e of [...(c.env ?? [])].sort((a, b) => a.name.localeCompare(b.name))) {
      env[e.name] =
        'value' in e
          ? kplus.EnvValue.fromValue(e.value)
          : kplus.EnvValue.fromSecretValue(
              { secret: secret(e.valueFrom.secretKeyRef.name), key: e.valueFrom.secretKeyRef.key },
              e.valueFrom.secretKeyRef.optional ? { optional: true } : {},
            );
    }
    const mounts: kplus.VolumeMount[] = [];
    const claimMounts: [number, JsonObject][] = [];
    c.volumeMounts.forEach((m, index) => {
      const v = volumes.get(m.name);
      if (v) mounts.push({ volume: v, path: m.mountPath, ...(m.readOnly ? { readOnly: true } : {}) });
      // A StatefulSet claim template: not a pod volume cdk8s-plus knows; inserted at its position.
      else
        claimMounts.push([
          index,
          { mountPath: m.mountPath, name: m.name, ...(m.readOnly ? { readOnly: true } : {}) },
        ]);
    });
    // The native sleep action (Kubernetes ≥ 1.30) needs no shell in the image.
    if (c.preStopSleepSeconds !== undefined && c.preStopSleepSeconds > 0)
      sleeps.set(i, c.preStopSleepSeconds);
    containerPatches.push((base) =>
      claimMounts.map(([index, m]) => JsonPatch.add(`${base}/spec/containers/${i}/volumeMounts/${index}`, m)),
    );
    const liveness = probe(c, c.livenessProbe);
    const readiness = probe(c, c.readinessProbe);
    const startup = probe(c, c.startupProbe);
    return {
      name: c.name,
      image: c.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      ...(c.command ? { command: [...c.command] } : {}),
      ...(c.args ? { args: [...c.args] } : {}),
      envVariables: env,
      ports: (c.ports ?? []).map((p) => ({
        name: p.name,
        number: p.containerPort,
        protocol: kplus.Protocol.TCP,
      })),
      resources: resources(c),
      ...(liveness ? { liveness } : {}),
      ...(readiness ? { readiness } : {}),
      ...(startup ? { startup } : {}),
      securityContext: {
        ensureNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      },
      volumeMounts: mounts,
    };
  });

  const props = {
    podMetadata: { labels: { ...t.labels }, ...(t.annotations ? { annotations: { ...t.annotations } } : {}) },
    serviceAccount: kplus.ServiceAccount.fromServiceAccountName(
      scope,
      'PodServiceAccount',
      t.serviceAccountName,
    ),
    automountServiceAccountToken: t.automountServiceAccountToken,
    securityContext: { ensureNonRoot: true, user: t.runAsUser, group: t.fsGroup, fsGroup: t.fsGroup },
    containers,
    volumes: [...volumes.values()],
    ...(t.restartPolicy
      ? {
          restartPolicy:
            t.restartPolicy === 'Never'
              ? kplus.RestartPolicy.NEVER
              : t.restartPolicy === 'OnFailure'
                ? kplus.RestartPolicy.ON_FAILURE
                : kplus.RestartPolicy.ALWAYS,
        }
      : {}),
    ...(t.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriod: Duration.seconds(t.terminationGracePeriodSeconds) }
      : {}),
  };

  const patches = (base: string): JsonPatch[] => [
    JsonPatch.remove(`${base}/metadata/labels/${escape(ADDR_LABEL)}`),
    JsonPatch.add(`${base}/spec/enableServiceLinks`, false),
    JsonPatch.add(`${base}/spec/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    ...(t.priorityClassName !== undefined
      ? [JsonPatch.add(`${base}/spec/priorityClassName`, t.priorityClassName)]
      : []),
    ...(t.topologySpreadConstraints
      ? [JsonPatch.add(`${base}/spec/topologySpreadConstraints`, t.topologySpreadConstraints)]
      : []),
    ...(t.affinity ? [JsonPatch.add(`${base}/spec/affinity`, t.affinity)] : []),
    ...containerPatches.flatMap((p) => p(base)),
  ];
  /** Adds the preStop sleep actions to the serialized pod spec at `path` (see withLateFields). */
  const late = (json: Record<string, unknown>, path: readonly string[]) => {
    let spec = json as Record<string, unknown>;
    for (const key of path) spec = spec[key] as Record<string, unknown>;
    const cs = (spec['containers'] as Record<string, unknown>[] | undefined) ?? [];
    for (const [i, seconds] of sleeps) {
      // Keys in the order the L1 writes them (sorted), as if cdk8s-plus had emitted the field.
      const withHook = { ...cs[i], lifecycle: { preStop: { sleep: { seconds } } } };
      cs[i] = Object.fromEntries(Object.entries(withHook).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
  };
  return { props, patches, late };
}

/**
 * cdk8s-plus-28 serializes through its Kubernetes 1.28 L1 (`KubeDeployment`, …), which drops what
 * its types do not model, even from a JSON patch: fields added after 1.28 (the native
 * `preStop: sleep` action, 1.29+) and plain-string quantities (claim template storage). Those are
 * set on the serialized object instead: the escape hatch below the JSON patches.
 */
function withLateFields(l1: ApiObject, apply: (json: Record<string, unknown>) => void): void {
  const toJson = l1.toJson.bind(l1);
  l1.toJson = () => {
    const json = toJson() as Record<string, unknown>;
    apply(json);
    return json;
  };
}

export interface DeploymentOptions {
  /** Omit when an autoscaler owns the replica count (Argo CD would fight it otherwise). */
  readonly replicas?: number;
  readonly template: PodTemplate;
  /** @default rolling: one new pod before an old one stops, five old ReplicaSets kept */
  readonly strategy?: 'RollingUpdate' | 'Recreate';
}

/** A Deployment (sync wave `workloads`) on `kplus.Deployment`; returns its L1. */
export function deployment(scope: Construct, w: Workload, o: DeploymentOptions): ApiObject {
  const { props, patches, late } = pod(scope, o.template);
  const d = new kplus.Deployment(scope, 'Resource', {
    ...props,
    metadata: objectMeta(w, 'workloads'),
    select: false,
    ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
    strategy:
      o.strategy === 'Recreate'
        ? kplus.DeploymentStrategy.recreate()
        : kplus.DeploymentStrategy.rollingUpdate({
            maxSurge: kplus.PercentOrAbsolute.absolute(1),
            maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
          }),
  });
  d.select(kplus.LabelSelector.of({ labels: { ...w.selector } }));
  if (o.replicas === undefined) d.markHasAutoscaler();
  const resource = ApiObject.of(d);
  resource.addJsonPatch(...patches('/spec/template'));
  withLateFields(resource, (json) => late(json, ['spec', 'template', 'spec']));
  if (o.strategy !== 'Recreate') resource.addJsonPatch(JsonPatch.add('/spec/revisionHistoryLimit', 5));
  return resource;
}

/**
 * A single-replica StatefulSet (sync wave `dataStores`) on `kplus.StatefulSet`, governed by the
 * existing Service of the same name (`service`), with the claim templates it keeps across restarts.
 */
export function statefulSet(
  scope: Construct,
  w: Workload,
  o: {
    readonly template: PodTemplate;
    readonly volumeClaimTemplates: unknown[];
    readonly service: kplus.Service;
  },
): ApiObject {
  const { props, patches, late } = pod(scope, o.template);
  const s = new kplus.StatefulSet(scope, 'Resource', {
    ...props,
    metadata: objectMeta(w, 'dataStores'),
    select: false,
    replicas: 1,
    service: o.service,
  });
  s.select(kplus.LabelSelector.of({ labels: { ...w.selector } }));
  // kplus.StatefulSet.select() puts its address label into the governing Service's selector too.
  ApiObject.of(o.service).addJsonPatch(JsonPatch.remove(`/spec/selector/${escape(ADDR_LABEL)}`));
  const resource = ApiObject.of(s);
  resource.addJsonPatch(...patches('/spec/template'));
  // Claim templates are set after serialization too: the 1.28 L1 drops plain-string quantities.
  withLateFields(resource, (json) => {
    late(json, ['spec', 'template', 'spec']);
    (json['spec'] as Record<string, unknown>)['volumeClaimTemplates'] = o.volumeClaimTemplates;
  });
  return resource;
}

export interface JobOptions {
  readonly metadata: Record<string, unknown>;
  readonly template: PodTemplate;
  readonly backoffLimit: number;
  readonly activeDeadlineSeconds: number;
  readonly ttlSecondsAfterFinished: number;
  /** @default 1 */
  readonly completions?: number;
  /** @default completions */
  readonly parallelism?: number;
}

/** A batch/v1 Job on `kplus.Job` (`Indexed` when completions > 1); returns its L1. */
export function job(scope: Construct, id: string, o: JobOptions): ApiObject {
  const { props, patches, late } = pod(scope, o.template);
  const j = new kplus.Job(scope, id, {
    ...props,
    metadata: o.metadata as kplus.JobProps['metadata'],
    backoffLimit: o.backoffLimit,
    activeDeadline: Duration.seconds(o.activeDeadlineSeconds),
    ttlAfterFinished: Duration.seconds(o.ttlSecondsAfterFinished),
  });
  const resource = ApiObject.of(j);
  withLateFields(resource, (json) => late(json, ['spec', 'template', 'spec']));
  const completions = o.completions ?? 1;
  resource.addJsonPatch(
    ...patches('/spec/template'),
    JsonPatch.add('/spec/completions', completions),
    JsonPatch.add('/spec/parallelism', o.parallelism ?? completions),
    ...(completions > 1 ? [JsonPatch.add('/spec/completionMode', 'Indexed')] : []),
  );
  return resource;
}

/**
 * The pod template JSON of a `kplus.Job` built from `t`, for a KEDA ScaledJob's
 * `jobTargetRef.template` (the CRD embeds a Job spec; cdk8s-plus has no ScaledJob). The Job is
 * built in a detached chart and never synthesized itself.
 */
export function jobPodTemplateJson(t: PodTemplate): Record<string, unknown> {
  const chart = new Chart(new App(), 'template');
  const l1 = job(chart, 'Job', {
    metadata: { name: 'template' },
    template: t,
    backoffLimit: 0,
    activeDeadlineSeconds: 1,
    ttlSecondsAfterFinished: 0,
  });
  const spec = (l1.toJson() as { spec: { template: Record<string, unknown> } }).spec;
  return spec.template;
}
