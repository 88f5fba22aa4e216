/**
 * The offline verifier, run on every synth and in tests. There is no cluster here, so this is
 * what proves the manifests: schema (V1 + strict fields), what the API server would reject,
 * cross-references, cross-object rules, security, scheduling, capacity, the runtime contract and
 * the Argo CD rules. Every rule is a row of `RULES` (verify/rules.ts, rendered in docs/infra.md).
 */
import type { Catalog } from '@jobplane/sdk';
import type { CapacityConfig } from '../environments/environment.js';
import { checkApiServer } from './api-server.js';
import { checkCapacity } from './capacity.js';
import { checkContract } from './contract.js';
import { checkCross } from './cross.js';
import { checkApplicationPaths, checkGitOps, type ApplicationPathOptions } from './gitops.js';
import { checkReferences, type ExternalRefs } from './references.js';
import { allRules, isRule, type RuleId, type RuleSpec } from './rules.js';
import { checkSchemas } from './schema.js';
import { checkSecurity } from './security.js';
import type { Finding, Manifest } from './types.js';

export type { Finding, Manifest } from './types.js';
export type { ExternalRefs } from './references.js';
export type { GitOpsTarget, ApplicationPathOptions } from './gitops.js';
export { unknownFields } from './schema.js';
export { KEDA_SCALER_TYPES, KEDA_VERSION } from './contract.js';
export {
  BUILTIN_RULES,
  allRules,
  registerRule,
  renderRuleTable,
  type RuleId,
  type RuleSpec,
} from './rules.js';
export { capacityReport, formatCapacityReport, workloadMaxima, type CapacityReport } from './capacity.js';

/**
 * Secrets the platform references and that are created out of band (Pulumi for staging/prod
 * and dev; see docs/infra.md), never synthesized.
 */
export const EXTERNAL_SECRETS: readonly string[] = [
  'jobplane-api-keys',
  'jobplane-postgres',
  'jobplane-postgres-credentials',
  'jobplane-redis',
];

/** The namespaces the stacks create (Pulumi `PlatformNamespaces`), never synthesized. */
export const EXTERNAL_NAMESPACES: readonly string[] = ['jobplane', 'jobplane-jobs'];

/** What the environment's cluster provides, for the scheduling and capacity rules. */
export interface VerifyEnvironment {
  readonly capacity?: CapacityConfig;
  readonly zoneSpread?: 'DoNotSchedule' | 'ScheduleAnyway';
}

export interface VerifyOptions {
  /**
   * Objects referenced but not synthesized.
   * @default { secrets: EXTERNAL_SECRETS, namespaces: EXTERNAL_NAMESPACES }
   */
  readonly external?: ExternalRefs;
  /** The catalog the objects were synthesized for: worker and run-one queues are checked against it. @default queue names checked for their form only */
  readonly catalog?: Catalog;
  /** The environment's capacity and zone spread. @default CAP and X-zone-spread rules not run */
  readonly environment?: VerifyEnvironment;
  /** Rules to leave out (by id). @default none */
  readonly disable?: readonly RuleId[];
}

/** A check registered from outside the built-in set (e.g. a new workload construct's own rules). */
export type RegisteredCheck = (objects: readonly Manifest[], options: VerifyOptions) => Finding[];
const registeredChecks: RegisteredCheck[] = [];

/**
 * Adds a check to every `verifyManifests` run. Its findings must use rule ids of the table:
 * register the rule with `registerRule` first.
 */
export function registerCheck(check: RegisteredCheck): void {
  registeredChecks.push(check);
}

function finish(findings: Finding[], disable: readonly string[] = []): Finding[] {
  for (const f of findings) {
    if (!isRule(f.rule))
      throw new Error(`verifier finding with rule '${f.rule}', which is not in the rule table`);
  }
  const off = new Set(disable);
  for (const id of off)
    if (!isRule(id)) throw new Error(`'disable' names '${id}', which is not a verifier rule`);
  return findings.filter((f) => !off.has(f.rule));
}

/** Every finding for one set of objects (one environment, or the Argo CD objects). Empty = pass. */
export async function verifyManifests(
  objects: readonly Manifest[],
  options: VerifyOptions = {},
): Promise<Finding[]> {
  const external = options.external ?? { secrets: EXTERNAL_SECRETS, namespaces: EXTERNAL_NAMESPACES };
  const env = options.environment;
  return finish(
    [
      ...(await checkSchemas(objects)),
      ...checkApiServer(objects),
      ...checkReferences(objects, external),
      ...checkCross(objects, { external, ...(env?.zoneSpread ? { zoneSpread: env.zoneSpread } : {}) }),
      ...checkSecurity(objects),
      ...(env?.capacity ? checkCapacity(objects, env.capacity) : []),
      ...checkContract(objects, options.catalog),
      ...checkGitOps(objects),
      ...registeredChecks.flatMap((check) => check(objects, options)),
    ],
    options.disable,
  );
}

export interface VerifyGitOpsOptions {
  /** @default 'argocd' */
  readonly argocdNamespace?: string;
  /** Environments and synthesized folders for A1-path. @default A1-path not run */
  readonly paths?: ApplicationPathOptions;
  readonly disable?: readonly RuleId[];
}

/** Verifies the Argo CD objects (they live in the Argo CD namespace, which the stacks create). */
export async function verifyGitOps(
  objects: readonly Manifest[],
  options: VerifyGitOpsOptions = {},
): Promise<Finding[]> {
  const findings = await verifyManifests(objects, {
    external: { namespaces: [options.argocdNamespace ?? 'argocd'] },
  });
  return finish(
    [...findings, ...(options.paths ? checkApplicationPaths(objects, options.paths) : [])],
    options.disable,
  );
}

/** The rule table as data (built-in and registered rules). */
export function verifierRules(): readonly RuleSpec[] {
  return allRules();
}

/** One line per finding. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `  [${f.rule}] ${f.object}: ${f.message}`).join('\n');
}
