/**
 * The synth command behind `npm run synth` (entry: infra/deploy/synth.ts, which passes this
 * repository's deployment: the examples catalog and the per-queue sizing of each environment):
 * synthesizes charts-out/<env>/ and argocd/ into the repository (or `--out <dir>`, used by the
 * drift check), verifies every object, and prints a one-screen summary per environment.
 *
 * Image tags come from infra/image-tags.json (rewritten by the release workflow); set
 * JOBPLANE_IMAGE_TAG to override every environment's tag for local use.
 * Exit codes: 0 ok, 1 verification findings or synthesis errors.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalog } from '@jobplane/sdk';
import { GITOPS, type EnvironmentConfig, type GitOpsConfig } from '../environments/index.js';
import {
  EXTERNAL_SECRETS,
  capacityReport,
  formatCapacityReport,
  formatFindings,
  verifyGitOps,
  verifyManifests,
} from '../verify/index.js';
import { type ImageTags, type K8sObject, synthesizeAll } from './synthesize.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** What one repository deploys: its catalog, its environments (with queue sizing) and GitOps settings. */
export interface Deployment {
  readonly catalog: Catalog;
  readonly environments: readonly EnvironmentConfig[];
  /** @default GITOPS */
  readonly gitops?: GitOpsConfig;
}

/** Tags from infra/image-tags.json, overridden by JOBPLANE_IMAGE_TAG when set. */
export function resolveImageTags(
  file: string,
  override: string | undefined,
  environments: readonly string[],
): ImageTags {
  const tags = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  if (!override) return tags;
  return Object.fromEntries(environments.map((e) => [e, override]));
}

function summary(env: string, objects: readonly K8sObject[], tag: string): string {
  const kinds = new Map<string, number>();
  for (const o of objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
  const lines = [`${env}: ${objects.length} objects, image tag ${tag}`];
  lines.push(
    '  ' +
      [...kinds]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
  );
  for (const o of objects) {
    const spec = (o['spec'] ?? {}) as Record<string, unknown>;
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
      const replicas = spec['replicas'] === undefined ? 'scaled' : String(spec['replicas']);
      lines.push(`  ${o.kind.padEnd(12)} ${o.metadata.name.padEnd(28)} replicas ${replicas}`);
    } else if (o.kind === 'ScaledObject' || o.kind === 'ScaledJob' || o.kind === 'HorizontalPodAutoscaler') {
      const min = spec['minReplicaCount'] ?? spec['minReplicas'] ?? 0;
      const max = spec['maxReplicaCount'] ?? spec['maxReplicas'];
      const cool =
        spec['cooldownPeriod'] === undefined ? '' : `, cooldown ${String(spec['cooldownPeriod'])}s`;
      lines.push(
        `  ${o.kind.padEnd(12)} ${o.metadata.name.padEnd(28)} ${String(min)}..${String(max)}${cool}`,
      );
    }
  }
  return lines.join('\n');
}

/** The namespaces the stacks create for an environment: platform, then jobs. */
export function platformNamespaces(env: EnvironmentConfig): string[] {
  return [env.namespaces?.platform ?? 'jobplane', env.namespaces?.jobs ?? 'jobplane-jobs'];
}

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  deployment: Deployment,
): Promise<number> {
  const started = performance.now();
  const outIdx = argv.indexOf('--out');
  const outDir = outIdx >= 0 && argv[outIdx + 1] ? resolve(argv[outIdx + 1]!) : repoRoot;
  const { catalog, environments } = deployment;
  const tags = resolveImageTags(
    join(repoRoot, 'infra', 'image-tags.json'),
    env['JOBPLANE_IMAGE_TAG'],
    environments.map((e) => e.name),
  );
  const out = synthesizeAll(catalog, tags, environments, deployment.gitops ?? GITOPS);
  const synthMs = performance.now() - started;

  let failed = false;
  for (const [name, objects] of out.environments) {
    const env = environments.find((e) => e.name === name)!;
    const findings = await verifyManifests(objects, {
      catalog,
      external: { secrets: EXTERNAL_SECRETS, namespaces: platformNamespaces(env) },
      environment: {
        capacity: env.capacity,
        ...(env.scheduling?.zoneSpread ? { zoneSpread: env.scheduling.zoneSpread } : {}),
      },
    });
    console.log(summary(name, objects, tags[name]!));
    console.log(formatCapacityReport(capacityReport(objects, env.capacity)));
    if (findings.length > 0) {
      failed = true;
      console.error(`${name}: ${findings.length} verification finding(s):\n${formatFindings(findings)}`);
    } else {
      console.log(
        `  verified: schema, api-server, references, cross-object, security, capacity, contract — 0 findings`,
      );
    }
  }
  const gitops = deployment.gitops ?? GITOPS;
  const folders = new Set([
    'argocd/apps',
    ...[...out.files.keys()]
      .map((f) => f.split('/').slice(0, 2).join('/'))
      .filter((f) => f.startsWith('charts-out/')),
  ]);
  const gitopsFindings = await verifyGitOps([...out.gitops.values()].flat(), {
    argocdNamespace: gitops.argocdNamespace,
    paths: {
      folders,
      environments: environments.map((e) => ({
        name: e.name,
        cluster: e.argocdCluster,
        namespace: platformNamespaces(e)[0]!,
      })),
    },
  });
  if (gitopsFindings.length > 0) {
    failed = true;
    console.error(`argocd: ${gitopsFindings.length} finding(s):\n${formatFindings(gitopsFindings)}`);
  } else {
    console.log(`argocd: ${[...out.gitops.keys()].join(', ')} — 0 findings`);
  }
  if (failed) {
    console.error('synth: verification failed; nothing written');
    return 1;
  }
  // Replace the generated folders wholesale so removed objects disappear too.
  for (const e of out.environments.keys())
    rmSync(join(outDir, 'charts-out', e), { recursive: true, force: true });
  rmSync(join(outDir, 'argocd'), { recursive: true, force: true });
  for (const [file, content] of out.files) {
    const path = join(outDir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  console.log(
    `synth: ${out.files.size} files in ${Math.round(synthMs)} ms, total ${Math.round(performance.now() - started)} ms`,
  );
  return 0;
}
