/**
 * Builders for the small Kubernetes objects several constructs emit the same way: the metadata
 * block, Services, the PodDisruptionBudget and a data volume claim. Each construct still decides
 * what it emits; these only keep the shape (and the defaults it encodes) in one place.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { METRICS_PORT } from './runtime.js';
import type { SyncWave } from './sync.js';
import type { PodTemplate } from './pod.js';
import { deployment, statefulSet } from './workloads.js';
import { objectMeta, type Workload } from './workload.js';

export { objectMeta, type Workload } from './workload.js';

export interface ServiceOptions {
  /** @default the workload's name */
  readonly name?: string;
  /** @default 'workloads' */
  readonly wave?: SyncWave;
  /** Headless (`clusterIP: None`): DNS returns every pod, as Prometheus pod discovery expects. */
  readonly headless?: boolean;
  /** One TCP port, the same number as the container port it targets. */
  readonly port: { readonly name: string; readonly port: number };
}

/**
 * A Service selecting the workload's pods on one TCP port, on cdk8s-plus' typed `Service`
 * (always `type: ClusterIP`). The Service port is the container port, and cdk8s-plus takes only a
 * numeric `targetPort` (its typed L1 drops a string even from a JSON patch), so the target is
 * that number; the verifier checks it is a container port of every selected pod (K6-target-port).
 * The empty `externalIPs` cdk8s-plus always emits is patched away.
 */
export function service(scope: Construct, id: string, w: Workload, o: ServiceOptions): ApiObject {
  return ApiObject.of(serviceConstruct(scope, id, w, o));
}

/** {@link service}, returning the cdk8s-plus Service (what a `kplus.StatefulSet` is governed by). */
export function serviceConstruct(
  scope: Construct,
  id: string,
  w: Workload,
  o: ServiceOptions,
): kplus.Service {
  const svc = new kplus.Service(scope, id, {
    metadata: objectMeta({ ...w, name: o.name ?? w.name }, o.wave ?? 'workloads'),
    type: kplus.ServiceType.CLUSTER_IP,
    ...(o.headless ? { clusterIP: 'None' } : {}),
    ports: [{ name: o.port.name, port: o.port.port, targetPort: o.port.port, protocol: kplus.Protocol.TCP }],
  });
  for (const [key, value] of Object.entries(w.selector)) svc.selectLabel(key, value);
  ApiObject.of(svc).addJsonPatch(JsonPatch.remove('/spec/externalIPs'));
  return svc;
}

/** The headless `<name>-metrics` Service exposing the runtime's `metrics` port (METRICS_PORT). */
export function metricsService(scope: Construct, w: Workload): ApiObject {
  return service(scope, 'MetricsService', w, {
    name: `${w.name}-metrics`,
    headless: true,
    port: { name: 'metrics', port: METRICS_PORT },
  });
}

/**
 * PodDisruptionBudget of a stateless workload. `maxUnavailable: 1` never blocks node drains, even
 * with a single replica (K8); unhealthy pods may always be evicted.
 */
export function podDisruptionBudget(scope: Construct, w: Workload): ApiObject {
  return new ApiObject(scope, 'Pdb', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(w, 'workloads'),
    spec: {
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: w.selector },
    },
  });
}

/** The `data` ReadWriteOnce volume claim template of a single-replica StatefulSet. */
export function dataVolumeClaim(storage: string, storageClassName?: string): Record<string, unknown> {
  return {
    metadata: { name: 'data' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storageClassName ? { storageClassName } : {}),
      resources: { requests: { storage } },
    },
  };
}

export interface RollingDeploymentOptions {
  /** Omit when an autoscaler owns the replica count (Argo CD would fight it otherwise). */
  readonly replicas?: number;
  readonly template: PodTemplate;
}

/**
 * A Deployment (sync wave `workloads`, cdk8s-plus-28 `kplus.Deployment`) that rolls out one new pod
 * before stopping an old one, so the ready count never drops below the desired one; five old
 * ReplicaSets are kept for rollbacks.
 */
export function rollingDeployment(scope: Construct, w: Workload, o: RollingDeploymentOptions): ApiObject {
  return deployment(scope, w, { ...o, strategy: 'RollingUpdate' });
}

/**
 * A single-replica StatefulSet (sync wave `dataStores`, cdk8s-plus-28 `kplus.StatefulSet`) governed
 * by its Service (`service`, e.g. from {@link serviceConstruct}), with the claim templates (e.g.
 * {@link dataVolumeClaim}) it keeps across restarts.
 */
export function singletonStatefulSet(
  scope: Construct,
  w: Workload,
  o: {
    readonly template: PodTemplate;
    readonly volumeClaimTemplates: unknown[];
    readonly service: kplus.Service;
  },
): ApiObject {
  return statefulSet(scope, w, o);
}
