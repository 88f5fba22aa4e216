/** B3: the deliberately tiny durable pipeline (see servers/pipeline.ts), measured like P. */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { BenchEnv } from '../lib/env.js';
import type { Cell } from '../lib/harness.js';
import { measurePipeline, PIPELINE_METRICS, pipelineSizes } from '../lib/pipeline.js';
import type { JobTiming, PipelineTarget } from '../lib/pipeline.js';
import { startChild, TSX_NODE_ARGS } from '../lib/proc.js';
import type { Child } from '../lib/proc.js';

const SERVER = fileURLToPath(new URL('../servers/pipeline.ts', import.meta.url));
export const WORKER_CONCURRENCY = 50;

export function timingQuery(
  table: string,
  created: string,
  started: string,
  finished: string,
  key: string,
): string {
  return `SELECT extract(epoch FROM ${created}) * 1000 AS created, extract(epoch FROM ${started}) * 1000 AS started,
    extract(epoch FROM ${finished}) * 1000 AS finished FROM ${table} WHERE ${key} LIKE $1`;
}

export function timingRows(
  rows: { created: string; started: string | null; finished: string | null }[],
): JobTiming[] {
  return rows.map((r) => ({
    created: Number(r.created),
    started: r.started === null ? null : Number(r.started),
    finished: r.finished === null ? null : Number(r.finished),
  }));
}

export function b3Cell(env: BenchEnv, quick: boolean): Cell {
  let api: Child | undefined;
  let worker: Child | undefined;
  let pool: pg.Pool | undefined;
  let baseUrl = '';
  const sizes = pipelineSizes(quick);
  const target: PipelineTarget = {
    get baseUrl() {
      return baseUrl;
    },
    submit: (key) => ({
      method: 'POST',
      path: '/jobs',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ type: 'demo.sleep', payload: { durationMs: 0 } }),
    }),
    async terminalCount(prefix) {
      const r = await (pool as pg.Pool).query<{ n: string }>(
        "SELECT count(*) AS n FROM b3.jobs WHERE idempotency_key LIKE $1 AND state = 'succeeded'",
        [`${prefix}%`],
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    async counts(prefix) {
      const r = await (pool as pg.Pool).query<{ total: string; active: string }>(
        "SELECT count(*) AS total, count(*) FILTER (WHERE state <> 'succeeded') AS active FROM b3.jobs WHERE idempotency_key LIKE $1",
        [`${prefix}%`],
      );
      return { total: Number(r.rows[0]?.total ?? 0), active: Number(r.rows[0]?.active ?? 0) };
    },
    async timings(prefix) {
      const r = await (pool as pg.Pool).query(
        timingQuery('b3.jobs', 'created_at', 'started_at', 'finished_at', 'idempotency_key'),
        [`${prefix}%`],
      );
      return timingRows(r.rows);
    },
    pids: () => ({ api: api?.pid ?? -1, worker: worker?.pid ?? -1 }),
  };
  return {
    id: 'B3.pipeline',
    group: 'B3',
    title: 'Minimal durable pipeline (POST → row + outbox → queue → no-op → UPDATE)',
    method:
      `api (+ in-process relay) and worker (concurrency ${WORKER_CONCURRENCY}) processes; ${sizes.jobs} jobs closed loop ` +
      `over ${sizes.connections} connections; open loop ${sizes.fixedRate} req/s and ½ peak for ${sizes.openLoopSeconds} s`,
    metrics: {
      ...PIPELINE_METRICS,
      apiCpuMsPerJob: { unit: 'CPU ms/job', better: 'lower' },
      workerCpuMsPerJob: { unit: 'CPU ms/job', better: 'lower' },
      apiRssMiB: { unit: 'MiB', better: 'lower' },
      workerRssMiB: { unit: 'MiB', better: 'lower' },
    },
    async setup() {
      pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
      const common = { ...process.env, DATABASE_URL: env.databaseUrl, REDIS_URL: env.redisUrl };
      api = await startChild('b3-api', process.execPath, [...TSX_NODE_ARGS, SERVER, 'api'], {
        env: { ...common, PORT: '0' },
        ready: /ready \d+/,
      });
      baseUrl = `http://127.0.0.1:${/ready (\d+)/.exec(api.output())?.[1]}`;
      worker = await startChild('b3-worker', process.execPath, [...TSX_NODE_ARGS, SERVER, 'worker'], {
        env: { ...common, CONCURRENCY: String(WORKER_CONCURRENCY) },
        ready: /ready \d+/,
      });
    },
    run: (ctx) => measurePipeline(target, env, ctx, 'b3'),
    async teardown() {
      await worker?.stop();
      await api?.stop();
      await pool?.end();
    },
  };
}
