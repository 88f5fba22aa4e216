/**
 * The Jobplane platform program: cluster → add-ons (ingress, TLS, autoscaling) → platform
 * Namespaces and Secrets → GitOps bootstrap.
 *
 * `createPlatform()` takes a validated `StackConfig` (see config.ts) and returns the stack outputs.
 * dev runs on kind with the in-cluster data stores Argo CD deploys from `charts-out/dev`;
 * staging and prod run on EKS with ElastiCache and RDS.
 */
import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { GIT_REPO_URL, type EksStackConfig, type KindStackConfig, type StackConfig } from './config.js';
import { KarpenterNodePools, karpenterValues } from './capacity.js';
import { EksCluster } from './eks-cluster.js';
import { GitOpsBootstrap } from './gitops-bootstrap.js';
import { JobplaneClusterIssuer } from './ingress.js';
import { KindCluster } from './kind-cluster.js';
import { PlatformAddons } from './platform-addons.js';
import {
  PlatformNamespaces,
  PlatformSecrets,
  postgresUrl,
  redisUrl,
  type PlatformSecretsProps,
} from './platform-secrets.js';

/**
 * The in-cluster dev data stores as synthesized in `charts-out/dev` (Services `jobplane-postgres`
 * and `jobplane-redis`; PostgreSQL user and database `jobplane`, password from
 * `jobplane-postgres-credentials`). A test checks these against the synthesized manifests.
 */
export const DEV_DATA_STORES = {
  postgres: {
    host: 'jobplane-postgres.jobplane.svc.cluster.local',
    port: 5432,
    database: 'jobplane',
    username: 'jobplane',
  },
  redis: { host: 'jobplane-redis.jobplane.svc.cluster.local', port: 6379 },
} as const;

export interface PlatformOutputs {
  kubeconfig: pulumi.Output<string>;
  clusterName: pulumi.Output<string>;
  ecrRepositoryUrl?: pulumi.Output<string>;
  /** EKS only: the OIDC provider an IRSA role for a future workload would trust. */
  oidcProviderArn?: pulumi.Output<string>;
  argocdUrlHint: string;
  rootApplication: string;
}

export interface PlatformOptions {
  /** Folder with the synthesized Argo CD objects. @default the repository's `argocd/` */
  readonly argocdDir?: string;
}

/** How to reach the Argo CD UI (no Ingress is created: port-forward through the API server). */
export function argocdUrlHint(namespace: string): string {
  return (
    `pulumi stack output kubeconfig --show-secrets > kubeconfig && ` +
    `kubectl --kubeconfig kubeconfig -n ${namespace} port-forward svc/argocd-server 8080:443, ` +
    `then open https://localhost:8080 (user admin; password: kubectl --kubeconfig kubeconfig -n ${namespace} ` +
    `get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d)`
  );
}

function kindCluster(cfg: KindStackConfig) {
  const cluster = new KindCluster(cfg.clusterName, {
    clusterName: cfg.clusterName,
    nodeImage: cfg.kind.nodeImage,
    workers: cfg.kind.workers,
    ingressHostPorts: { http: cfg.kind.httpPort, https: cfg.kind.httpsPort },
  });
  return { cluster, kubeconfig: cluster.kubeconfig, clusterName: cluster.clusterName };
}

/** dev: a random password for the in-cluster PostgreSQL, shared by its StatefulSet and DATABASE_URL. */
function devSecrets(
  cfg: KindStackConfig,
  opts: pulumi.CustomResourceOptions,
): Omit<PlatformSecretsProps, 'apiClient' | 'namespaces'> {
  const pg = DEV_DATA_STORES.postgres;
  const password = new random.RandomPassword(
    `${cfg.clusterName}-postgres-password`,
    { length: 32, special: false },
    opts,
  );
  return {
    databaseUrl: password.result.apply((pw) => postgresUrl({ ...pg, password: pw, tls: false })),
    redisUrl: redisUrl({ ...DEV_DATA_STORES.redis, tls: false }),
    inClusterPostgresPassword: password.result,
  };
}

function eksCluster(cfg: EksStackConfig) {
  const provider = new aws.Provider(`${cfg.clusterName}-aws`, {
    region: cfg.eks.region as aws.Region,
    defaultTags: { tags: { ...cfg.tags } },
  });
  const cluster = new EksCluster(
    cfg.clusterName,
    { clusterName: cfg.clusterName, kubernetesVersion: cfg.kubernetesVersion, tags: cfg.tags, ...cfg.eks },
    { providers: [provider] },
  );
  return { cluster, kubeconfig: cluster.kubeconfig, clusterName: cluster.clusterName };
}

function eksSecrets(
  cfg: EksStackConfig,
  cluster: EksCluster,
): Omit<PlatformSecretsProps, 'apiClient' | 'namespaces'> | undefined {
  const { postgres, redis } = cluster;
  if (!postgres || !redis) return undefined;
  return {
    databaseUrl: pulumi
      .all([postgres.host, postgres.port, postgres.password])
      .apply(([host, port, password]) =>
        postgresUrl({
          host,
          port,
          password,
          username: postgres.username,
          database: postgres.database,
          tls: true,
        }),
      ),
    redisUrl: pulumi
      .all([redis.host, redis.authToken])
      .apply(([host, password]) => redisUrl({ host, port: redis.port, password, tls: true })),
  };
}

export function createPlatform(cfg: StackConfig, options: PlatformOptions = {}): PlatformOutputs {
  const c = cfg.cluster === 'kind' ? kindCluster(cfg) : eksCluster(cfg);
  const k8sProvider = new k8s.Provider(
    `${cfg.clusterName}-k8s`,
    { kubeconfig: c.kubeconfig, enableServerSideApply: true },
    // Wait for the whole cluster component (node group included) before installing anything.
    { dependsOn: [c.cluster] },
  );
  const k8sOpts = { providers: [k8sProvider] };
  const eks = c.cluster instanceof EksCluster ? c.cluster : undefined;
  const karpenter = eks?.karpenter;
  const addons = new PlatformAddons(
    `${cfg.clusterName}-addons`,
    {
      cluster: cfg.cluster,
      chartVersions: cfg.chartVersions,
      ...(karpenter
        ? {
            extraValues: {
              karpenter: pulumi
                .all([karpenter.clusterName, karpenter.controllerRoleArn, karpenter.interruptionQueueName])
                .apply(([clusterName, controllerRoleArn, interruptionQueueName]) =>
                  karpenterValues({
                    clusterName,
                    controllerRoleArn,
                    ...(interruptionQueueName ? { interruptionQueueName } : {}),
                  }),
                ),
            },
          }
        : {}),
    },
    k8sOpts,
  );
  if (cfg.cluster === 'eks' && karpenter) {
    const release = addons.releases.karpenter;
    if (!release) throw new Error('Karpenter must be installed on EKS');
    new KarpenterNodePools(
      `${cfg.clusterName}-capacity`,
      { wiring: karpenter, settings: cfg.eks.karpenter, tags: cfg.tags, release },
      k8sOpts,
    );
  }
  const certManager = addons.releases.certManager;
  if (!certManager) throw new Error('cert-manager must be installed on every cluster');
  new JobplaneClusterIssuer(
    `${cfg.clusterName}-tls`,
    // kind is unreachable for an ACME server: always self-signed there.
    { certManager, ...(cfg.cluster === 'eks' && cfg.acmeEmail ? { acmeEmail: cfg.acmeEmail } : {}) },
    k8sOpts,
  );
  const labels = { 'app.kubernetes.io/managed-by': 'pulumi' };
  const namespaces = new PlatformNamespaces(
    `${cfg.clusterName}-ns`,
    { kubernetesVersion: cfg.kubernetesVersion, labels },
    k8sOpts,
  );
  const secretSources =
    cfg.cluster === 'kind' ? devSecrets(cfg, {}) : eksSecrets(cfg, c.cluster as EksCluster);
  if (secretSources) {
    new PlatformSecrets(
      `${cfg.clusterName}-secrets`,
      { ...secretSources, namespaces, apiClient: cfg.apiClient, labels },
      k8sOpts,
    );
  }
  const bootstrap = new GitOpsBootstrap(
    `${cfg.clusterName}-gitops`,
    {
      repoURL: GIT_REPO_URL,
      environment: cfg.environment,
      argocdNamespace: addons.argocdNamespace,
      argocdRelease: addons.releases.argocd,
      ...(options.argocdDir ? { argocdDir: options.argocdDir } : {}),
    },
    // The workloads Argo CD syncs go into the Namespaces Pulumi owns.
    { ...k8sOpts, dependsOn: [addons, namespaces] },
  );
  return {
    kubeconfig: c.kubeconfig,
    clusterName: c.clusterName,
    ...(eks ? { ecrRepositoryUrl: eks.ecrRepositoryUrl, oidcProviderArn: eks.oidcProviderArn } : {}),
    argocdUrlHint: argocdUrlHint(addons.argocdNamespace),
    rootApplication: bootstrap.rootApplication,
  };
}
