/**
 * P: the real platform — `jobplane api`, `relay` and `worker` from runtime/dist as child processes
 * against the private database and Redis — measured exactly like B3; and L: `GET /v1/jobs` with
 * one million rows in a schema migrated by `jobplane migrate`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { BenchEnv } from '../lib/env.js';
import { freePort } from '../lib/env.js';
import type { Cell } from '../lib/harness.js';
import { closedLoop, sequentialLatency } from '../lib/load.js';
import type { RequestSpec } from '../lib/load.js';
import { pgCommitCount } from '../lib/env.js';
import {
  BATCH_METRICS,
  cpuSince,
  cpuSnapshot,
  endToEnd,
  measurePipeline,
  PIPELINE_METRICS,
  STAGE_METRICS,
  pipelineSizes,
  waitForHttp,
  waitTerminal,
} from '../lib/pipeline.js';
import type { PipelineTarget, StageTiming } from '../lib/pipeline.js';
import { startChild } from '../lib/proc.js';
import type { Child } from '../lib/proc.js';
import { timingQuery, timingRows, WORKER_CONCURRENCY } from './b3-pipeline.js';

export const CLI_PATH = fileURLToPath(new URL('../../dist/main/cli.js', import.meta.url));
/** The platform runs the example catalog (demo.sleep), as the default image does. */
export const CATALOG_PATH = fileURLToPath(new URL('../../../examples/dist/catalog.js', import.meta.url));
const run = promisify(execFile);

const TERMINAL = "('succeeded', 'dead_lettered', 'cancelled')";

interface Cluster {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly children: Record<string, Child>;
}

function baseEnv(env: BenchEnv, schema: string, apiKey: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    DATABASE_URL: env.databaseUrl,
    DATABASE_SCHEMA: schema,
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: queuePrefixOf(schema),
    // Per-job info logs are pino's cost, not the platform's; warnings and errors still print.
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    JOBPLANE_API_KEYS: `bench:${apiKey}`,
    JOBPLANE_CATALOG: CATALOG_PATH,
    // The benchmark is one client sending far above a production per-client limit.
    RATE_LIMIT_PER_MINUTE: '100000000',
    WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    ...platformOverrides(),
  };
}

/** `BENCH_JOBPLANE_<VAR>=value` sets `<VAR>` for the platform processes (e.g. DATABASE_POOL_MAX). */
export function platformOverrides(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('BENCH_JOBPLANE_') && value !== undefined)
      out[key.slice('BENCH_JOBPLANE_'.length)] = value;
  }
  return out;
}

function describeOverrides(): string {
  const o = Object.entries(platformOverrides());
  return o.length ? `, overrides ${o.map(([k, v]) => `${k}=${v}`).join(' ')}` : '';
}

/**
 * `BENCH_CPU_PROF=<dir>`: every platform process runs under `node --cpu-prof` and writes its
 * profile to `<dir>/<process name>/` when it exits (docs/benchmarks.md, CPU profile).
 */
export function cpuProfArgs(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = env['BENCH_CPU_PROF'];
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir, name)}`] : [];
}

const NO_OP_JOB = { type: 'demo.sleep', payload: { durationMs: 0 } };

/** `POST /v1/jobs` of one no-op `demo.sleep` job under idempotency key `key`. */
export function submitRequest(apiKey: string, key: string): RequestSpec {
  return {
    method: 'POST',
    path: '/v1/jobs',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${apiKey}`,
      'idempotency-key': key,
    },
    body: JSON.stringify(NO_OP_JOB),
  };
}

/** `POST /v1/jobs:batch` of one no-op `demo.sleep` job per key. */
export function batchRequest(apiKey: string, keys: readonly string[]): RequestSpec {
  return {
    method: 'POST',
    path: '/v1/jobs:batch',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ jobs: keys.map((k) => ({ idempotencyKey: k, job: NO_OP_JOB })) }),
  };
}

export async function migrate(env: BenchEnv, schema: string): Promise<void> {
  await run(process.execPath, [CLI_PATH, 'migrate'], { env: baseEnv(env, schema, 'x'.repeat(16)) });
}

async function startProcess(
  name: string,
  command: string,
  env: NodeJS.ProcessEnv,
  healthUrl: string,
): Promise<Child> {
  const child = await startChild(name, process.execPath, [...cpuProfArgs(name), CLI_PATH, command], { env });
  try {
    await waitForHttp(healthUrl, 30_000);
  } catch (err) {
    await child.stop();
    throw new Error(
      `${name}: ${err instanceof Error ? err.message : String(err)}\n${child.output().slice(-2000)}`,
    );
  }
  return child;
}

export async function startCluster(
  env: BenchEnv,
  schema: string,
  roles: readonly ('relay' | 'worker')[],
): Promise<Cluster> {
  const apiKey = randomBytes(16).toString('hex');
  const e = baseEnv(env, schema, apiKey);
  const children: Record<string, Child> = {};
  const port = await freePort();
  children['api'] = await startProcess(
    'jobplane-api',
    'api',
    { ...e, PORT: String(port), METRICS_PORT: String(await freePort()) },
    `http://127.0.0.1:${port}/readyz`,
  );
  for (const role of roles) {
    const mport = await freePort();
    children[role] = await startProcess(
      `jobplane-${role}`,
      role,
      { ...e, METRICS_PORT: String(mport) },
      `http://127.0.0.1:${mport}/healthz`,
    );
  }
  return { apiUrl: `http://127.0.0.1:${port}`, apiKey, children };
}

export async function stopCluster(cluster: Cluster | undefined): Promise<void> {
  if (!cluster) return;
  for (const role of ['worker', 'relay', 'api']) await cluster.children[role]?.stop();
}

function missingDist(): string | undefined {
  return existsSync(CLI_PATH)
    ? undefined
    : 'runtime/dist/main/cli.js is missing: run `npx tsc -b` (or `npm run build`) first';
}

export function platformCell(env: BenchEnv, quick: boolean): Cell {
  const schema = 'jobplane';
  let cluster: Cluster | undefined;
  let pool: pg.Pool | undefined;
  const sizes = pipelineSizes(quick);
  const target: PipelineTarget = {
    get baseUrl() {
      return cluster?.apiUrl ?? '';
    },
    submit: (key) => submitRequest(cluster?.apiKey ?? '', key),
    submitBatch: (keys) => batchRequest(cluster?.apiKey ?? '', keys),
    async terminalCount(prefix) {
      const r = await (pool as pg.Pool).query<{ n: string }>(
        `SELECT count(*) AS n FROM ${schema}.jobs WHERE idempotency_key LIKE $1 AND state IN ${TERMINAL}`,
        [`${prefix}%`],
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    async counts(prefix) {
      const r = await (pool as pg.Pool).query<{ total: string; active: string }>(
        `SELECT count(*) AS total, count(*) FILTER (WHERE state NOT IN ${TERMINAL}) AS active FROM ${schema}.jobs WHERE idempotency_key LIKE $1`,
        [`${prefix}%`],
      );
      return { total: Number(r.rows[0]?.total ?? 0), active: Number(r.rows[0]?.active ?? 0) };
    },
    async timings(prefix) {
      const r = await (pool as pg.Pool).query(
        timingQuery(`${schema}.jobs`, 'create_time', 'start_time', 'finish_time', 'idempotency_key'),
        [`${prefix}%`],
      );
      return timingRows(r.rows);
    },
    pids: () => Object.fromEntries(Object.entries(cluster?.children ?? {}).map(([role, c]) => [role, c.pid])),
    stages: (prefix) => stageTimings(env, pool as pg.Pool, schema, prefix),
  };
  const notMeasured = missingDist();
  return {
    id: 'P.platform',
    group: 'P',
    title: 'Jobplane api + relay + worker (demo.sleep, durationMs 0)',
    method:
      `jobplane migrate, then api, relay and worker (WORKER_CONCURRENCY ${WORKER_CONCURRENCY}, LOG_LEVEL warn, the defaults otherwise (so EAGER_PUBLISH on)${describeOverrides()}) from runtime/dist; ` +
      `${sizes.jobs} jobs closed loop over ${sizes.connections} connections; open loop ${sizes.fixedRate} req/s and ½ peak for ${sizes.openLoopSeconds} s; ` +
      `then ${sizes.batchJobs} jobs as POST /v1/jobs:batch of ${sizes.batchSize} over ${sizes.batchConnections} connections (closed loop)`,
    ...(notMeasured ? { notMeasured } : {}),
    metrics: {
      ...PIPELINE_METRICS,
      ...BATCH_METRICS,
      ...STAGE_METRICS,
      apiCpuMsPerJob: { unit: 'CPU ms/job', better: 'lower' },
      relayCpuMsPerJob: { unit: 'CPU ms/job', better: 'lower' },
      workerCpuMsPerJob: { unit: 'CPU ms/job', better: 'lower' },
      apiRssMiB: { unit: 'MiB', better: 'lower' },
      relayRssMiB: { unit: 'MiB', better: 'lower' },
      workerRssMiB: { unit: 'MiB', better: 'lower' },
    },
    async setup() {
      await migrate(env, schema);
      pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
      cluster = await startCluster(env, schema, ['relay', 'worker']);
    },
    run: (ctx) => measurePipeline(target, env, ctx, 'p'),
    async teardown() {
      await stopCluster(cluster);
      await pool?.end();
    },
  };
}

/**
 * Accept → start by stage, from each job's row (`create_time`, `start_time`) and its BullMQ
 * message (`timestamp`: when the relay added it, `processedOn`: when a worker took it). The
 * queue keeps the last QUEUE_RETENTION_COUNT (1,000) finished messages, so these are the last
 * 1,000 jobs of the phase. All clocks are this machine's.
 */
async function stageTimings(
  env: BenchEnv,
  pool: pg.Pool,
  schema: string,
  prefix: string,
): Promise<StageTiming[]> {
  const rows = (
    await pool.query<{ id: string; created: string; started: string }>(
      `SELECT id, extract(epoch FROM create_time) * 1000 AS created, extract(epoch FROM start_time) * 1000 AS started
       FROM ${schema}.jobs WHERE idempotency_key LIKE $1 AND start_time IS NOT NULL`,
      [`${prefix}%`],
    )
  ).rows;
  const redis = new Redis(env.redisUrl);
  try {
    const queuePrefix = `${queuePrefixOf(schema)}:default`;
    const pipeline = redis.pipeline();
    for (const r of rows) pipeline.hmget(`${queuePrefix}:${r.id}`, 'timestamp', 'processedOn');
    const replies = (await pipeline.exec()) ?? [];
    const out: StageTiming[] = [];
    rows.forEach((r, i) => {
      const [added, taken] = (replies[i]?.[1] as (string | null)[] | undefined) ?? [];
      if (!added || !taken) return;
      out.push({
        relayMs: Number(added) - Number(r.created),
        queueMs: Number(taken) - Number(added),
        startWriteMs: Number(r.started) - Number(taken),
      });
    });
    return out;
  } finally {
    await redis.quit();
  }
}

/** The BullMQ key prefix of a platform schema's queues. */
export function queuePrefixOf(schema: string): string {
  return `bench-${schema.replaceAll('_', '-')}`;
}

/** Rows for the list benchmark: one client, 1 M jobs (quick: 20 k), a few states and two types. */
export function seedJobsSql(schema: string, rows: number): string {
  return `INSERT INTO ${schema}.jobs (id, client_id, idempotency_key, request_hash, type, payload, state, attempts,
      max_attempts, run_at, mode, queue, create_time, update_time, start_time, finish_time, result, progress)
    SELECT gen_random_uuid(), 'bench', 'seed-' || g, md5(g::text),
      CASE WHEN g % 10 = 0 THEN 'backtest.sweep' ELSE 'demo.sleep' END, '{"durationMs": 0}'::jsonb,
      CASE WHEN g % 50 = 0 THEN 'dead_lettered' ELSE 'succeeded' END, 1, 3,
      t, 'pooled', 'default', t, t, t, t, '{"sleptMs": 0, "attempt": 1}'::jsonb, 100
    FROM generate_series(1, ${rows}) AS g, LATERAL (SELECT now() - make_interval(secs => ${rows} - g) AS t) AS ts`;
}

export function listCell(env: BenchEnv, quick: boolean): Cell {
  const schema = 'jobplane_list';
  const rows = quick ? 5_000 : 1_000_000;
  const requests = quick ? 50 : 1_000;
  let cluster: Cluster | undefined;
  let seedSeconds = Number.NaN;
  const notMeasured = missingDist();
  return {
    id: 'L.list',
    group: 'L',
    title: `GET /v1/jobs with ${rows.toLocaleString('en-US')} rows (one client)`,
    method:
      `schema migrated by jobplane migrate, ${rows} rows bulk-inserted with generate_series then ANALYZE; jobplane api only; ` +
      `${requests} sequential requests each for: first page (pageSize 50), state=dead_lettered, type=backtest.sweep, and a next page by pageToken`,
    ...(notMeasured ? { notMeasured } : {}),
    metrics: {
      p50Ms: { unit: 'ms (first page)', better: 'lower' },
      p99Ms: { unit: 'ms (first page)', better: 'lower' },
      stateP99Ms: { unit: 'ms (state filter)', better: 'lower' },
      typeP99Ms: { unit: 'ms (type filter)', better: 'lower' },
      nextPageP99Ms: { unit: 'ms (pageToken)', better: 'lower' },
      seedSeconds: { unit: 's (setup, once)', better: 'lower' },
    },
    async setup(ctx) {
      await migrate(env, schema);
      const client = new pg.Client({ connectionString: env.databaseUrl });
      await client.connect();
      const started = performance.now();
      ctx.log(`L.list: inserting ${rows} rows`);
      await client.query(seedJobsSql(schema, rows));
      await client.query(`ANALYZE ${schema}.jobs`);
      seedSeconds = (performance.now() - started) / 1000;
      await client.end();
      cluster = await startCluster(env, schema, []);
    },
    async run() {
      const c = cluster as Cluster;
      const headers = { authorization: `Bearer ${c.apiKey}` };
      const first = (await (await fetch(`${c.apiUrl}/v1/jobs?pageSize=50`, { headers })).json()) as {
        jobs?: unknown[];
        nextPageToken?: string;
      };
      if ((first.jobs?.length ?? 0) !== 50 || !first.nextPageToken) {
        throw new Error(`GET /v1/jobs answered ${JSON.stringify(first).slice(0, 300)}`);
      }
      const measure = async (path: string) => {
        const r = await sequentialLatency({
          url: c.apiUrl,
          requests,
          request: { method: 'GET', path, headers },
        });
        if (r.non2xx > 0) throw new Error(`${path}: ${r.non2xx} non-2xx answers`);
        return r;
      };
      const page = await measure('/v1/jobs?pageSize=50');
      const state = await measure('/v1/jobs?pageSize=50&state=JOB_STATE_DEAD_LETTERED');
      const type = await measure('/v1/jobs?pageSize=50&type=backtest.sweep');
      const next = await measure(`/v1/jobs?pageSize=50&pageToken=${encodeURIComponent(first.nextPageToken)}`);
      return {
        p50Ms: page.p50Ms,
        p99Ms: page.p99Ms,
        stateP99Ms: state.p99Ms,
        typeP99Ms: type.p99Ms,
        nextPageP99Ms: next.p99Ms,
        seedSeconds,
      };
    },
    async teardown() {
      await stopCluster(cluster);
    },
  };
}

/** The scale-out cell: 2 api + 2 relay + 4 worker processes on the same machine. */
export const SCALE = { api: 2, relay: 2, worker: 4 } as const;

/**
 * P.scale: the platform scaled out on this one machine — SCALE.api api, SCALE.relay relay and
 * SCALE.worker worker processes (each worker WORKER_CONCURRENCY) on one database and Redis; the
 * closed loop of single submissions is split evenly over the api processes. Phase 1 of the
 * pipeline measurement only (throughput, commits, CPU).
 */
export function scaleCell(env: BenchEnv, quick: boolean): Cell {
  const schema = 'jobplane_scale';
  const sizes = pipelineSizes(quick);
  const apiKey = randomBytes(16).toString('hex');
  const children: Child[] = [];
  const apiUrls: string[] = [];
  const pids: Record<string, number> = {};
  let pool: pg.Pool | undefined;
  const notMeasured = missingDist();
  const submit = (key: string) => submitRequest(apiKey, key);
  return {
    id: 'P.scale',
    group: 'C',
    title: `Jobplane scaled out: ${SCALE.api} api + ${SCALE.relay} relay + ${SCALE.worker} worker processes`,
    method:
      `${SCALE.api} api, ${SCALE.relay} relay, ${SCALE.worker} worker processes (WORKER_CONCURRENCY ${WORKER_CONCURRENCY} each${describeOverrides()}) on one machine; ` +
      `${sizes.jobs} single submissions closed loop over ${sizes.connections} connections split evenly over the api processes; ` +
      'a 503 (overload shedding or a PostgreSQL timeout) is counted in shedRequests, not retried, and the figures count the accepted jobs',
    ...(notMeasured ? { notMeasured } : {}),
    metrics: {
      acceptedPerSec: PIPELINE_METRICS.acceptedPerSec,
      e2eJobsPerSec: PIPELINE_METRICS.e2eJobsPerSec,
      pgCommitsPerJob: PIPELINE_METRICS.pgCommitsPerJob,
      cpuMsPerJob: PIPELINE_METRICS.cpuMsPerJob,
      shedRequests: { unit: 'requests answered 503', better: 'lower' },
    },
    async setup() {
      await migrate(env, schema);
      pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
      const e = baseEnv(env, schema, apiKey);
      // Started side by side: eight cold Node processes one after the other take minutes on a busy box.
      const apis = await Promise.all(
        Array.from({ length: SCALE.api }, async (_, i) => {
          const port = await freePort();
          const c = await startProcess(
            `jobplane-api-${i}`,
            'api',
            { ...e, PORT: String(port), METRICS_PORT: String(await freePort()) },
            `http://127.0.0.1:${port}/readyz`,
          );
          return { c, url: `http://127.0.0.1:${port}`, role: `api${i}` };
        }),
      );
      const others = await Promise.all(
        (['relay', 'worker'] as const).flatMap((role) =>
          Array.from({ length: SCALE[role] }, async (_, i) => {
            const mport = await freePort();
            const c = await startProcess(
              `jobplane-${role}-${i}`,
              role,
              { ...e, METRICS_PORT: String(mport) },
              `http://127.0.0.1:${mport}/healthz`,
            );
            return { c, role: `${role}${i}` };
          }),
        ),
      );
      for (const a of apis) apiUrls.push(a.url);
      for (const p of [...apis, ...others]) {
        children.push(p.c);
        pids[p.role] = p.c.pid;
      }
    },
    async run(ctx) {
      const db = pool as pg.Pool;
      const prefix = `s-r${ctx.round}-c-`;
      const commits0 = await pgCommitCount(env.databaseUrl, env.databaseName);
      const cpu0 = cpuSnapshot(pids);
      const share = Math.floor(sizes.jobs / apiUrls.length);
      const perConn = Math.floor(sizes.connections / apiUrls.length);
      const started = performance.now();
      const loops = await Promise.all(
        apiUrls.map((url, a) =>
          closedLoop({
            url,
            connections: perConn,
            amount: share,
            request: (i) => submit(`${prefix}${a}-${i}`),
          }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      let shed = 0;
      for (const l of loops) {
        const other = l.non2xx - (l.statuses['503'] ?? 0);
        if (other > 0 || l.errors > 0)
          throw new Error(
            `closed loop: ${l.non2xx} non-2xx, ${l.errors} errors (statuses ${JSON.stringify(l.statuses)})`,
          );
        shed += l.statuses['503'] ?? 0;
      }
      const jobs = share * apiUrls.length - shed;
      const terminal = {
        baseUrl: '',
        submit,
        terminalCount: async (p: string) =>
          Number(
            (
              await db.query<{ n: string }>(
                `SELECT count(*) AS n FROM ${schema}.jobs WHERE idempotency_key LIKE $1 AND state IN ${TERMINAL}`,
                [`${p}%`],
              )
            ).rows[0]?.n ?? 0,
          ),
        counts: async () => ({ total: 0, active: 0 }),
        timings: async () => [],
        pids: () => pids,
      };
      await waitTerminal(terminal, prefix, jobs, sizes.drainTimeoutMs);
      await new Promise((r) => setTimeout(r, sizes.statsPauseMs));
      const commits1 = await pgCommitCount(env.databaseUrl, env.databaseName);
      const cpu = cpuSince(pids, cpu0, jobs);
      const t = await db.query(
        timingQuery(`${schema}.jobs`, 'create_time', 'start_time', 'finish_time', 'idempotency_key'),
        [`${prefix}%`],
      );
      return {
        acceptedPerSec: jobs / seconds,
        e2eJobsPerSec: endToEnd(timingRows(t.rows), jobs),
        pgCommitsPerJob: (commits1 - commits0) / jobs,
        cpuMsPerJob: cpu.totalMsPerJob,
        shedRequests: shed,
      };
    },
    async teardown() {
      for (const c of children.reverse()) await c.stop();
      await pool?.end();
    },
  };
}

export function platformCells(env: BenchEnv, quick: boolean): Cell[] {
  return [platformCell(env, quick), scaleCell(env, quick), listCell(env, quick)];
}
