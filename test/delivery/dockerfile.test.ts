import { configSchema } from '@jobplane/runtime/config';
import { describe, expect, it } from 'vitest';
import { planDockerfile } from '../../scripts/image-smoke.js';
import { lintDockerfile } from '../../scripts/lint-dockerfile.js';
import { readText } from './support.js';

const text = readText('runtime/Dockerfile');
const stages = planDockerfile(text);
const [build, deps, final] = stages;
const runtimePkg = JSON.parse(readText('runtime/package.json')) as {
  bin: Record<string, string>;
  files: string[];
};

describe('runtime/Dockerfile lint (dockerfile-utils + hadolint-style rules)', () => {
  it('has no findings', () => {
    expect(lintDockerfile(text)).toEqual([]);
  });

  it('reports what it is meant to catch', () => {
    const bad = [
      'FROM node',
      'MAINTAINER someone',
      'from node:latest AS build',
      'WORKDIR src',
      'ADD . .',
      'RUN cd runtime && npm install && curl -fsSL https://example.invalid | sh',
      'FROM gcr.io/distroless/nodejs24-debian12:nonroot',
      'COPY --from=bild /src/dist /app',
      'RUN echo hi',
      'USER root',
      'ENTRYPOINT node /app/cli.js',
    ].join('\n');
    const rules = new Set(lintDockerfile(bad).map((f) => f.rule));
    for (const rule of [
      'DL3006',
      'DL3007',
      'DL3020',
      'DL3003',
      'DL3022',
      'DL3025',
      'JP002',
      'JP003',
      'JP004',
      'JP005',
      'JP007',
      'JP008',
      'dockerfile-utils:45', // MAINTAINER deprecated
      'dockerfile-utils:0', // instruction casing
      'dockerfile-utils:50', // relative WORKDIR
    ]) {
      expect(rules, rule).toContain(rule);
    }
    expect(
      lintDockerfile('FROM node:24-bookworm-slim\nUSER 0\nENTRYPOINT ["node"]\n').map((f) => f.rule),
    ).toContain('DL3002');
  });
});

describe('runtime/Dockerfile recipe', () => {
  it('builds on the current Node.js LTS and runs on the same major in distroless, pinned by digest', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const major = /^node:(\d+)-/.exec(build?.base ?? '')?.[1];
    expect(Number(major)).toBeGreaterThanOrEqual(24);
    expect(major && Number(major) % 2).toBe(0); // even majors are the LTS lines
    expect(deps?.base).toBe(build?.base);
    expect(final?.base).toMatch(
      new RegExp(`^gcr\\.io/distroless/nodejs${major}-debian\\d+@sha256:[0-9a-f]{64}$`),
    );
  });

  it('compiles in the build stage and installs production dependencies only, from the lockfile', () => {
    const runs = (s: typeof build) =>
      (s?.steps ?? []).flatMap((st) => (st.kind === 'run' ? [st.command] : []));
    expect(runs(build).some((c) => /^npm ci\b/.test(c))).toBe(true);
    expect(runs(build).some((c) => /tsc -b runtime/.test(c))).toBe(true);
    expect(runs(deps)).toHaveLength(1);
    expect(runs(deps)[0]).toMatch(/^npm ci .*--omit=dev/);
    expect(runs(deps)[0]).toMatch(/--workspace @jobplane\/runtime/);
    expect(runs(final)).toEqual([]);
  });

  it('takes only compiled output and package metadata from the build stages', () => {
    const copies = (final?.steps ?? []).flatMap((s) => (s.kind === 'copy' ? [s] : []));
    for (const c of copies.filter((c) => c.from === 'build')) {
      for (const src of c.sources) expect(src, 'from build').toMatch(/\/dist$/);
    }
    for (const c of copies.filter((c) => c.from === 'deps')) {
      for (const src of c.sources) expect(src, 'from deps').toMatch(/\/node_modules$|package\.json$/);
    }
  });

  it('ships every entry of the "files" of @jobplane/runtime, @jobplane/sdk and the default catalog @jobplane/examples', () => {
    const dests = (final?.steps ?? []).flatMap((s) => (s.kind === 'copy' ? [s.dest.replace(/\/$/, '')] : []));
    for (const dir of ['runtime', 'sdk', 'examples']) {
      const pkg = JSON.parse(readText(`${dir}/package.json`)) as { files: string[] };
      // Negated entries ("!dist/.tsbuildinfo") exclude; they are not shipped.
      for (const f of pkg.files.filter((x) => !x.startsWith('!'))) expect(dests, f).toContain(`${dir}/${f}`);
    }
  });

  it('runs the example catalog by default (JOBPLANE_CATALOG), which a team image replaces', () => {
    expect(final?.steps).toContainEqual({ kind: 'env', vars: { JOBPLANE_CATALOG: '@jobplane/examples' } });
  });

  it('runs `jobplane` (dist/main/cli.js, what the package bin runs) as the entrypoint, so subcommands are plain arguments', () => {
    expect(final?.entrypoint).toEqual([
      '/nodejs/bin/node',
      '--import',
      '/app/runtime/dist/main/instrument.js',
      '/app/runtime/dist/main/cli.js',
    ]);
    expect(final?.cmd).toEqual(['--help']);
    const bin = (runtimePkg.bin.jobplane ?? '').replace(/^\.\//, '');
    // The bin is either the compiled CLI itself or a checked-in shim that imports it.
    expect(bin === 'dist/main/cli.js' || readText(`runtime/${bin}`).includes(`'../dist/main/cli.js'`)).toBe(
      true,
    );
  });

  it('runs as a numeric non-root user (distroless nonroot, 65532)', () => {
    expect(final?.user).toBe('65532:65532');
  });

  it('labels the image with the git SHA (OCI annotations from build args)', () => {
    expect(final?.labels['org.opencontainers.image.revision']).toBe('${GIT_SHA}');
    expect(final?.steps).toContainEqual({ kind: 'arg', name: 'GIT_SHA', value: 'unknown' });
    expect(Object.keys(final?.labels ?? {})).toEqual(
      expect.arrayContaining([
        'org.opencontainers.image.source',
        'org.opencontainers.image.created',
        'org.opencontainers.image.title',
      ]),
    );
  });

  it("exposes the api PORT and the worker/relay METRICS_PORT defaults of the runtime's config schema", () => {
    const defaults = configSchema.parse({ DATABASE_URL: 'postgres://x@h/db', REDIS_URL: 'redis://h:6379' });
    expect(final?.expose.map(Number).sort()).toEqual([defaults.PORT, defaults.METRICS_PORT].sort());
  });
});
