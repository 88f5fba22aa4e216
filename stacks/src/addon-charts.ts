/**
 * The one table of Helm charts the platform installs, with pinned versions.
 *
 * Versions are exact (no ranges): a `pulumi up` next month installs what was reviewed today.
 * Each version can be overridden per stack with `jobplane:chartVersions` (validated in config.ts).
 * @see https://artifacthub.io/packages/helm/kedacore/keda
 * @see https://artifacthub.io/packages/helm/argo/argo-cd
 * @see https://artifacthub.io/packages/helm/metrics-server/metrics-server
 * @see https://artifacthub.io/packages/helm/prometheus-community/kube-prometheus-stack
 */
export const ADDON_CHARTS = {
  keda: {
    chart: 'keda',
    releaseName: 'keda',
    repo: 'https://kedacore.github.io/charts',
    version: '2.21.1',
    namespace: 'keda',
    clusters: ['kind', 'eks'],
  },
  argocd: {
    chart: 'argo-cd',
    // With the chart's `nameOverride: argocd`, release 'argocd' yields Service 'argocd-server'.
    releaseName: 'argocd',
    repo: 'https://argoproj.github.io/argo-helm',
    version: '9.5.4',
    namespace: 'argocd',
    clusters: ['kind', 'eks'],
  },
  metricsServer: {
    chart: 'metrics-server',
    releaseName: 'metrics-server',
    repo: 'https://kubernetes-sigs.github.io/metrics-server/',
    version: '3.13.0',
    namespace: 'kube-system',
    clusters: ['kind', 'eks'],
  },
  /**
   * Prometheus Operator for staging/prod, whose environments use `monitoring.mode: 'operator'`:
   * the synthesized ServiceMonitors/PrometheusRule carry `release: prometheus` (the chart's default
   * selector for release `prometheus`) and the scalers query `prometheus-operated.monitoring.svc`.
   * dev runs the constructs' own in-cluster Prometheus instead.
   */
  prometheusStack: {
    chart: 'kube-prometheus-stack',
    releaseName: 'prometheus',
    repo: 'https://prometheus-community.github.io/helm-charts',
    version: '81.6.2',
    namespace: 'monitoring',
    clusters: ['eks'],
  },
} as const;

export type AddonId = keyof typeof ADDON_CHARTS;

export const ADDON_IDS = Object.keys(ADDON_CHARTS) as AddonId[];

/** An exact SemVer 2.0 version: no `^`, `~`, `x`, `*`, ranges or spaces. */
export const EXACT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
