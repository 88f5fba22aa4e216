/**
 * `@jobplane/constructs`: the Jobplane platform as cdk8s constructs, the environment configs,
 * the alert rules, in-process synthesis and the offline verifier.
 */
export * from './lib/errors.js';
export type { ImageRef } from './lib/image.js';
export type { ResourceSpec } from './lib/resources.js';
export type { EnvVar, SecretKeyRef } from './lib/pod.js';
export { RUNTIME_POD_LABEL, ZONE_TOPOLOGY_KEY, type PodScheduling } from './lib/pod.js';
export { parseQuantity } from './lib/quantity.js';
export {
  API_PORT,
  METRICS_PORT,
  DEFAULT_RUNTIME_SECRETS,
  NATS_URL_ENV,
  OTEL_ENV_VARS,
  knownRuntimeEnv,
  type RuntimeIntegrations,
  type RuntimeSecrets,
} from './lib/runtime.js';
export { SYNC_WAVES, type SyncWave } from './lib/sync.js';
export { backlogQuery } from './lib/metrics.js';

export * from './namespace-quota.js';
export * from './priority-classes.js';
export * from './api-ingress.js';
export * from './service-account.js';
export * from './namespaced-reader.js';
export * from './job-api.js';
export * from './relay.js';
export * from './launcher.js';
export * from './worker-pool.js';
export * from './queue-scaler.js';
export * from './isolated-job-template.js';
export * from './batch-job-template.js';
export * from './migrations.js';
export * from './redis.js';
export * from './postgres.js';
export * from './prometheus.js';
export * from './alert-rules.js';
export * from './alertmanager-config.js';
export * from './alertmanager.js';
export * from './nats.js';
export * from './network-policies.js';
export * from './argocd-project.js';
export * from './argocd-application.js';
export * from './job-platform.js';
export * from './imports/crds.js';

export * from './environments/index.js';
export * from './synth/synthesize.js';
export * from './verify/index.js';
