/**
 * Pulumi entry point (`Pulumi.yaml` → `main: stacks`, package.json `main: dist/index.js`).
 * Reads and validates the stack config, builds the platform, exports the stack outputs.
 */
import { loadStackConfig } from './config.js';
import { createPlatform } from './program.js';

const outputs = createPlatform(loadStackConfig());

/** Kubeconfig of the cluster (secret: `pulumi stack output kubeconfig --show-secrets`). */
export const kubeconfig = outputs.kubeconfig;
export const clusterName = outputs.clusterName;
/** ECR repository for the Jobplane image (EKS stacks only; kind loads images with `kind load`). */
export const ecrRepositoryUrl = outputs.ecrRepositoryUrl;
/** IAM OIDC provider of the cluster, for IRSA roles (EKS stacks only). */
export const oidcProviderArn = outputs.oidcProviderArn;
export const argocdUrlHint = outputs.argocdUrlHint;
export const rootApplication = outputs.rootApplication;
