import { mkdtempSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { GIT_REPO_URL, ENVIRONMENTS } from '../src/config.js';
import {
  appSource,
  checkBootstrapObjects,
  DEFAULT_ARGOCD_DIR,
  environmentDestination,
  inClusterSecretData,
  scopeRootToEnvironment,
  GitOpsBootstrap,
  loadBootstrapObjects,
  parseArgoObjects,
  type ArgoObject,
} from '../src/gitops-bootstrap.js';
import { installMocks, valueOf, wrap, type RecordedResource } from './mocks.js';

/** The repository's synthesized argocd/ folder (written by `make synth`). */
const ARGOCD_DIR = DEFAULT_ARGOCD_DIR;

describe('argocd/ objects (the GitOps contract with infra/)', () => {
  it('root Application is app-of-apps over argocd/apps in this repository, in project jobplane', () => {
    const objects = loadBootstrapObjects(ARGOCD_DIR, GIT_REPO_URL);
    const root = objects.find((o) => o.kind === 'Application')!;
    expect(appSource(root)).toMatchObject({ repoURL: GIT_REPO_URL });
    expect(String(appSource(root).path).replace(/\/$/, '')).toBe('argocd/apps');
    expect(root.spec['project']).toBe('jobplane');
    expect(objects.filter((o) => o.kind === 'AppProject').map((o) => o.metadata.name)).toEqual([
      'default',
      'jobplane',
    ]);
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

describe('environmentDestination', () => {
  it.each(ENVIRONMENTS)('reads the Argo CD cluster name of %s from argocd/apps', (env) => {
    expect(environmentDestination(ARGOCD_DIR, env, GIT_REPO_URL)).toBe(`jobplane-${env}`);
  });

  it('accepts the in-cluster server URL, and rejects wrong paths, repositories and destinations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'argocd-apps-'));
    try {
      const app = parse(readFileSync(join(ARGOCD_DIR, 'apps', 'dev.yaml'), 'utf8'));
      const write = (o: unknown) => writeFileSync(join(dir, 'apps', 'dev.yaml'), stringify(o));
      cpSync(join(ARGOCD_DIR, 'apps'), join(dir, 'apps'), { recursive: true });
      write({
        ...app,
        spec: {
          ...app.spec,
          destination: { server: 'https://kubernetes.default.svc', namespace: 'jobplane' },
        },
      });
      expect(environmentDestination(dir, 'dev', GIT_REPO_URL)).toBeUndefined();
      write({
        ...app,
        spec: { ...app.spec, destination: { server: 'https://10.0.0.1', namespace: 'jobplane' } },
      });
      expect(() => environmentDestination(dir, 'dev', GIT_REPO_URL)).toThrow(
        /destination must be a cluster name/,
      );
      write({ ...app, spec: { ...app.spec, source: { ...app.spec.source, path: 'charts-out/prod' } } });
      expect(() => environmentDestination(dir, 'dev', GIT_REPO_URL)).toThrow(
        /argocd\/apps\/dev.yaml: must sync charts-out\/dev from https:\/\/github.com\/jobplane\/jobplane.git, not charts-out\/prod/,
      );
      writeFileSync(join(dir, 'apps', 'dev.yaml'), '---\n');
      expect(() => environmentDestination(dir, 'dev', GIT_REPO_URL)).toThrow(
        /expected one Application, found 0/,
      );
      expect(() => environmentDestination(dir, 'qa', GIT_REPO_URL)).toThrow(
        /cannot read argocd\/apps\/qa.yaml/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    const docs = parseAllDocuments(readFileSync(join(dir, 'appproject.yaml'), 'utf8')).map((d) => d.toJS());
    delete docs.find((d) => d.metadata.name === 'jobplane').metadata.namespace;
    writeFileSync(join(dir, 'appproject.yaml'), docs.map((d) => stringify(d)).join('---\n'));

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

  it('applies the AppProjects, then the root Application, all after the Argo CD release', () => {
    const run = wrap(resources);
    const names = run.resources.filter((r) => r.type.startsWith('kubernetes:argoproj.io')).map((r) => r.name);
    expect(names).toEqual([
      'boot-appproject-default',
      'boot-appproject-jobplane',
      'boot-application-jobplane-root',
    ]);
    expect(opts.get('boot-appproject-default')!.dependsOn).toEqual([release]);
    expect(opts.get('boot-appproject-jobplane')!.dependsOn).toEqual([release, bootstrap.resources[0]]);
    const cluster = opts.get('boot-cluster')!;
    expect(cluster.dependsOn).toEqual([release]);
    const appOpts = opts.get('boot-application-jobplane-root')!;
    expect(appOpts.dependsOn).toEqual(expect.arrayContaining([release, ...bootstrap.resources.slice(0, 2)]));
    expect((appOpts.dependsOn as unknown[]).length).toBe(4);
    expect(appOpts.parent).toBe(bootstrap);
  });

  it('keeps the synthesized objects as they are, adding only the namespace default and patchForce', () => {
    const run = wrap(resources);
    const originals = parseAllDocuments(readFileSync(join(ARGOCD_DIR, 'appproject.yaml'), 'utf8')).map((d) =>
      d.toJS(),
    );
    for (const original of originals) {
      const applied = run.named(`boot-appproject-${original.metadata.name}`);
      expect(applied.inputs.spec).toEqual(original.spec);
      expect(applied.inputs.metadata).toEqual({
        ...original.metadata,
        namespace: 'argocd',
        annotations: { 'pulumi.com/patchForce': 'true' },
      });
    }
    expect(bootstrap.rootApplication).toBe('jobplane-root');
  });

  it('registers the cluster under the name the environment Application targets', () => {
    const run = wrap(resources);
    const secret = run.named('boot-cluster');
    expect(secret.inputs.metadata).toMatchObject({
      name: 'cluster-jobplane-staging',
      namespace: 'argocd',
      labels: { 'argocd.argoproj.io/secret-type': 'cluster' },
    });
    expect(secret.inputs.stringData).toEqual(inClusterSecretData('jobplane-staging'));
    expect(bootstrap.clusterName).toBe('jobplane-staging');
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
