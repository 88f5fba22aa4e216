/**
 * `npm run synth` / `make synth`: this repository's own deployment. The platform's environments
 * (infra/src/environments) run the example job types (`@jobplane/examples`), sized per queue below;
 * a team's repository does the same with its own catalog and sizing (docs/infra.md).
 * The queue names here are data of this deployment, not of the construct library.
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import catalog from '@jobplane/examples';
import type { EnvironmentConfig } from '../src/environments/environment.js';
import { ENVIRONMENTS } from '../src/environments/index.js';
import { main, type Deployment } from '../src/synth/main.js';

type QueueSizing = Pick<EnvironmentConfig, 'workers' | 'isolated'>;

/** Worker pools and ScaledJobs of the example queues, per environment. */
export const QUEUE_SIZING: Readonly<Record<string, QueueSizing>> = {
  dev: {
    workers: {
      default: {
        concurrency: 5,
        minReplicas: 1,
        maxReplicas: 2,
        resources: { cpu: '100m', memory: '256Mi' },
      },
      backtest: {
        concurrency: 2,
        minReplicas: 0,
        maxReplicas: 2,
        scaleToZero: true,
        resources: { cpu: '100m', memory: '256Mi' },
      },
    },
    isolated: { 'backtest-full': { maxReplicas: 2, resources: { cpu: '250m', memory: '512Mi' } } },
  },
  staging: {
    workers: {
      default: { concurrency: 10, minReplicas: 1, maxReplicas: 6 },
      backtest: { concurrency: 4, minReplicas: 0, maxReplicas: 6, scaleToZero: true },
    },
    isolated: { 'backtest-full': { maxReplicas: 4 } },
  },
  prod: {
    workers: {
      default: {
        concurrency: 20,
        minReplicas: 2,
        maxReplicas: 30,
        resources: { cpu: '500m', memory: '1Gi' },
      },
      backtest: { concurrency: 8, minReplicas: 1, maxReplicas: 20, resources: { cpu: '1', memory: '1Gi' } },
    },
    isolated: { 'backtest-full': { maxReplicas: 20, resources: { cpu: '2', memory: '2Gi' } } },
  },
};

/** The deployment `make synth` writes to charts-out/ and argocd/. */
export const DEPLOYMENT: Deployment = {
  catalog,
  environments: ENVIRONMENTS.map((env) => ({ ...env, ...QUEUE_SIZING[env.name] })),
};

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2), process.env, DEPLOYMENT).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`synth: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
