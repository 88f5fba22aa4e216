/**
 * F: fairness between the clients of a queue (docs/flow-control.md). The real platform (`jobplane
 * api`, `relay`, `worker` from runtime/dist) runs `demo.sleep` (durationMs 0) on a FIFO queue and
 * on a queue with `flow.fairness: 'client'`. Per round and queue: client A submits its backlog
 * (POST /v1/jobs:batch of 1,000 over 4 connections), then client B submits 100 jobs; B's
 * accept → start (PostgreSQL create_time → start_time) p50/p99 is reported for both queues.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { BenchEnv } from '../lib/env.js';
import { freePort } from '../lib/env.js';
import type { Cell } from '../lib/harness.js';
import { waitForHttp } from '../lib/pipeline.js';
import { startChild, type Child } from '../lib/proc.js';
import { percentile } from '../lib/stats.js';
import { WORKER_CONCURRENCY } from './b3-pipeline.js';
import { CLI_PATH, cpuProfArgs, migrate, platformOverrides } from './p-platform.js';
import { existsSync } from 'node:fs';

const CATALOG = fileURLToPath(new URL('./fairness-catalog.mjs', import.meta.url));
const SCHEMA = 'jobplane_fair';
const BATCH = 1000;

export function fairnessSizes(quick: boolean): { a: number; b: number } {
  return quick ? { a: 1000, b: 20 } : { a: 20_000, b: 100 };
}

export function fairnessCell(env: BenchEnv, quick: boolean): Cell {
  const sizes = fairnessSizes(quick);
  const keys = { a: randomBytes(16).toString('hex'), b: randomBytes(16).toString('hex') };
  const children: Child[] = [];
  let apiUrl = '';
  let pool: pg.Pool | undefined;
  const e: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    DATABASE_URL: env.databaseUrl,
    DATABASE_SCHEMA: SCHEMA,
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: 'bench-fair',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    JOBPLANE_API_KEYS: `client-a:${keys.a},client-b:${keys.b}`,
    JOBPLANE_CATALOG: CATALOG,
    RATE_LIMIT_PER_MINUTE: '100000000',
    WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    ...platformOverrides(),
  };

  async function start(name: string, command: string, extra: NodeJS.ProcessEnv, health: string) {
    const child = await startChild(name, process.execPath, [...cpuProfArgs(name), CLI_PATH, command], {
      env: { ...e, ...extra },
    });
    children.push(child);
    try {
      await waitForHttp(health, 60_000);
    } catch (err) {
      throw new Error(
        `${name}: ${err instanceof Error ? err.message : String(err)}\n${child.output().slice(-2000)}`,
      );
    }
  }

  async function submit(key: string, type: string, n: number, tag: string): Promise<string[]> {
    const ids: string[] = [];
    const batches = Array.from({ length: Math.ceil(n / BATCH) }, (_, i) => Math.min(BATCH, n - i * BATCH));
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const size = batches[next++]!;
        const body = JSON.stringify({
          jobs: Array.from({ length: size }, () => ({
            idempotencyKey: `${tag}-${randomUUID()}`,
            job: { type, payload: { durationMs: 0 } },
          })),
        });
        // The keys make a resend safe: a dropped connection or a 503 on a busy box is retried.
        for (let attempt = 1; ; attempt++) {
          try {
            const res = await fetch(`${apiUrl}/v1/jobs:batch`, {
              method: 'POST',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
              body,
              signal: AbortSignal.timeout(60_000),
            });
            if (res.status === 202 || res.status === 200) {
              const out = (await res.json()) as { results: { job?: { id: string } }[] };
              for (const r of out.results) if (r.job) ids.push(r.job.id);
              break;
            }
            const text = (await res.text()).slice(0, 300);
            if (res.status !== 503 || attempt >= 10) throw new Error(`batch answered ${res.status}: ${text}`);
          } catch (err) {
            if (attempt >= 10) throw err;
          }
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, lane));
    return ids;
  }

  async function waitDone(what: string, ids: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await pool!.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${SCHEMA}.jobs WHERE id = ANY($1::uuid[]) AND state = 'succeeded'`,
        [ids],
      );
      if (r.rows[0]!.n >= ids.length) return;
      if (Date.now() > deadline)
        throw new Error(`${what}: ${r.rows[0]!.n} of ${ids.length} jobs succeeded in ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** One queue: A's backlog, then B's jobs; B's accept → start percentiles in ms. */
  async function measure(
    type: string,
    round: number,
  ): Promise<{ p50: number; p99: number; backlog: number; relayMs: number }> {
    const tag = `${type}-r${round}`;
    const aIds = await submit(keys.a, type, sizes.a, `${tag}-a`);
    const backlog = await pool!.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.jobs WHERE id = ANY($1::uuid[]) AND start_time IS NULL`,
      [aIds],
    );
    const bAt = Date.now();
    const bIds = await submit(keys.b, type, sizes.b, `${tag}-b`);
    // When the relay has published B's rows (the outbox is FIFO: A's rows go first).
    const relayed = (async () => {
      for (;;) {
        const r = await pool!.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE job_id = ANY($1::uuid[])`,
          [bIds],
        );
        if (r.rows[0]!.n === 0) return Date.now() - bAt;
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await waitDone(`${tag} B`, bIds, 600_000);
    const relayMs = await relayed;
    const r = await pool!.query<{ ms: number }>(
      `SELECT (extract(epoch FROM start_time - create_time) * 1000)::float8 AS ms FROM ${SCHEMA}.jobs WHERE id = ANY($1::uuid[])`,
      [bIds],
    );
    await waitDone(`${tag} A`, aIds, 600_000);
    const ms = r.rows.map((x) => x.ms);
    return { p50: percentile(ms, 50), p99: percentile(ms, 99), backlog: backlog.rows[0]!.n, relayMs };
  }

  const notMeasured = existsSync(CLI_PATH)
    ? undefined
    : 'runtime/dist/main/cli.js is missing: run `npx tsc -b` (or `npm run build`) first';
  return {
    id: 'F.fairness',
    group: 'F',
    title: `Fairness: client A submits ${sizes.a.toLocaleString('en-US')} jobs, then client B ${sizes.b}; B's accept → start`,
    method:
      `jobplane api, relay and worker (WORKER_CONCURRENCY ${WORKER_CONCURRENCY}) from runtime/dist, demo.sleep durationMs 0; ` +
      `per round, first on a FIFO queue then on a queue with flow.fairness 'client': A's jobs as POST /v1/jobs:batch of ${BATCH} over 4 connections, ` +
      `then B's ${sizes.b} in one batch; B's create_time → start_time percentiles, A's jobs not yet started when B submits, and when the relay had published B's rows (ms after B's submission; the outbox is FIFO)`,
    ...(notMeasured ? { notMeasured } : {}),
    maxRounds: quick ? 1 : 3,
    skipWarmup: true,
    metrics: {
      fifoBStartP50Ms: { unit: 'ms', better: 'lower' },
      fifoBStartP99Ms: { unit: 'ms', better: 'lower' },
      fairBStartP50Ms: { unit: 'ms', better: 'lower' },
      fairBStartP99Ms: { unit: 'ms', better: 'lower' },
      fifoABacklog: { unit: 'jobs', better: 'higher' },
      fairABacklog: { unit: 'jobs', better: 'higher' },
      fifoBRelayedMs: { unit: 'ms', better: 'lower' },
      fairBRelayedMs: { unit: 'ms', better: 'lower' },
    },
    async setup() {
      await migrate(env, SCHEMA);
      pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
      const port = await freePort();
      apiUrl = `http://127.0.0.1:${port}`;
      await start(
        'jobplane-api-fair',
        'api',
        { PORT: String(port), METRICS_PORT: String(await freePort()) },
        `${apiUrl}/readyz`,
      );
      for (const role of ['relay', 'worker']) {
        const mport = await freePort();
        await start(
          `jobplane-${role}-fair`,
          role,
          { METRICS_PORT: String(mport) },
          `http://127.0.0.1:${mport}/healthz`,
        );
      }
    },
    async run(ctx) {
      const fifo = await measure('bench.fifo', ctx.round);
      const fair = await measure('bench.fair', ctx.round);
      return {
        fifoBStartP50Ms: fifo.p50,
        fifoBStartP99Ms: fifo.p99,
        fairBStartP50Ms: fair.p50,
        fairBStartP99Ms: fair.p99,
        fifoABacklog: fifo.backlog,
        fairABacklog: fair.backlog,
        fifoBRelayedMs: fifo.relayMs,
        fairBRelayedMs: fair.relayMs,
      };
    },
    async teardown() {
      for (const c of children.reverse()) await c.stop();
      await pool?.end();
    },
  };
}
