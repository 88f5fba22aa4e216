import type { EnvironmentConfig } from './environment.js';

/** staging: EKS with ElastiCache/RDS in the VPC's private subnets, prometheus-operator, two of everything. */
export const stagingEnvironment: EnvironmentConfig = {
  name: 'staging',
  imageRepository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/jobplane',
  api: { replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 4 } },
  relay: { replicas: 2 },
  dataStores: {
    mode: 'external',
    redis: { cidrs: ['10.20.0.0/16'] },
    postgres: { cidrs: ['10.20.0.0/16'] },
  },
  monitoring: {
    mode: 'operator',
    namespace: 'monitoring',
    prometheusAddress: 'http://prometheus-operated.monitoring.svc:9090',
  },
  jobsQuota: { requestsCpu: '8', limitsMemory: '16Gi', jobs: 50, pods: 50 },
  argocdCluster: 'jobplane-staging',
};
