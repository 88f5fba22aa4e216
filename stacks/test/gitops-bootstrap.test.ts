import { mkdtempSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GIT_REPO_URL, ENVIRONMENTS } from '../src/config.js';
import {
  appSource,
  checkBootstrapObjects,
  scopeRootToEnvironment,
  GitOpsBootstrap,
  loadBootstrapObjects,
  parseArgoObjects,
  type ArgoObject,
} from '../src/gitops-bootstrap.js';
import { FIXTURE_ARGOCD_DIR, installMocks, valueOf, wrap, type RecordedResource } from './mocks.js';

const ARGOCD_DIR = FIXTURE_ARGOCD_DIR;

describe('argocd/ objects (the GitOps contract with infra/)', () => {
  it('root Application is app-of-apps over argocd/apps in this repository, in project jobplane', () => {
    const objects = loadBootstrapObjects(ARGOCD_DIR, GIT_REPO_URL);
    const root = objects.find((o) => o.kind === 'Application')!;
    expect(appSource(root)).toMatchObject({ repoURL: GIT_REPO_URL });
    expect(String(appSource(root).path).replace(/\/$/, '')).toBe('argocd/apps');
    expect(root.spec['project']).toBe('jobplane');
    expect(objects.find((o) => o.kind === 'AppProject')!.metadata.name).toBe('jobplane');
  });

  it.each(ENVIRONMENTS)('argocd/apps/%s.yaml syncs charts-out/%s from this repository', (env) => {
    const [app, ...more] = parseArgoObjects(
      readFileSync(join(ARGOCD_DIR, 'apps', `${env}.yaml`), 'utf8'),
      env,
    );
    expect(more).toEqual([]);
    expect(app!.kind).toBe('Application');
    expect(app!.spec['project']).toBe('jobplane');
    const source = appSource(app!);
    expect(source.repoURL).toBe(GIT_REPO_URL);
    expect(String(source.path).replace(/\/$/, '')).toBe(`charts-out/${env}`);
  });
});

describe('bootstrap object checks', () => {
  const objects = () => loadBootstrapObjects(ARGOCD_DIR, GIT_REPO_URL);
  const mutateRoot = (f: (root: ArgoObject) => void): ArgoObject[] => {
    const copy = structuredClone(objects());
    f(copy.find((o) => o.kind === 'Application')!);
    return copy;
  };

  it('rejects a root Application pointing at another repository', () => {
    const bad = mutateRoot(
      (r) => ((r.spec['source'] as Record<string, unknown>)['repoURL'] = 'https://github.com/evil/fork.git'),
    );
    expect(() => checkBootstrapObjects(bad, GIT_REPO_URL)).toThrow(
      /repoURL \(https:\/\/github.com\/evil\/fork.git\) must be/,
    );
  });

  it('rejects a root Application over another path', () => {
    const bad = mutateRoot(
      (r) => ((r.spec['source'] as Record<string, unknown>)['path'] = 'charts-out/prod'),
    );
    expect(() => checkBootstrapObjects(bad, GIT_REPO_URL)).toThrow(
      /path \(charts-out\/prod\) must be argocd\/apps/,
    );
  });

  it('rejects a root Application outside the jobplane project', () => {
    const bad = mutateRoot((r) => (r.spec['project'] = 'default'));
    expect(() => checkBootstrapObjects(bad, GIT_REPO_URL)).toThrow(/project \(default\) must be jobplane/);
  });

  it('requires the AppProject and exactly one root Application', () => {
    const all = objects();
    expect(() =>
      checkBootstrapObjects(
        all.filter((o) => o.kind !== 'AppProject'),
        GIT_REPO_URL,
      ),
    ).toThrow(/no AppProject 'jobplane'/);
    const root = all.find((o) => o.kind === 'Application')!;
    expect(() => checkBootstrapObjects([...all, root], GIT_REPO_URL)).toThrow(
      /exactly one root Application, found 2/,
    );
  });

  it('rejects non-Argo objects, YAML errors, objects without a name, Applications without a source', () => {
    expect(() => parseArgoObjects('apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n', 'f.yaml')).toThrow(
      /f.yaml: expected argoproj.io\/v1alpha1 AppProject or Application, got v1\/Secret/,
    );
    expect(() => parseArgoObjects('a: [1,', 'f.yaml')).toThrow(/^f.yaml: /);
    expect(() =>
      parseArgoObjects('apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec: {}\n', 'f.yaml'),
    ).toThrow(/Application without metadata.name or spec/);
    const [noSource] = parseArgoObjects(
      'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec: {}\n',
      'f',
    );
    expect(() => appSource(noSource!)).toThrow(/Application 'a' has no spec.source/);
    expect(parseArgoObjects('---\n', 'empty.yaml')).toEqual([]);
  });

  it('keeps other directory settings when scoping the root Application', () => {
    const root = objects().find((o) => o.kind === 'Application')!;
    (root.spec['source'] as Record<string, unknown>)['directory'] = { recurse: false, exclude: 'README*' };
    expect(appSource(scopeRootToEnvironment(root, 'prod'))).toMatchObject({
      path: 'argocd/apps',
      directory: { recurse: false, exclude: 'README*', include: 'prod.yaml' },
    });
  });

  it('explains a missing argocd/ folder', () => {
    expect(() => loadBootstrapObjects(join(tmpdir(), 'no-such-argocd'), GIT_REPO_URL)).toThrow(
      /cannot read appproject.yaml from the argocd\/ folder \(run 'make synth'\)/,
    );
  });
});

describe('GitOpsBootstrap component (mocks)', () => {
  let resources: RecordedResource[];
  const opts = new Map<string, pulumi.ResourceOptions>();
  let release: k8s.helm.v3.Release;
  let bootstrap: GitOpsBootstrap;
  let dir: string;

  beforeAll(async () => {
    // Objects without a namespace land in the Argo CD namespace.
    dir = mkdtempSync(join(tmpdir(), 'argocd-'));
    cpSync(ARGOCD_DIR, dir, { recursive: true });
    const project = parse(readFileSync(join(dir, 'appproject.yaml'), 'utf8'));
    delete project.metadata.namespace;
    writeFileSync(join(dir, 'appproject.yaml'), JSON.stringify(project));

    resources = await installMocks('dev', {});
    release = new k8s.helm.v3.Release('argocd', { chart: 'argo-cd', version: '9.5.4', namespace: 'argocd' });
    bootstrap = new GitOpsBootstrap(
      'boot',
      {
        argocdDir: dir,
        environment: 'staging',
        repoURL: GIT_REPO_URL,
        argocdNamespace: 'argocd',
        argocdRelease: release,
      },
      {
        transformations: [
          (args) => {
            opts.set(args.name, args.opts);
            return undefined;
          },
        ],
      },
    );
    await valueOf(bootstrap.resources[bootstrap.resources.length - 1]!.id);
    await pulumi.runtime.disconnect();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies the AppProject, then the root Application, both after the Argo CD release', () => {
    const run = wrap(resources);
    const names = run.resources.filter((r) => r.type.startsWith('kubernetes:argoproj.io')).map((r) => r.name);
    expect(names).toEqual(['boot-appproject-jobplane', 'boot-application-jobplane-root']);
    const projectOpts = opts.get('boot-appproject-jobplane')!;
    expect(projectOpts.dependsOn).toEqual([release]);
    const appOpts = opts.get('boot-application-jobplane-root')!;
    expect(appOpts.dependsOn).toEqual([release, bootstrap.resources[0]]);
    expect(appOpts.parent).toBe(bootstrap);
  });

  it('keeps the synthesized object as is, defaulting only the namespace', () => {
    const run = wrap(resources);
    const project = run.named('boot-appproject-jobplane');
    const original = parse(readFileSync(join(ARGOCD_DIR, 'appproject.yaml'), 'utf8'));
    expect(project.inputs.spec).toEqual(original.spec);
    expect(project.inputs.metadata).toEqual({ ...original.metadata, namespace: 'argocd' });
    expect(bootstrap.rootApplication).toBe('jobplane-root');
  });

  it('scopes the root Application to the cluster environment, keeping the rest of the source', () => {
    const run = wrap(resources);
    const root = run.named('boot-application-jobplane-root');
    const original = parse(readFileSync(join(ARGOCD_DIR, 'root-application.yaml'), 'utf8'));
    expect(root.inputs.spec.source).toEqual({
      ...original.spec.source,
      directory: { include: 'staging.yaml' },
    });
    expect({ ...root.inputs.spec, source: undefined }).toEqual({ ...original.spec, source: undefined });
  });
});
