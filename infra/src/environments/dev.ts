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
  // Placeholder receivers (like the example API hosts): point them at the team's webhook.
  alerting: {
    receivers: {
      critical: { url: 'https://alerts.example.com/jobplane/dev/critical' },
      warning: { url: 'https://alerts.example.com/jobplane/dev/warning' },
    },
  },
  // The event spine's broker, in the cluster (JetStream on a 2Gi PVC).
  nats: {},
  argocdCluster: 'jobplane-dev',
  // kind maps the ingress controller to 127.0.0.1; `*.localhost` resolves there (RFC 6761).
  ingress: { host: 'api.jobplane.localhost' },
  capacity: {
    // The kind node is a container on the developer's machine; this is the floor the docs ask for.
    largestNode: { description: 'kind node (2 CPUs, 6 GiB for Docker)', cpu: '2', memory: '6Gi' },
  },
};
