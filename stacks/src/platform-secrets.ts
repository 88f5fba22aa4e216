/**
 * PlatformSecrets: the Secrets the constructs reference but never write.
 *
 * `jobplane-postgres` (`DATABASE_URL`), `jobplane-redis` (`REDIS_URL`), `jobplane-api-keys`
 * (`JOBPLANE_API_KEYS`, `JOBPLANE_ADMIN_KEY`) and, in dev, `jobplane-postgres-credentials`
 * (`POSTGRES_PASSWORD` for the in-cluster PostgreSQL). Values come from Pulumi outputs (RDS/ElastiCache in
 * the cloud, random passwords for the in-cluster dev stores) and stay secret in the state; nothing
 * secret is committed to Git (checklist S1).
 *
 * Ownership: Pulumi owns the platform Namespaces (`PlatformNamespaces`, restricted Pod Security
 * Standard) and these Secrets; Argo CD owns the workloads inside. The constructs must not emit the
 * Namespaces (an Application deleted or renamed with `prune` would otherwise delete them, and every
 * Secret in them). Both carry `argocd.argoproj.io/sync-options: Prune=false,Delete=false`, so even
 * an Argo CD that once tracked them (an older `charts-out/` that still had the Namespaces) never
 * deletes them.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/#no-prune-resources
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { PLATFORM_NAMESPACES } from './config.js';

export const SECRET_NAMES = {
  postgres: 'jobplane-postgres',
  redis: 'jobplane-redis',
  apiKeys: 'jobplane-api-keys',
  /** dev only: `POSTGRES_PASSWORD` of the in-cluster PostgreSQL StatefulSet. */
  postgresCredentials: 'jobplane-postgres-credentials',
} as const;

/** Which Secrets go to which namespace: isolated Jobs need the stores, never the API keys. */
export const SECRETS_BY_NAMESPACE: Readonly<Record<(typeof PLATFORM_NAMESPACES)[number], readonly string[]>> =
  {
    jobplane: [
      SECRET_NAMES.postgres,
      SECRET_NAMES.redis,
      SECRET_NAMES.apiKeys,
      SECRET_NAMES.postgresCredentials,
    ],
    'jobplane-jobs': [SECRET_NAMES.postgres, SECRET_NAMES.redis],
  };

/** `postgresql://user:password@host:port/db?sslmode=…` with every part URL-encoded. */
export function postgresUrl(p: {
  username: string;
  password: string;
  host: string;
  port: number;
  database: string;
  tls: boolean;
}): string {
  const auth = `${encodeURIComponent(p.username)}:${encodeURIComponent(p.password)}`;
  return `postgresql://${auth}@${p.host}:${p.port}/${encodeURIComponent(p.database)}${p.tls ? '?sslmode=require' : ''}`;
}

/** `rediss://:token@host:port` (TLS) or `redis://host:port`. */
export function redisUrl(p: { host: string; port: number; password?: string; tls: boolean }): string {
  const auth = p.password ? `:${encodeURIComponent(p.password)}@` : '';
  return `${p.tls ? 'rediss' : 'redis'}://${auth}${p.host}:${p.port}`;
}

/** Annotations that keep Argo CD from ever pruning or deleting what Pulumi owns. */
export const ARGOCD_HANDS_OFF = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } as const;

/** Pod Security Standard labels of the platform Namespaces, pinned to the cluster's minor version. */
export function podSecurityLabels(kubernetesVersion: string): Record<string, string> {
  if (!/^1\.\d{2}$/.test(kubernetesVersion)) {
    throw new Error(`'kubernetesVersion' (${kubernetesVersion}) must be a minor version such as '1.34'`);
  }
  const v = `v${kubernetesVersion}`;
  return {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': v,
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': v,
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': v,
  };
}

export interface PlatformNamespacesProps {
  readonly kubernetesVersion: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The platform Namespaces, owned by Pulumi (created whether or not the stack writes Secrets). */
export class PlatformNamespaces extends pulumi.ComponentResource {
  readonly namespaces: Readonly<Record<(typeof PLATFORM_NAMESPACES)[number], k8s.core.v1.Namespace>>;

  constructor(name: string, props: PlatformNamespacesProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:platform:PlatformNamespaces', name, {}, opts);
    const pss = podSecurityLabels(props.kubernetesVersion);
    const namespaces = {} as Record<(typeof PLATFORM_NAMESPACES)[number], k8s.core.v1.Namespace>;
    for (const ns of PLATFORM_NAMESPACES) {
      namespaces[ns] = new k8s.core.v1.Namespace(
        `${name}-${ns}`,
        {
          metadata: {
            name: ns,
            labels: { ...props.labels, 'app.kubernetes.io/part-of': 'jobplane', ...pss },
            annotations: { ...ARGOCD_HANDS_OFF },
          },
        },
        { parent: this },
      );
    }
    this.namespaces = namespaces;
    this.registerOutputs({});
  }
}

export interface PlatformSecretsProps {
  /** Where the Secrets go (`PlatformNamespaces`). */
  readonly namespaces: PlatformNamespaces;
  readonly databaseUrl: pulumi.Input<string>;
  readonly redisUrl: pulumi.Input<string>;
  /** dev: password the in-cluster PostgreSQL initialises with (`jobplane-postgres-credentials`). */
  readonly inClusterPostgresPassword?: pulumi.Input<string>;
  /** Client name of the generated API key (`JOBPLANE_API_KEYS` = `client:key`). */
  readonly apiClient: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export class PlatformSecrets extends pulumi.ComponentResource {
  readonly secrets: readonly k8s.core.v1.Secret[];

  constructor(name: string, props: PlatformSecretsProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:platform:PlatformSecrets', name, {}, opts);
    const parent = { parent: this };
    const apiKey = new random.RandomPassword(`${name}-api-key`, { length: 48, special: false }, parent);
    const adminKey = new random.RandomPassword(`${name}-admin-key`, { length: 48, special: false }, parent);
    const data: Record<string, pulumi.Input<Record<string, pulumi.Input<string>>> | undefined> = {
      [SECRET_NAMES.postgres]: { DATABASE_URL: props.databaseUrl },
      [SECRET_NAMES.redis]: { REDIS_URL: props.redisUrl },
      [SECRET_NAMES.apiKeys]: {
        JOBPLANE_API_KEYS: pulumi.interpolate`${props.apiClient}:${apiKey.result}`,
        JOBPLANE_ADMIN_KEY: adminKey.result,
      },
      [SECRET_NAMES.postgresCredentials]:
        props.inClusterPostgresPassword === undefined
          ? undefined
          : { POSTGRES_PASSWORD: props.inClusterPostgresPassword },
    };
    const labels = { ...props.labels, 'app.kubernetes.io/part-of': 'jobplane' };
    const secrets: k8s.core.v1.Secret[] = [];
    for (const ns of PLATFORM_NAMESPACES) {
      const namespace = props.namespaces.namespaces[ns];
      for (const secretName of SECRETS_BY_NAMESPACE[ns]) {
        const secretData = data[secretName];
        if (secretData === undefined) continue;
        secrets.push(
          new k8s.core.v1.Secret(
            `${name}-${ns}-${secretName}`,
            {
              metadata: {
                name: secretName,
                namespace: namespace.metadata.name,
                labels,
                annotations: { ...ARGOCD_HANDS_OFF },
              },
              type: 'Opaque',
              stringData: pulumi.secret(pulumi.output(secretData)),
            },
            parent,
          ),
        );
      }
    }
    this.secrets = secrets;
    this.registerOutputs({});
  }
}
