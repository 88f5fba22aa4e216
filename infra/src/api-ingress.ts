/**
 * ApiIngress: the API published through the cluster's ingress controller with TLS. cert-manager
 * issues the certificate from the ClusterIssuer named in the annotation into `tlsSecretName`
 * (its ingress-shim watches annotated Ingresses); the controller terminates TLS.
 *
 * The defaults are the stacks' contract (`INGRESS` in stacks/src/ingress.ts, checked by
 * stacks/test/contract.test.ts): class `traefik`, ClusterIssuer `jobplane`, controller pods
 * `app.kubernetes.io/name: traefik` in namespace `traefik`.
 * @see https://kubernetes.io/docs/concepts/services-networking/ingress/
 * @see https://cert-manager.io/docs/usage/ingress/
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkDnsLabel, checkHostname } from './lib/errors.js';
import type { Labels } from './lib/labels.js';
import { argoAnnotations } from './lib/sync.js';

/** The ingress controller and issuer the stacks install (one place in the library). */
export const DEFAULT_INGRESS = {
  className: 'traefik',
  clusterIssuer: 'jobplane',
  controller: { namespace: 'traefik', podLabels: { 'app.kubernetes.io/name': 'traefik' } },
} as const;

export const CLUSTER_ISSUER_ANNOTATION = 'cert-manager.io/cluster-issuer';

/** Where the controller's pods run (the API NetworkPolicy admits exactly these). */
export interface IngressController {
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

export interface ApiIngressProps {
  /** Public host name of the API, e.g. `api.example.com`. */
  readonly host: string;
  readonly namespace: string;
  /** The API Service and its named port. */
  readonly service: { readonly name: string; readonly portName: string };
  /** @default 'jobplane-api' */
  readonly name?: string;
  /** @default DEFAULT_INGRESS.className */
  readonly className?: string;
  /** @default DEFAULT_INGRESS.clusterIssuer */
  readonly clusterIssuer?: string;
  /** @default `<name>-tls` */
  readonly tlsSecretName?: string;
  readonly labels?: Labels;
}

export class ApiIngress extends Construct {
  /** The L1 Ingress (escape hatch). */
  readonly resource: ApiObject;
  readonly host: string;
  readonly tlsSecretName: string;

  constructor(scope: Construct, id: string, props: ApiIngressProps) {
    super(scope, id);
    this.host = checkHostname('host', props.host);
    const name = checkDnsLabel('name', props.name ?? 'jobplane-api');
    const className = checkDnsLabel('className', props.className ?? DEFAULT_INGRESS.className);
    const issuer = checkDnsLabel('clusterIssuer', props.clusterIssuer ?? DEFAULT_INGRESS.clusterIssuer);
    this.tlsSecretName = checkDnsLabel('tlsSecretName', props.tlsSecretName ?? `${name}-tls`);
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name,
        namespace: checkDnsLabel('namespace', props.namespace),
        labels: props.labels ?? { 'app.kubernetes.io/part-of': 'jobplane' },
        annotations: { ...argoAnnotations('workloads'), [CLUSTER_ISSUER_ANNOTATION]: issuer },
      },
      spec: {
        ingressClassName: className,
        tls: [{ hosts: [this.host], secretName: this.tlsSecretName }],
        rules: [
          {
            host: this.host,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: props.service.name, port: { name: props.service.portName } } },
                },
              ],
            },
          },
        ],
      },
    });
  }
}
