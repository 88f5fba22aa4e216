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
  // Placeholder receivers (like the example API hosts): point them at the team's webhook.
  alerting: {
    receivers: {
      critical: { url: 'https://alerts.example.com/jobplane/prod/critical' },
      warning: { url: 'https://alerts.example.com/jobplane/prod/warning' },
    },
  },
  argocdCluster: 'jobplane-prod',
  ingress: { host: 'api.jobplane.example.com' },
  // 3 AZs (stacks): the api's 3..12 and the relay's 2 replicas never share a zone while another has none.
  scheduling: { zoneSpread: 'DoNotSchedule' },
  /**
   * Karpenter's NodePool launches c/m/r instances of 4..32 vCPUs (stacks/src/capacity.ts). The
   * largest, a c6i/m6i/r6i.8xlarge, has 32 vCPUs; allocatable CPU = 32 - 0.15 (EKS kube-reserved for
   * 32 cores). Memory is the smallest family's (c, 64 GiB): minus Karpenter's 7.5 % VM overhead
   * and ~2.9 GiB kube-reserved + eviction threshold, 56 GiB.
   */
  capacity: {
    largestNode: { description: 'Karpenter c6i.8xlarge (32 vCPU, 64 GiB)', cpu: '31850m', memory: '56Gi' },
    nodePoolLimits: { cpu: '128', memory: '512Gi' },
  },
};
