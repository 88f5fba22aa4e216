/**
 * Pod-template builders that are secure by default: the restricted Pod Security Standard
 * (non-root numeric user, seccomp RuntimeDefault, all capabilities dropped, no privilege escalation),
 * a read-only root filesystem with an emptyDir on /tmp, and no auto-mounted service-account token.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
import { checkInt } from './errors.js';

/** UID/GID the Jobplane image runs as (distroless `nonroot`, set numerically in runtime/Dockerfile). */
export const DEFAULT_RUN_AS_USER = 65532;

export type JsonObject = Record<string, unknown>;

/** An env var with a literal value or a reference to a key of a Secret/ConfigMap. */
export type EnvVar =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly valueFrom: { readonly secretKeyRef: SecretKeyRef } };

/** Reference to one key of a Secret that exists in the cluster (never written by Jobplane). */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
  /** The pod starts without the Secret/key. @default false */
  readonly optional?: boolean;
}

export function literalEnv(name: string, value: string | number | boolean): EnvVar {
  return { name, value: String(value) };
}

export function secretEnv(name: string, ref: SecretKeyRef): EnvVar {
  return {
    name,
    valueFrom: {
      secretKeyRef: { name: ref.name, key: ref.key, ...(ref.optional ? { optional: true } : {}) },
    },
  };
}

/** Container-level security context of the restricted profile. */
export function restrictedContainerSecurityContext(): JsonObject {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Pod-level security context of the restricted profile. */
export function restrictedPodSecurityContext(
  prop: string,
  runAsUser: number,
  fsGroup: number = runAsUser,
): JsonObject {
  checkInt(`${prop}.runAsUser`, runAsUser, 1);
  checkInt(`${prop}.fsGroup`, fsGroup, 1);
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: fsGroup,
    fsGroup,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** A pod volume: an emptyDir (with a size limit) or a ConfigMap (optionally some keys). */
export type VolumeSpec =
  | { readonly name: string; readonly emptyDir: { readonly sizeLimit?: string } }
  | {
      readonly name: string;
      readonly configMap: {
        readonly name: string;
        readonly items?: readonly { key: string; path: string }[];
      };
    };

export interface VolumeMountSpec {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
}

export interface PodTemplateOptions {
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly serviceAccountName: string;
  readonly containers: ContainerSpec[];
  readonly runAsUser?: number;
  readonly fsGroup?: number;
  /** Extra volumes besides the `tmp` emptyDir. */
  readonly volumes?: VolumeSpec[];
  readonly terminationGracePeriodSeconds?: number;
  readonly restartPolicy?: 'Always' | 'Never' | 'OnFailure';
  /** Spread replicas over nodes (K8: podAntiAffinity when replicas > 1). */
  readonly antiAffinity?: boolean;
  readonly automountServiceAccountToken?: boolean;
  /** The pod runs the `jobplane` image: the verifier applies the env/command contract to it. */
  readonly runtime?: boolean;
  /** PriorityClass and zone spread. @default none */
  readonly scheduling?: PodScheduling;
}

/**
 * A pod template, resolved and validated (secure defaults applied), that the workload builders of
 * `lib/workloads.ts` turn into cdk8s-plus-28 constructs.
 */
export interface PodTemplate {
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly serviceAccountName: string;
  readonly automountServiceAccountToken: boolean;
  readonly runAsUser: number;
  readonly fsGroup: number;
  readonly containers: readonly ContainerSpec[];
  readonly volumes: readonly VolumeSpec[];
  readonly terminationGracePeriodSeconds?: number;
  readonly restartPolicy?: 'Always' | 'Never' | 'OnFailure';
  readonly priorityClassName?: string;
  readonly topologySpreadConstraints?: JsonObject[];
  readonly affinity?: JsonObject;
}

/** Zone label the scheduler spreads on (set by the cloud provider on every node). */
export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';

/** How a pod is scheduled: its PriorityClass and whether its replicas spread across zones. */
export interface PodScheduling {
  /** `priorityClassName` of the pods (a PriorityClass the platform emits). @default none */
  readonly priorityClassName?: string;
  /**
   * Spread the pods with the same labels across zones (`topology.kubernetes.io/zone`, max skew 1):
   * `DoNotSchedule` keeps a pod Pending rather than skewing (the node autoscaler launches a node
   * in the zone), `ScheduleAnyway` only prefers. @default no zone spread
   */
  readonly zoneSpread?: 'DoNotSchedule' | 'ScheduleAnyway';
}

/** Pod label marking pods that run the `jobplane` image (contract checks apply to them). */
export const RUNTIME_POD_LABEL = 'jobplane.dev/runtime';

/** The `tmp` emptyDir every container mounts at /tmp (the root filesystem is read-only). */
export const TMP_VOLUME: VolumeSpec = { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } };
export const TMP_MOUNT: VolumeMountSpec = { name: 'tmp', mountPath: '/tmp' };

const sorted = (labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

export function podTemplate(o: PodTemplateOptions): PodTemplate {
  const runAsUser = o.runAsUser ?? DEFAULT_RUN_AS_USER;
  const fsGroup = o.fsGroup ?? o.runAsUser ?? DEFAULT_RUN_AS_USER;
  restrictedPodSecurityContext('securityContext', runAsUser, fsGroup);
  const labels = o.runtime ? { ...o.labels, [RUNTIME_POD_LABEL]: 'true' } : { ...o.labels };
  return {
    labels,
    ...(o.annotations ? { annotations: o.annotations } : {}),
    serviceAccountName: o.serviceAccountName,
    automountServiceAccountToken: o.automountServiceAccountToken ?? false,
    runAsUser,
    fsGroup,
    containers: o.containers,
    volumes: [TMP_VOLUME, ...(o.volumes ?? [])],
    ...(o.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriodSeconds: o.terminationGracePeriodSeconds }
      : {}),
    ...(o.restartPolicy !== undefined ? { restartPolicy: o.restartPolicy } : {}),
    ...(o.scheduling?.priorityClassName !== undefined
      ? { priorityClassName: o.scheduling.priorityClassName }
      : {}),
    ...(o.scheduling?.zoneSpread !== undefined
      ? {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: ZONE_TOPOLOGY_KEY,
              whenUnsatisfiable: o.scheduling.zoneSpread,
              labelSelector: { matchLabels: sorted(o.labels) },
            },
          ],
        }
      : {}),
    ...(o.antiAffinity
      ? {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: 'kubernetes.io/hostname',
                    labelSelector: { matchLabels: sorted(o.labels) },
                  },
                },
              ],
            },
          },
        }
      : {}),
  };
}

export interface ContainerOptions {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: readonly EnvVar[];
  readonly ports?: { name: string; containerPort: number }[];
  readonly resources: JsonObject;
  readonly livenessProbe?: JsonObject;
  readonly readinessProbe?: JsonObject;
  readonly startupProbe?: JsonObject;
  readonly preStopSleepSeconds?: number;
  readonly volumeMounts?: VolumeMountSpec[];
}

/** A container, resolved: /tmp mounted first; built with the restricted security context. */
export interface ContainerSpec extends ContainerOptions {
  readonly volumeMounts: VolumeMountSpec[];
}

/** A container with the restricted security context and /tmp mounted. */
export function container(o: ContainerOptions): ContainerSpec {
  return { ...o, volumeMounts: [TMP_MOUNT, ...(o.volumeMounts ?? [])] };
}

/** HTTP probe on a named port. */
export function httpProbe(
  path: string,
  port: string,
  opts: { periodSeconds?: number; failureThreshold?: number } = {},
): JsonObject {
  return {
    httpGet: { path, port },
    periodSeconds: opts.periodSeconds ?? 10,
    timeoutSeconds: 2,
    failureThreshold: opts.failureThreshold ?? 3,
  };
}
