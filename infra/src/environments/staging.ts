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
  // Placeholder receivers (like the example API hosts): point them at the team's webhook.
  alerting: {
    receivers: {
      critical: { url: 'https://alerts.example.com/jobplane/staging/critical' },
      warning: { url: 'https://alerts.example.com/jobplane/staging/warning' },
    },
  },
  argocdCluster: 'jobplane-staging',
  ingress: { host: 'api.staging.jobplane.example.com' },
  scheduling: { zoneSpread: 'ScheduleAnyway' },
  /**
   * Karpenter's NodePool launches c/m/r instances of 4..32 vCPUs (stacks/src/capacity.ts). The
   * largest, a c6i/m6i/r6i.8xlarge, has 32 vCPUs; allocatable CPU = 32 - 0.15 (EKS kube-reserved for
   * 32 cores). Memory is the smallest family's (c, 64 GiB): minus Karpenter's 7.5 % VM overhead
   * and ~2.9 GiB kube-reserved + eviction threshold, 56 GiB.
   */
  capacity: {
    largestNode: { description: 'Karpenter c6i.8xlarge (32 vCPU, 64 GiB)', cpu: '31850m', memory: '56Gi' },
    nodePoolLimits: { cpu: '16', memory: '64Gi' },
  },
};
