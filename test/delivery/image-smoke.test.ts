import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOBPLANE_COMMANDS, METRIC_NAMES } from '@jobplane/runtime/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildContext,
  dockerignoreMatcher,
  planDockerfile,
  replayDockerfile,
  smokeImage,
  type ReplayResult,
  type SmokeReport,
} from '../../scripts/image-smoke.js';
import { checkWithPrometheus, type PrometheusCheck } from './prometheus-run.js';
import { ROOT } from './support.js';

describe('Dockerfile replay (scripts/image-smoke.ts)', () => {
  it('reads the stages of runtime/Dockerfile', () => {
    const stages = planDockerfile(readFileSync(join(ROOT, 'runtime/Dockerfile'), 'utf8'));
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(stages.at(-1)?.entrypoint).toEqual([
      '/nodejs/bin/node',
      '--import',
      '/app/runtime/dist/main/instrument.js',
      '/app/runtime/dist/main/cli.js',
    ]);
  });

  it('refuses instructions it cannot replay instead of skipping them', () => {
    expect(() => planDockerfile('FROM node:24-bookworm-slim\nADD https://example.invalid/x /x\n')).toThrow(
      /ADD is not supported/,
    );
    expect(() => planDockerfile('FROM node:24-bookworm-slim\nRUN ["npm", "ci"]\n')).toThrow(/shell form/);
    expect(() => planDockerfile('FROM node:24-bookworm-slim\nCOPY --chown=1:1 a b\n')).toThrow(/--chown/);
  });

  it('applies .dockerignore like Docker: parents, **, negation', () => {
    const ignored = dockerignoreMatcher('**/node_modules\n*.md\n!examples/data/README.md\n.git\n');
    expect(ignored('node_modules/x/index.js')).toBe(true);
    expect(ignored('runtime/node_modules/x')).toBe(true);
    expect(ignored('README.md')).toBe(true);
    expect(ignored('examples/data/README.md')).toBe(false);
    expect(ignored('.git/HEAD')).toBe(true);
    expect(ignored('runtime/src/main/cli.ts')).toBe(false);
  });

  it('keeps the build context lean: dependencies, build output and VCS data are never sent', () => {
    const ignored = dockerignoreMatcher(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    for (const p of [
      'node_modules/typescript/package.json',
      'runtime/dist/main/cli.js',
      'runtime/node_modules/x',
      '.git/HEAD',
      'charts-out/dev/x.yaml',
    ]) {
      expect(ignored(p), p).toBe(true);
    }
    for (const p of [
      'package-lock.json',
      'runtime/src/main/cli.ts',
      'proto/src/index.ts',
      'runtime/migrations',
    ]) {
      expect(ignored(p), p).toBe(false);
    }
  });
});

/**
 * The image recipe, executed: every RUN/COPY of runtime/Dockerfile in a private directory, then
 * the entrypoint as `docker run IMAGE …` would call it (as uid 65532 when the tests run as root),
 * against the real PostgreSQL and Redis with a private schema and queue prefix.
 */
describe('image-equivalent smoke run', () => {
  let workDir = '';
  let image: ReplayResult;
  let report: SmokeReport;
  let prometheus: PrometheusCheck | undefined;
  let team: ReplayResult;
  let teamReport: SmokeReport;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'jobplane-image-test-'));
    // IMAGE_SMOKE_CONTEXT=head replays the committed tree (what CI builds) instead of the working tree.
    const context = buildContext(process.env.IMAGE_SMOKE_CONTEXT, workDir);
    image = await replayDockerfile({ workDir, context });
    report = await smokeImage(image, {
      databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      whileRunning: async (ports) => {
        prometheus = await checkWithPrometheus(ports);
      },
    });
    // A team's image on the platform's: examples/team-image/Dockerfile `FROM jobplane:dev`.
    team = await replayDockerfile({
      workDir: join(workDir, 'team'),
      context: join(context, 'examples', 'team-image'),
      dockerfile: join(context, 'examples', 'team-image', 'Dockerfile'),
      images: { 'jobplane:dev': image },
    });
    teamReport = await smokeImage(team, {
      databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      job: { type: 'acme.greet', payload: { name: 'Ada' }, result: { greeting: 'hello, Ada', attempt: 1 } },
    });
  }, 720_000);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 300_000);

  it("runs a team's own catalog on the platform image (examples/team-image): one acme.greet job, typed result", () => {
    expect(team.env.JOBPLANE_CATALOG).toBe('./team/lib/catalog.js');
    expect(team.final.entrypoint).toEqual(image.final.entrypoint);
    expect(team.final.user).toBe('65532:65532');
    expect(teamReport.states.at(-1)).toBe('JOB_STATE_SUCCEEDED');
    expect(teamReport.result).toEqual({ greeting: 'hello, Ada', attempt: 1 });
    expect(teamReport.exitCodes).toEqual({ 'migrate#1': 0, 'migrate#2': 0, api: 0, worker: 0 });
    // Nothing but the team's files on top of the platform's.
    expect(readdirSync(join(team.roots[team.final.name] as string, 'app', 'team')).sort()).toEqual([
      'lib',
      'package.json',
    ]);
  });

  it('`jobplane --help` lists every subcommand', () => {
    for (const cmd of JOBPLANE_COMMANDS) expect(report.help).toMatch(new RegExp(`^\\s+${cmd}\\s`, 'm'));
  });

  it('migrates twice (idempotent), runs one demo.sleep job to JOB_STATE_SUCCEEDED, and drains on SIGTERM with exit 0', () => {
    expect(report.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.states.at(-1)).toBe('JOB_STATE_SUCCEEDED');
    expect(report.exitCodes).toEqual({ 'migrate#1': 0, 'migrate#2': 0, api: 0, worker: 0 });
  });

  it('ships production dependencies only, and only the runtime, proto, sdk and examples workspaces (plus the console UI)', () => {
    const app = join(image.roots.runtime as string, 'app');
    const modules = join(app, 'node_modules');
    for (const dev of [
      'vitest',
      'eslint',
      'tsx',
      'prettier',
      'autocannon',
      'fast-check',
      'pino-pretty',
      'dependency-cruiser',
      '@bufbuild/buf',
      '@vitest/coverage-v8',
      'cdk8s',
      '@pulumi/pulumi',
    ]) {
      expect(existsSync(join(modules, dev)), dev).toBe(false);
    }
    expect(readdirSync(join(modules, '@jobplane')).sort()).toEqual(['examples', 'proto', 'runtime', 'sdk']);
    expect(readdirSync(app).sort()).toEqual([
      'console',
      'examples',
      'node_modules',
      'package.json',
      'proto',
      'runtime',
      'sdk',
    ]);
    // Compiled JS only: no TypeScript sources travel into the image.
    expect(existsSync(join(app, 'runtime', 'src'))).toBe(false);
    expect(existsSync(join(app, 'runtime', 'dist', 'main', 'cli.js'))).toBe(true);
    expect(existsSync(join(app, 'examples', 'src'))).toBe(false);
    // The console's UI: built static files only (served at /console).
    expect(readdirSync(join(app, 'console'))).toEqual(['dist']);
    expect(existsSync(join(app, 'console', 'dist', 'index.html'))).toBe(true);
    // The default catalog and its bundled data.
    expect(existsSync(join(app, 'examples', 'dist', 'catalog.js'))).toBe(true);
    expect(existsSync(join(app, 'examples', 'data', 'sp500-monthly.csv'))).toBe(true);
  });

  it('exposes, after one job, every metric the dashboards and alerts are built on', () => {
    const families = new Set([...report.metrics.api, ...report.metrics.worker].map((f) => f.split(' ')[0]));
    for (const name of Object.values(METRIC_NAMES)) expect(families, name).toContain(name);
    expect(families).toContain('process_cpu_seconds_total');
  });

  it('a real Prometheus with the compose config and alert rules evaluates every dashboard query without error', () => {
    const failed = (prometheus?.queries ?? [])
      .filter((q) => q.status !== 'success')
      .map((q) => `${q.where}: ${q.error}`);
    expect(failed).toEqual([]);
    expect(prometheus?.queries.length).toBeGreaterThan(20);
  });

  it('the dashboards show data from the running api and worker (targets, gauges, the job type)', () => {
    const q = (where: string) => prometheus?.queries.find((x) => x.where === where)?.series ?? [];
    const up = q('jobplane-overview / Targets up');
    expect(Object.fromEntries(up.map((s) => [s.metric.component, s.value]))).toEqual({
      api: '1',
      worker: '1',
    });
    expect(q('jobplane-queues / Jobs by state').length).toBeGreaterThan(0);
    expect(q('jobplane-queues / $queue').length).toBeGreaterThan(0);
    expect(q('jobplane-overview / Outbox pending').length).toBe(1);
    expect(q('jobplane-overview / Jobs submitted / s').map((s) => s.metric.type)).toContain('demo.sleep');
    expect(q('jobplane-job-sla / $type').map((s) => s.metric.type)).toContain('demo.sleep');
  });

  it('the platform alert rules evaluate cleanly on real series, and nothing is down', () => {
    expect(prometheus?.rules.length).toBeGreaterThanOrEqual(4);
    for (const r of prometheus?.rules ?? []) {
      expect(r.evaluated, r.name).toBe(true);
      expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
    }
    expect(prometheus?.rules.find((r) => r.name === 'JobplaneServiceDown')?.state).toBe('inactive');
  });
});
