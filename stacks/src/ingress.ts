/**
 * Ingress: what the stacks provide so the constructs can publish the API over TLS.
 *
 * - Traefik (release `traefik`, namespace `traefik`) serves `networking.k8s.io/v1` Ingresses of
 *   class `traefik`. On kind its Service is a NodePort on fixed ports that the kind cluster maps to
 *   the host (`kindClusterConfig`); on EKS it is a LoadBalancer Service that the EKS cloud
 *   controller turns into a Network Load Balancer in the public subnets.
 * - cert-manager (release `cert-manager`, namespace `cert-manager`) with its CRDs, and the
 *   ClusterIssuer `jobplane`: Let's Encrypt (ACME HTTP-01 through the `traefik` class) when
 *   `jobplane:acmeEmail` is set on EKS, otherwise self-signed (always on kind, where no ACME server
 *   can reach the cluster).
 *
 * The constructs' contract (`INGRESS`): an Ingress with `ingressClassName: traefik`, annotation
 * `cert-manager.io/cluster-issuer: jobplane` and a `tls` entry; the API NetworkPolicy admits the
 * controller's pods (namespace `traefik`, label `app.kubernetes.io/name: traefik`).
 * @see https://doc.traefik.io/traefik/providers/kubernetes-ingress/
 * @see https://cert-manager.io/docs/usage/ingress/
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ADDON_CHARTS } from './addon-charts.js';
import { checkMatch, EMAIL } from './props.js';

export const INGRESS = {
  namespace: ADDON_CHARTS.traefik.namespace,
  className: 'traefik',
  /** Labels of the controller pods (for the constructs' NetworkPolicy `from`). */
  podLabels: { 'app.kubernetes.io/name': 'traefik' },
  /** Node ports of the controller on kind, mapped to the host by the kind cluster config. */
  nodePorts: { http: 30080, https: 30443 },
  clusterIssuer: 'jobplane',
} as const;

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** Helm values of Traefik per cluster kind. */
export function traefikValues(cluster: 'kind' | 'eks'): Record<string, unknown> {
  const common = {
    ingressClass: { enabled: true, isDefaultClass: false, name: INGRESS.className },
    providers: { kubernetesIngress: { enabled: true, publishedService: { enabled: cluster === 'eks' } } },
  };
  if (cluster === 'kind') {
    return {
      ...common,
      service: { type: 'NodePort' },
      ports: { web: { nodePort: INGRESS.nodePorts.http }, websecure: { nodePort: INGRESS.nodePorts.https } },
    };
  }
  return {
    ...common,
    deployment: { replicas: 2 },
    podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    service: {
      type: 'LoadBalancer',
      annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
    },
  };
}

/** Helm values of cert-manager: CRDs installed with the release and kept on uninstall. */
export function certManagerValues(): Record<string, unknown> {
  return { crds: { enabled: true, keep: true } };
}

/** The `jobplane` ClusterIssuer: ACME (Let's Encrypt) with an e-mail, self-signed without. */
export function clusterIssuer(acmeEmail?: string): Record<string, unknown> {
  if (acmeEmail !== undefined) checkMatch('acmeEmail', acmeEmail, EMAIL, 'is not an e-mail address');
  const spec = acmeEmail
    ? {
        acme: {
          email: acmeEmail,
          server: LETS_ENCRYPT_DIRECTORY,
          privateKeySecretRef: { name: `${INGRESS.clusterIssuer}-acme-account` },
          solvers: [{ http01: { ingress: { ingressClassName: INGRESS.className } } }],
        },
      }
    : { selfSigned: {} };
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: { name: INGRESS.clusterIssuer },
    spec,
  };
}

export interface ClusterIssuerProps {
  /** ACME account e-mail; self-signed when absent. */
  readonly acmeEmail?: string;
  /** The cert-manager release: its CRDs and webhook must exist first. */
  readonly certManager: k8s.helm.v3.Release;
}

export class JobplaneClusterIssuer extends pulumi.ComponentResource {
  readonly issuerName: string = INGRESS.clusterIssuer;

  constructor(name: string, props: ClusterIssuerProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:ingress:ClusterIssuer', name, {}, opts);
    const obj = clusterIssuer(props.acmeEmail) as { apiVersion: string; kind: string } & Record<
      string,
      unknown
    >;
    new k8s.apiextensions.CustomResource(`${name}-issuer`, obj, {
      parent: this,
      dependsOn: [props.certManager],
    });
    this.registerOutputs({});
  }
}
