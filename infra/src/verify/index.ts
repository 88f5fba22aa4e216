/**
 * The offline verifier, run on every synth and in tests. There is no cluster here, so this is
 * what proves the manifests: schema (V1 + strict fields), cross-references, security
 * (the security rules listed in docs/infra.md), the runtime contract and the Argo CD rules.
 * Schema checks need the devDependencies kubernetes-models and @kubernetes-models/*.
 */
import type { Catalog } from '@jobplane/sdk';
import { checkContract } from './contract.js';
import { checkGitOps } from './gitops.js';
import { checkLauncher } from './launcher-rules.js';
import { checkReferences, type ExternalRefs } from './references.js';
import { checkSchemas } from './schema.js';
import { checkSecurity } from './security.js';
import type { Finding, Manifest } from './types.js';

export type { Finding, Manifest } from './types.js';
export type { ExternalRefs } from './references.js';
export { unknownFields } from './schema.js';
export { KEDA_SCALER_TYPES } from './contract.js';

/**
 * Secrets the platform references and that are created out of band (Pulumi for staging/prod,
 * kubectl for dev; see docs/infra.md), never synthesized.
 */
export const EXTERNAL_SECRETS: readonly string[] = [
  'jobplane-api-keys',
  'jobplane-postgres',
  'jobplane-postgres-credentials',
  'jobplane-redis',
];

export interface VerifyOptions {
  /** Objects referenced but not synthesized. @default { secrets: EXTERNAL_SECRETS } */
  readonly external?: ExternalRefs;
  /** The catalog the objects were synthesized for: worker and run-one queues are checked against it. @default queue names checked for their form only */
  readonly catalog?: Catalog;
}

/** Every finding for one set of objects (one environment, or the Argo CD objects). Empty = pass. */
export async function verifyManifests(
  objects: readonly Manifest[],
  options: VerifyOptions = {},
): Promise<Finding[]> {
  const external = options.external ?? { secrets: EXTERNAL_SECRETS };
  return [
    ...(await checkSchemas(objects)),
    ...checkReferences(objects, external),
    ...checkSecurity(objects),
    ...checkContract(objects, options.catalog),
    ...checkGitOps(objects),
    ...checkLauncher(objects),
  ];
}

/** Verifies the Argo CD objects (they live in the Argo CD namespace, which Pulumi creates). */
export async function verifyGitOps(
  objects: readonly Manifest[],
  argocdNamespace = 'argocd',
): Promise<Finding[]> {
  return verifyManifests(objects, { external: { namespaces: [argocdNamespace] } });
}

/** One line per finding. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `  [${f.rule}] ${f.object}: ${f.message}`).join('\n');
}
