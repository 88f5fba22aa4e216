/**
 * Loads the program the way `pulumi up` does with this project file: `Pulumi.yaml` `main: stacks`
 * → `stacks/package.json` `main` → the compiled ESM entry point (built by `npm run build`, which
 * `make test` runs first). Catches a program that only works from the TypeScript sources
 * (import specifiers, paths resolved relative to the module, missing runtime dependencies).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { installMocks, stackFileConfig, valueOf, wrap, type ProgramRun } from './mocks.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let entry: string;
let run: ProgramRun;
let mod: Record<string, unknown>;

beforeAll(async () => {
  const project = parse(readFileSync(join(root, 'Pulumi.yaml'), 'utf8')) as { main: string };
  const pkg = JSON.parse(readFileSync(join(root, project.main, 'package.json'), 'utf8')) as { main: string };
  entry = join(root, project.main, pkg.main);
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run 'npm run build' first`);
  const resources = await installMocks('dev', stackFileConfig('dev'));
  mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(mod)) outputs[key] = await valueOf(v as pulumi.Input<unknown>);
  await pulumi.runtime.disconnect();
  run = wrap(resources, outputs);
});

describe('compiled entry point', () => {
  it('is the compiled ESM module of the stacks workspace', () => {
    expect(entry.endsWith(join('stacks', 'dist', 'index.js'))).toBe(true);
  });

  it('exports the stack outputs with named exports only (no default export)', () => {
    expect(Object.keys(mod).sort()).toEqual([
      'argocdUrlHint',
      'clusterName',
      'ecrRepositoryUrl',
      'kubeconfig',
      'oidcProviderArn',
      'rootApplication',
    ]);
    expect(run.outputs.clusterName).toBe('jobplane-dev');
    expect(run.outputs.rootApplication).toBe('jobplane-root');
  });

  it('finds the repository argocd/ folder from dist/ and registers the whole platform', () => {
    const types = new Set(run.resources.map((r) => r.type));
    for (const t of [
      'jobplane:cluster:KindCluster',
      'jobplane:addons:PlatformAddons',
      'jobplane:platform:PlatformSecrets',
      'jobplane:gitops:GitOpsBootstrap',
      'kubernetes:argoproj.io/v1alpha1:Application',
    ]) {
      expect(types.has(t), t).toBe(true);
    }
  });
});
