/**
 * PlatformAddons: the cluster add-ons as Helm releases with pinned chart versions: KEDA, Argo CD,
 * metrics-server, Traefik and cert-manager everywhere; kube-prometheus-stack and Karpenter on EKS.
 *
 * `helm.v3.Release` (not `helm.v4.Chart`): Helm itself installs each chart and its CRDs, and the
 * release is a single resource other resources can depend on, which is what the GitOps bootstrap
 * needs (custom resources fail before their CRDs exist: argo-cd#15095, pulumi-kubernetes#3176).
 * Releases wait for their workloads to be ready (`skipAwait` stays false).
 * @see https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v3/release/
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ADDON_CHARTS, ADDON_IDS, EXACT_SEMVER, type AddonId } from './addon-charts.js';
import { certManagerValues, traefikValues } from './ingress.js';

export interface AddonRelease {
  readonly id: AddonId;
  readonly chart: string;
  readonly releaseName: string;
  /** Helm repository; absent for an OCI chart (`chart` is then the `oci://` reference). */
  readonly repo?: string;
  readonly version: string;
  readonly namespace: string;
  readonly values: Record<string, unknown>;
}

export interface PlatformAddonsProps {
  /** Chart version per add-on; unspecified ones use the pinned default of `ADDON_CHARTS`. */
  readonly chartVersions?: Partial<Record<AddonId, string>>;
  /** `kind` needs metrics-server to skip kubelet certificate verification (self-signed). */
  readonly cluster: 'kind' | 'eks';
  /**
   * Values known only after the cluster exists (e.g. Karpenter's IRSA role), merged over the
   * static values of `addonValues` at the top level.
   */
  readonly extraValues?: Partial<Record<AddonId, pulumi.Input<Record<string, unknown>>>>;
}

/** Helm values per add-on, kept small: defaults of the upstream charts unless there is a reason. */
export function addonValues(id: AddonId, cluster: 'kind' | 'eks'): Record<string, unknown> {
  switch (id) {
    case 'keda':
      return {};
    case 'argocd':
      return {
        // Notifications and Dex are not used; fewer moving parts, fewer privileges.
        dex: { enabled: false },
        notifications: { enabled: false },
        // Server-side diff handles large CRDs (KEDA ScaledJob exceeds the client-side annotation limit).
        configs: { params: { 'controller.diff.server.side': 'true' } },
      };
    case 'metricsServer':
      // kind's kubelets serve self-signed certificates.
      return cluster === 'kind' ? { args: ['--kubelet-insecure-tls'] } : {};
    case 'traefik':
      return traefikValues(cluster);
    case 'certManager':
      return certManagerValues();
    case 'karpenter':
      // Everything Karpenter needs comes from the cluster: `extraValues` (capacity.ts).
      return {};
    case 'prometheusStack':
      // EKS runs no scrapeable control plane components; keep only what Jobplane uses.
      return {
        kubeControllerManager: { enabled: false },
        kubeScheduler: { enabled: false },
        kubeEtcd: { enabled: false },
        kubeProxy: { enabled: false },
      };
  }
}

/** The releases to install on this kind of cluster, with versions resolved and checked to be exact. */
export function addonReleases(props: PlatformAddonsProps): AddonRelease[] {
  const ids = ADDON_IDS.filter((id) =>
    (ADDON_CHARTS[id].clusters as readonly string[]).includes(props.cluster),
  );
  return ids.map((id) => {
    const chart = ADDON_CHARTS[id];
    const version = props.chartVersions?.[id] ?? chart.version;
    if (!EXACT_SEMVER.test(version)) {
      throw new Error(`chart version of '${id}' (${version}) must be an exact version, not a range`);
    }
    return {
      id,
      chart: chart.chart,
      releaseName: chart.releaseName,
      ...(chart.repo ? { repo: chart.repo } : {}),
      version,
      namespace: chart.namespace,
      values: addonValues(id, props.cluster),
    };
  });
}

export class PlatformAddons extends pulumi.ComponentResource {
  readonly releases: Readonly<Partial<Record<AddonId, k8s.helm.v3.Release>>> & {
    readonly argocd: k8s.helm.v3.Release;
  };
  /** Namespace Argo CD runs in. */
  readonly argocdNamespace: string;

  constructor(name: string, props: PlatformAddonsProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:addons:PlatformAddons', name, {}, opts);
    const releases: Partial<Record<AddonId, k8s.helm.v3.Release>> = {};
    for (const r of addonReleases(props)) {
      const extra = props.extraValues?.[r.id];
      if (r.id === 'karpenter' && extra === undefined) {
        throw new Error(
          `'extraValues.karpenter' is required on EKS: the chart needs the cluster and its IRSA role`,
        );
      }
      releases[r.id] = new k8s.helm.v3.Release(
        `${name}-${r.id.toLowerCase()}`,
        {
          name: r.releaseName,
          chart: r.chart,
          version: r.version,
          ...(r.repo ? { repositoryOpts: { repo: r.repo } } : {}),
          namespace: r.namespace,
          createNamespace: r.namespace !== 'kube-system',
          values: extra === undefined ? r.values : pulumi.output(extra).apply((e) => ({ ...r.values, ...e })),
          atomic: true,
          cleanupOnFail: true,
          timeout: 600,
        },
        { parent: this },
      );
    }
    if (!releases.argocd) throw new Error('Argo CD must be installed on every cluster');
    this.releases = { ...releases, argocd: releases.argocd };
    this.argocdNamespace = ADDON_CHARTS.argocd.namespace;
    this.registerOutputs({
      releases: Object.fromEntries(Object.entries(releases).map(([id, rel]) => [id, rel!.status])),
    });
  }
}
