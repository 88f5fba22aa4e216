import type { EnvironmentConfig } from './environment.js';

/** dev: kind, in-cluster Redis/PostgreSQL/Prometheus, one replica of everything. */
export const devEnvironment: EnvironmentConfig = {
  name: 'dev',
  imageRepository: 'jobplane/runtime',
  api: { replicas: 1, resources: { cpu: '50m', memory: '192Mi' } },
  relay: { replicas: 1 },
  workers: {
    default: { concurrency: 5, minReplicas: 1, maxReplicas: 2, resources: { cpu: '100m', memory: '256Mi' } },
    backtest: {
      concurrency: 2,
      minReplicas: 0,
      maxReplicas: 2,
      scaleToZero: true,
      resources: { cpu: '100m', memory: '256Mi' },
    },
  },
  isolated: { 'backtest-full': { maxReplicas: 2, resources: { cpu: '250m', memory: '512Mi' } } },
  dataStores: { mode: 'in-cluster' },
  monitoring: { mode: 'in-cluster' },
  jobsQuota: { requestsCpu: '2', limitsMemory: '4Gi', jobs: 20, pods: 20 },
  logLevel: 'debug',
  argocdCluster: 'jobplane-dev',
};
