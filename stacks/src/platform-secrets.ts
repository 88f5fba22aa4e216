/**
 * PlatformSecrets: the Secrets the constructs reference but never write.
 *
 * `jobplane-postgres` (`DATABASE_URL`), `jobplane-redis` (`REDIS_URL`), `jobplane-api-keys`
 * (`JOBPLANE_API_KEYS`, `JOBPLANE_ADMIN_KEY`) and, in dev, `jobplane-postgres-credentials`
 * (`POSTGRES_PASSWORD` for the in-cluster PostgreSQL). Values come from Pulumi outputs (RDS/ElastiCache in
 * the cloud, random passwords for the in-cluster dev stores) and stay secret in the state; nothing
 * secret is committed to Git (checklist S1). The namespaces are created here (restricted Pod
 * Security Standard labels) so the Secrets exist before Argo CD syncs the workloads; Argo CD's own
 * Namespace manifests then apply over them.
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

export interface PlatformSecretsProps {
  readonly databaseUrl: pulumi.Input<string>;
  readonly redisUrl: pulumi.Input<string>;
  /** dev: password the in-cluster PostgreSQL initialises with (`jobplane-postgres-credentials`). */
  readonly inClusterPostgresPassword?: pulumi.Input<string>;
  /** Client name of the generated API key (`JOBPLANE_API_KEYS` = `client:key`). */
  readonly apiClient: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export class PlatformSecrets extends pulumi.ComponentResource {
  readonly namespaces: readonly k8s.core.v1.Namespace[];
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
    const namespaces: k8s.core.v1.Namespace[] = [];
    const secrets: k8s.core.v1.Secret[] = [];
    for (const ns of PLATFORM_NAMESPACES) {
      const namespace = new k8s.core.v1.Namespace(
        `${name}-ns-${ns}`,
        {
          metadata: {
            name: ns,
            labels: {
              ...labels,
              'pod-security.kubernetes.io/enforce': 'restricted',
              'pod-security.kubernetes.io/enforce-version': 'latest',
            },
          },
        },
        parent,
      );
      namespaces.push(namespace);
      for (const secretName of SECRETS_BY_NAMESPACE[ns]) {
        const secretData = data[secretName];
        if (secretData === undefined) continue;
        secrets.push(
          new k8s.core.v1.Secret(
            `${name}-${ns}-${secretName}`,
            {
              metadata: { name: secretName, namespace: namespace.metadata.name, labels },
              type: 'Opaque',
              stringData: pulumi.secret(pulumi.output(secretData)),
            },
            parent,
          ),
        );
      }
    }
    this.namespaces = namespaces;
    this.secrets = secrets;
    this.registerOutputs({});
  }
}
