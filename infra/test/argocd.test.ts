import { describe, expect, it } from 'vitest';
import { ArgoCdApplication, type ArgoCdApplicationProps } from '../src/argocd-application.js';
import { ArgoCdProject } from '../src/argocd-project.js';
import { GITOPS } from '../src/environments/index.js';
import { synthesizeGitOps } from '../src/synth/synthesize.js';
import { verifyGitOps } from '../src/verify/index.js';
import { type AnyJson, find, synth } from './helpers.js';

const app: ArgoCdApplicationProps = {
  name: 'jobplane-dev',
  project: 'jobplane',
  repoURL: GITOPS.repoURL,
  targetRevision: 'main',
  path: 'charts-out/dev',
  destination: { name: 'jobplane-dev', namespace: 'jobplane' },
};

describe('ArgoCdApplication', () => {
  it('matches the snapshot', () => {
    expect(synth((s) => new ArgoCdApplication(s, 'a', app))).toMatchSnapshot();
  });

  it('syncs automatically with prune, self-heal and retries', () => {
    const spec = find(
      synth((s) => new ArgoCdApplication(s, 'a', { ...app, createNamespace: true })),
      'Application',
    )['spec'] as AnyJson;
    expect(spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(spec.syncPolicy.retry.limit).toBe(5);
    expect(spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
    expect(spec.source).toEqual({ repoURL: GITOPS.repoURL, targetRevision: 'main', path: 'charts-out/dev' });
  });

  it.each([
    [{ project: 'default' }, `'project' ('default') is locked down`],
    [{ targetRevision: 'HEAD' }, `'targetRevision' ('HEAD') must name a branch, tag or commit`],
  ])('rejects %j', (props, message) => {
    expect(() => synth((s) => new ArgoCdApplication(s, 'a', { ...app, ...props }))).toThrow(message);
  });
});

describe('ArgoCdProject', () => {
  it('lockdown neuters a project (default)', () => {
    const spec = find(
      synth((s) => new ArgoCdProject(s, 'd', { name: 'default', lockdown: true })),
      'AppProject',
    )['spec'] as AnyJson;
    expect(spec).toMatchObject({
      sourceRepos: [],
      destinations: [],
      namespaceResourceBlacklist: [{ group: '*', kind: '*' }],
    });
  });

  it('restricts the Jobplane project to exact repos/destinations and PriorityClass as the only cluster kind, Secrets blacklisted', () => {
    const spec = find(
      synth(
        (s) =>
          new ArgoCdProject(s, 'p', {
            name: 'jobplane',
            sourceRepos: [GITOPS.repoURL],
            destinations: [{ name: 'c', namespace: 'jobplane' }],
          }),
      ),
      'AppProject',
    )['spec'] as AnyJson;
    expect(spec.clusterResourceWhitelist).toEqual([{ group: 'scheduling.k8s.io', kind: 'PriorityClass' }]);
    expect(spec.namespaceResourceBlacklist).toEqual([{ group: '', kind: 'Secret' }]);
    expect(spec.sourceRepos).toEqual([GITOPS.repoURL]);
  });

  it.each([
    [{ sourceRepos: ['*'] }, `'sourceRepos' ('*') must be an exact URL, not a pattern`],
    [{ sourceRepos: [] }, `'sourceRepos' (empty) must list at least one repository`],
    [{ destinations: [] }, `'destinations' (empty) must list at least one destination`],
    [{ destinations: [{ server: '*', namespace: 'x' }] }, `must not contain '*'`],
    [{ destinations: [{ namespace: 'x' }] }, `must set exactly one of name or server`],
  ])('rejects %j', (props, message) => {
    expect(() =>
      synth(
        (s) =>
          new ArgoCdProject(s, 'p', {
            name: 'jobplane',
            sourceRepos: [GITOPS.repoURL],
            destinations: [{ name: 'c', namespace: 'n' }],
            ...props,
          }),
      ),
    ).toThrow(message);
  });
});

describe('synthesized argocd/', () => {
  const files = synthesizeGitOps();

  it('writes the files the Pulumi bootstrap reads, with the contract names', () => {
    expect([...files.keys()]).toEqual([
      'argocd/appproject.yaml',
      'argocd/root-application.yaml',
      'argocd/apps/dev.yaml',
      'argocd/apps/staging.yaml',
      'argocd/apps/prod.yaml',
    ]);
    const [root] = files.get('argocd/root-application.yaml')!;
    expect(root!['spec']).toMatchObject({
      project: 'jobplane',
      source: { repoURL: GITOPS.repoURL, path: 'argocd/apps', targetRevision: 'main' },
    });
    const projects = files.get('argocd/appproject.yaml')!;
    expect(projects.map((p) => p.metadata.name)).toEqual(['default', 'jobplane']);
    const [prod] = files.get('argocd/apps/prod.yaml')!;
    expect(prod!['spec']).toMatchObject({
      source: { path: 'charts-out/prod' },
      destination: { name: 'jobplane-prod', namespace: 'jobplane' },
    });
  });

  it('passes the A1 checks', async () => {
    expect(await verifyGitOps([...files.values()].flat())).toEqual([]);
  });

  it('A1 catches an Application in project default, a wildcard project and a live default project', async () => {
    const objects = structuredClone([...files.values()].flat());
    (objects.find((o) => o.metadata.name === 'jobplane-dev')!['spec'] as AnyJson).project = 'default';
    (objects.find((o) => o.metadata.name === 'jobplane')!['spec'] as AnyJson).sourceRepos = ['*'];
    (objects.find((o) => o.metadata.name === 'default')!['spec'] as AnyJson).destinations = [
      { server: '*', namespace: '*' },
    ];
    (objects.find((o) => o.metadata.name === 'jobplane-prod')!['spec'] as AnyJson).destination.name =
      'elsewhere';
    const messages = (await verifyGitOps(objects))
      .filter((f) => f.rule === 'A1')
      .map((f) => `${f.object}: ${f.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        "AppProject/argocd/default: project 'default' must have no sourceRepos, no destinations and blacklist every namespaced kind",
        'AppProject/argocd/jobplane: sourceRepos must list exact URLs (got ["*"])',
        "Application/argocd/jobplane-dev: Application in project 'default'",
        expect.stringContaining('Application/argocd/jobplane-prod: destination {"name":"elsewhere"'),
      ]),
    );
  });
});
