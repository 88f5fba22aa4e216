/** The three environments, and the GitOps settings shared by them. */
import { devEnvironment } from './dev.js';
import type { EnvironmentConfig } from './environment.js';
import { prodEnvironment } from './prod.js';
import { stagingEnvironment } from './staging.js';

export * from './environment.js';
export { devEnvironment, stagingEnvironment, prodEnvironment };

/** Every environment, in synth order. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [
  devEnvironment,
  stagingEnvironment,
  prodEnvironment,
];

/** Where Argo CD reads this repository from: one place for every Application. */
export interface GitOpsConfig {
  readonly repoURL: string;
  readonly targetRevision: string;
  /** Namespace Argo CD runs in. */
  readonly argocdNamespace: string;
  /** AppProject of every Jobplane Application. */
  readonly project: string;
}

export const GITOPS: GitOpsConfig = {
  repoURL: 'https://github.com/jobplane/jobplane.git',
  targetRevision: 'main',
  argocdNamespace: 'argocd',
  project: 'jobplane',
};
