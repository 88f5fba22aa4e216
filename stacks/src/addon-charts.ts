/**
 * The one table of Helm charts the platform installs, with pinned versions.
 *
 * Versions are exact (no ranges): a `pulumi up` next month installs what was reviewed today.
 * Each version can be overridden per stack with `jobplane:chartVersions` (validated in config.ts).
 * @see https://artifacthub.io/packages/helm/kedacore/keda
 * @see https://artifacthub.io/packages/helm/argo/argo-cd
 * @see https://artifacthub.io/packages/helm/metrics-server/metrics-server
 * @see https://artifacthub.io/packages/helm/prometheus-community/kube-prometheus-stack
 * @see https://artifacthub.io/packages/helm/traefik/traefik
 * @see https://artifacthub.io/packages/helm/cert-manager/cert-manager
 * @see https://karpenter.sh/docs/getting-started/getting-started-with-karpenter/
 *
 * A chart is either `chart` in the Helm repository `repo`, or an OCI reference in `chart` (`oci://…`)
 * with no `repo`.
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
  /**
   * Ingress controller (kind and EKS): Traefik serves `networking.k8s.io/v1` Ingresses of class
   * `traefik` (see `INGRESS` in ingress.ts). ingress-nginx is not used: it was retired upstream.
   */
  traefik: {
    chart: 'traefik',
    releaseName: 'traefik',
    repo: 'https://traefik.github.io/charts',
    version: '39.0.9',
    namespace: 'traefik',
    clusters: ['kind', 'eks'],
  },
  /** TLS certificates for the Ingresses, from the `jobplane` ClusterIssuer (ingress.ts). */
  certManager: {
    chart: 'cert-manager',
    releaseName: 'cert-manager',
    repo: 'https://charts.jetstack.io',
    version: 'v1.19.4',
    namespace: 'cert-manager',
    clusters: ['kind', 'eks'],
  },
  /** Node autoscaling on EKS: NodePool and EC2NodeClass in capacity.ts. */
  karpenter: {
    chart: 'oci://public.ecr.aws/karpenter/karpenter',
    releaseName: 'karpenter',
    repo: undefined,
    version: '1.10.0',
    namespace: 'kube-system',
    clusters: ['eks'],
  },
} as const;

export type AddonId = keyof typeof ADDON_CHARTS;

export const ADDON_IDS = Object.keys(ADDON_CHARTS) as AddonId[];

/** An exact SemVer 2.0 version (a leading `v` as some charts tag it): no `^`, `~`, `x`, `*`, ranges or spaces. */
export const EXACT_SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
