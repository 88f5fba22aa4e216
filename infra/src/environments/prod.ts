import type { EnvironmentConfig } from './environment.js';

/** prod: EKS with ElastiCache/RDS, prometheus-operator, HA api/relay, wide scaler bounds. */
export const prodEnvironment: EnvironmentConfig = {
  name: 'prod',
  imageRepository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/jobplane',
  api: {
    replicas: 3,
    autoscaling: { minReplicas: 3, maxReplicas: 12 },
    resources: { cpu: '250m', memory: '512Mi' },
  },
  relay: { replicas: 2 },
  dataStores: {
    mode: 'external',
    redis: { cidrs: ['10.30.0.0/16'] },
    postgres: { cidrs: ['10.30.0.0/16'] },
  },
  monitoring: {
    mode: 'operator',
    namespace: 'monitoring',
    prometheusAddress: 'http://prometheus-operated.monitoring.svc:9090',
  },
  jobsQuota: { requestsCpu: '40', limitsMemory: '80Gi', jobs: 200, pods: 200 },
  logLevel: 'info',
  argocdCluster: 'jobplane-prod',
};
