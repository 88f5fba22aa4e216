import type { EnvironmentConfig } from './environment.js';

/** dev: kind, in-cluster Redis/PostgreSQL/Prometheus, one replica of everything. */
export const devEnvironment: EnvironmentConfig = {
  name: 'dev',
  imageRepository: 'jobplane/runtime',
  api: { replicas: 1, resources: { cpu: '50m', memory: '192Mi' } },
  relay: { replicas: 1 },
  dataStores: { mode: 'in-cluster' },
  monitoring: { mode: 'in-cluster' },
  jobsQuota: { requestsCpu: '2', limitsMemory: '4Gi', jobs: 20, pods: 20 },
  logLevel: 'debug',
  argocdCluster: 'jobplane-dev',
};
