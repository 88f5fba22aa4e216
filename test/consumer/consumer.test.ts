/**
 * The consumer path, as a team outside this repository takes it: every publishable package is
 * packed (`npm pack`), a temporary project installs ONLY those tarballs (plus third-party packages
 * from the registry, no link into this repository), defines two job types of its own
 * (test/consumer/project: one pooled, one isolated), synthesizes its platform with
 * `JobPlatform({ catalog })`, then runs `jobplane migrate`, `api` and `worker` from the installed
 * runtime with its catalog against the real PostgreSQL (own database) and Redis (own prefix),
 * submits over HTTP and reads back the typed result.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const PG = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Workspaces a consumer installs, by package name. */
const PACKAGES = {
  '@jobplane/sdk': 'sdk',
  '@jobplane/proto': 'proto',
  '@jobplane/runtime': 'runtime',
  '@jobplane/constructs': 'infra',
  '@jobplane/examples': 'examples',
} as const;
type PackageName = keyof typeof PACKAGES;

const work = mkdtempSync(join(tmpdir(), 'jobplane-consumer-'));
const project = join(work, 'acme-jobs');
const id = randomBytes(4).toString('hex');
const database = `consumer_${id}`;
const prefix = `consumer-${id}`;
const children: ChildProcess[] = [];
const logs: string[] = [];

async function run(cmd: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv) {
  try {
    return await exec(cmd, args, { cwd, env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Polls `fn` until it returns a value; the deadline only bounds a broken run. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-40).join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function start(command: string, env: NodeJS.ProcessEnv): ChildProcess {
  const bin = join(project, 'node_modules', '@jobplane', 'runtime', 'bin', 'jobplane.js');
  const child = spawn(process.execPath, [bin, command], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [child.stdout, child.stderr])
    s?.on('data', (d: Buffer) => logs.push(`[${command}] ${d.toString()}`));
  children.push(child);
  return child;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
  rmSync(work, { recursive: true, force: true });
}, 120_000);

const tarballs = new Map<PackageName, string>();

beforeAll(async () => {
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '-b', ...Object.values(PACKAGES)], repo);
  const args = Object.keys(PACKAGES).flatMap((name) => ['-w', name]);
  const { stdout } = await run('npm', ['pack', ...args, '--pack-destination', work, '--json'], repo);
  const packed = JSON.parse(stdout) as { name: PackageName; filename: string; files: { path: string }[] }[];
  for (const p of packed) {
    tarballs.set(p.name, join(work, p.filename));
    const paths = p.files.map((f) => f.path);
    expect(paths, p.name).toContain('package.json');
    expect(
      paths.filter((f) => /^(src|test)\//.test(f) || f.endsWith('.tsbuildinfo')),
      `${p.name} ships no sources, tests or build info`,
    ).toEqual([]);
  }
  expect([...tarballs.keys()].sort()).toEqual(Object.keys(PACKAGES).sort());

  cpSync(join(repo, 'test/consumer/project'), project, {
    recursive: true,
    filter: (p) => !/[/\\](node_modules|dist|manifests)([/\\]|$)/.test(p),
  });
  const pkgPath = join(project, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { dependencies: Record<string, string> };
  const version = (workspace: string, dep: string) =>
    (
      JSON.parse(readFileSync(join(repo, workspace, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      }
    ).dependencies[dep]!;
  pkg.dependencies = {
    ...Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`])),
    // The team's own direct imports: zod for its schemas, cdk8s for its chart.
    zod: version('sdk', 'zod'),
    cdk8s: version('infra', 'cdk8s'),
  };
  writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--no-package-lock',
      '--omit=dev',
    ],
    project,
  );
  await run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
}, 600_000);

describe('a team installs the packed packages', () => {
  it('gets copies of the tarballs, and a construct library that does not pull the server runtime', () => {
    for (const name of tarballs.keys()) {
      const dir = join(project, 'node_modules', name);
      expect(existsSync(join(dir, 'package.json')), name).toBe(true);
      expect(existsSync(join(dir, 'src')), `${name} is the packed copy, not a link`).toBe(false);
    }
    const constructs = JSON.parse(
      readFileSync(join(project, 'node_modules/@jobplane/constructs/package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    const deps = Object.keys(constructs.dependencies);
    expect(deps).not.toContain('@jobplane/runtime');
    // What synth and its verifier need comes with the library.
    expect(deps).toEqual(
      expect.arrayContaining([
        '@jobplane/sdk',
        'cdk8s',
        'cdk8s-plus-28',
        'kubernetes-models',
        '@kubernetes-models/keda',
      ]),
    );
  });

  it('resolves no server package under the construct library (its installed dependency closure)', () => {
    // Node's resolution: a dependency is the nearest node_modules/<name> walking up from the package.
    const resolveFrom = (dir: string, name: string): string | undefined => {
      for (let d = dir; d.startsWith(project); d = dirname(d)) {
        const candidate = join(d, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) return candidate;
        if (d === project) break;
      }
      return undefined;
    };
    const closure = new Map<string, string>();
    const walk = (dir: string) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      for (const name of Object.keys(manifest.dependencies ?? {})) {
        const found = resolveFrom(dir, name);
        if (found === undefined) throw new Error(`${name} (needed by ${dir}) is not installed`);
        if (closure.has(found)) continue;
        closure.set(found, name);
        walk(found);
      }
    };
    walk(join(project, 'node_modules', '@jobplane', 'constructs'));
    const names = new Set(closure.values());
    expect(names.has('@jobplane/sdk')).toBe(true);
    expect(names.has('kubernetes-models')).toBe(true);
    for (const server of ['@jobplane/runtime', 'fastify', 'bullmq', 'pg', 'ioredis', 'pino'])
      expect(names.has(server), server).toBe(false);
  });

  it('synthesizes its own queues as worker pools and ScaledJobs with their own drain budgets', async () => {
    await run(process.execPath, ['dist/synth.js'], project);
    const objects = parseAllDocuments(
      readFileSync(join(project, 'manifests/acme-jobs.k8s.yaml'), 'utf8'),
    ).map(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (d) => d.toJS() as any,
    );
    const find = (kind: string, name: string) => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
      if (!o)
        throw new Error(
          `no ${kind}/${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
        );
      return o;
    };
    const envOf = (c: { env: { name: string; value?: string }[] }) =>
      Object.fromEntries(c.env.map((e) => [e.name, e.value]));

    // Pooled `greetings` (acme.greet, 45 s, concurrency 4): grace = preStop 5 + drain 45 + margin 15.
    const pool = find('Deployment', 'jobplane-worker-greetings').spec.template.spec;
    expect(pool.terminationGracePeriodSeconds).toBe(65);
    expect(envOf(pool.containers[0])).toMatchObject({
      WORKER_QUEUES: 'greetings',
      WORKER_CONCURRENCY: '4',
      DRAIN_TIMEOUT_SECONDS: '45',
      JOBPLANE_CATALOG: '/app/dist/catalog.js',
    });
    expect(pool.containers[0].image).toBe('registry.example.com/acme/jobs:v1.4.2');
    const scaler = find('ScaledObject', 'jobplane-worker-greetings').spec;
    expect(scaler.maxReplicaCount).toBe(3);
    expect(scaler.triggers[0].metadata.query).toContain('queue="greetings"');

    // Isolated `renders` (acme.render, 1200 s): one Job per job, drain 1200 s, grace 1215 s.
    const sj = find('ScaledJob', 'jobplane-run-renders');
    expect(sj.spec.maxReplicaCount).toBe(5);
    const runOne = sj.spec.jobTargetRef.template.spec;
    expect(runOne.terminationGracePeriodSeconds).toBe(1215);
    expect(envOf(runOne.containers[0])).toMatchObject({
      RUN_ONE_QUEUE: 'renders',
      DRAIN_TIMEOUT_SECONDS: '1200',
    });

    // Only the team's queues: nothing of the example catalog.
    const names = objects.map((o) => o.metadata.name as string);
    expect(names.filter((n) => /backtest|worker-default/.test(n))).toEqual([]);
  });

  it('runs migrate, api and worker with its catalog and returns the typed result over HTTP', async () => {
    const admin = new pg.Client({ connectionString: PG });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const url = new URL(PG);
    url.pathname = `/${database}`;
    const apiKey = `acme-key-${randomBytes(12).toString('hex')}`;
    const [apiPort, apiMetrics, workerMetrics] = [await freePort(), await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: url.toString(),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      JOBPLANE_CATALOG: join(project, 'dist', 'catalog.js'),
      LOG_LEVEL: 'warn',
    };
    const bin = join(project, 'node_modules', '@jobplane', 'runtime', 'bin', 'jobplane.js');
    await run(process.execPath, [bin, 'migrate'], project, env);
    start('api', {
      ...env,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      METRICS_PORT: String(apiMetrics),
      JOBPLANE_API_KEYS: `acme:${apiKey}`,
      RELAY_IN_PROCESS: 'true',
    });
    start('worker', { ...env, METRICS_PORT: String(workerMetrics) });
    const base = `http://127.0.0.1:${apiPort}`;
    await until('api', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
    await until('worker', async () =>
      (await fetch(`http://127.0.0.1:${workerMetrics}/readyz`)).ok ? true : undefined,
    );

    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const submit = (body: unknown) =>
      fetch(`${base}/v1/jobs`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': randomBytes(8).toString('hex') },
        body: JSON.stringify(body),
      });

    // The API validates with the team's schemas and knows only the team's job types.
    const invalid = await submit({ type: 'acme.greet', payload: { name: '' } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toContain('application/problem+json');
    expect(((await invalid.json()) as { code: string }).code).toBe('JOB.PAYLOAD_INVALID');
    const foreign = await submit({ type: 'demo.sleep', payload: { durationMs: 1 } });
    expect(foreign.status).toBe(400);
    expect(((await foreign.json()) as { code: string }).code).toBe('JOB.UNKNOWN_TYPE');

    const res = await submit({ type: 'acme.greet', payload: { name: 'Ada' } });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const { job } = (await res.json()) as { job: { id: string } };
    const done = await until('acme.greet to succeed', async () => {
      const r = await fetch(`${base}/v1/jobs/${job.id}`, { headers });
      const body = (await r.json()) as { job: { state: string; result?: unknown } };
      if (body.job.state === 'JOB_STATE_DEAD_LETTERED') throw new Error(JSON.stringify(body));
      return body.job.state === 'JOB_STATE_SUCCEEDED' ? body.job : undefined;
    });
    // Typed by the team's own result schema, from its compiled catalog module.
    const { greet } = (await import(pathToFileURL(join(project, 'dist', 'catalog.js')).href)) as {
      greet: { result: { parse(v: unknown): { greeting: string; attempt: number } } };
    };
    expect(greet.result.parse(done.result)).toEqual({ greeting: 'Hello, Ada!', attempt: 1 });
  });
});
