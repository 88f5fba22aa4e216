/**
 * `npm run bench:probes -w @jobplane/runtime -- <probe>`: the diagnostic measurements behind the
 * explanations in docs/benchmarks.md ("Targets … met or missed, and why"). Not part of
 * `npm run bench`; each prints one line per measurement. Needs `npx tsc -b` first (the platform
 * runs from runtime/dist).
 *
 *   rates [--rates 50,100,200,300]  the platform (api + relay + worker) under an open loop of single
 *                                   submissions, 5 s per rate: POST and accept → start percentiles,
 *                                   CPU of each process, how busy the whole machine was
 *   slots [--jobs 20000]            the batched phase alone: where a job's time in its worker slot
 *                                   goes (BullMQ processedOn/finishedOn beside start_time/finish_time,
 *                                   the last 1,000 jobs BullMQ keeps)
 *   wakeups [--rates 100,1000]      CPU per request of B2's bare Fastify `GET /hello` and of the
 *                                   platform API's `GET /healthz` at low and high open-loop rates
 *
 * Like `npm run bench`, it uses its own database and redis-server, removed at the end.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startBareFastify } from './cells/b2-fastify.js';
import {
  batchRequest,
  migrate,
  queuePrefixOf,
  startCluster,
  stopCluster,
  submitRequest,
} from './cells/p-platform.js';
import { installSignalCleanup } from './lib/cleanup.js';
import { startBenchEnv } from './lib/env.js';
import type { BenchEnv } from './lib/env.js';
import { closedLoop, openLoop } from './lib/load.js';
import type { RequestSpec } from './lib/load.js';
import { cpuSeconds } from './lib/proc.js';
import { percentile } from './lib/stats.js';

const SCHEMA = 'jobplane';
const SECONDS = 5;

/** Busy share of all cores between two readings of /proc/stat's first line. */
function machineClock(): () => number {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
  };
  const start = read();
  return () => {
    const end = read();
    return 1 - (end.idle - start.idle) / (end.total - start.total);
  };
}

const ms = (v: number) => v.toFixed(1);

/** Polls `SELECT count(*) AS n …` until it reaches `expected` (throws after `timeoutMs`). */
async function waitCount(pool: pg.Pool, sql: string, params: unknown[], expected: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = Number((await pool.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
    if (n >= expected) return;
    if (Date.now() > deadline) throw new Error(`${n} of ${expected} jobs finished after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const cpuPerRequest = (seconds: number | undefined, rate: number) =>
  (((seconds ?? Number.NaN) * 1000) / (rate * SECONDS)).toFixed(3);
const pct = (v: number) => `${(100 * v).toFixed(0)} %`;

/** Open loop at `rate` for SECONDS; the CPU share of each pid and of the machine meanwhile. */
async function measureRate(
  url: string,
  rate: number,
  pids: Record<string, number>,
  request: (i: number) => RequestSpec,
) {
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const machine = machineClock();
  const t0 = performance.now();
  const result = await openLoop({ url, rate, durationSeconds: SECONDS, request });
  const seconds = (performance.now() - t0) / 1000;
  const busy = machine();
  const cpu = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) - (cpu0[k] ?? Number.NaN)]),
  );
  return { result, seconds, busy, cpu };
}

async function rates(env: BenchEnv, list: number[]): Promise<void> {
  await migrate(env, SCHEMA);
  const cluster = await startCluster(env, SCHEMA, ['relay', 'worker']);
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  try {
    const pids = Object.fromEntries(Object.entries(cluster.children).map(([k, c]) => [k, c.pid]));
    // Warm-up: JIT, connections, the rate limiter's lease.
    await openLoop({
      url: cluster.apiUrl,
      rate: 200,
      durationSeconds: 3,
      request: (i) => submitRequest(cluster.apiKey, `w-${i}`),
    });
    for (const rate of list) {
      const prefix = `r${rate}-`;
      const m = await measureRate(cluster.apiUrl, rate, pids, (i) =>
        submitRequest(cluster.apiKey, `${prefix}${i}`),
      );
      const sent = Math.round(rate * SECONDS);
      await waitCount(
        pool,
        `SELECT count(*) AS n FROM ${SCHEMA}.jobs WHERE idempotency_key LIKE $1 AND finish_time IS NOT NULL`,
        [`${prefix}%`],
        m.result.ok,
        60_000,
      );
      const waits = (
        await pool.query<{ w: string }>(
          `SELECT extract(epoch FROM start_time - create_time) * 1000 AS w FROM ${SCHEMA}.jobs WHERE idempotency_key LIKE $1`,
          [`${prefix}%`],
        )
      ).rows.map((r) => Number(r.w));
      const perProcess = Object.entries(m.cpu)
        .map(([k, s]) => `${k} ${pct(s / m.seconds)} (${ms((s * 1000) / sent)} ms/job)`)
        .join(', ');
      console.log(
        `rate ${rate}/s: POST p50 ${ms(m.result.p50Ms)} p99 ${ms(m.result.p99Ms)} ms; accept → start p50 ${ms(percentile(waits, 50))} p99 ${ms(percentile(waits, 99))} ms; ` +
          `machine busy ${pct(m.busy)}; CPU ${perProcess}`,
      );
    }
  } finally {
    await pool.end();
    await stopCluster(cluster);
  }
}

async function slots(env: BenchEnv, jobs: number): Promise<void> {
  const batch = 500;
  await migrate(env, SCHEMA);
  const cluster = await startCluster(env, SCHEMA, ['relay', 'worker']);
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  const redis = new Redis(env.redisUrl);
  try {
    const loaded = await closedLoop({
      url: cluster.apiUrl,
      connections: 4,
      amount: Math.ceil(jobs / batch),
      request: (i) =>
        batchRequest(
          cluster.apiKey,
          Array.from({ length: batch }, (_, k) => `s-${i}-${k}`),
        ),
    });
    const total = Math.ceil(jobs / batch) * batch;
    await waitCount(
      pool,
      `SELECT count(*) AS n FROM ${SCHEMA}.jobs WHERE state = 'succeeded'`,
      [],
      total,
      300_000,
    );
    const rows = (
      await pool.query<{ id: string; c: string; s: string; f: string }>(
        `SELECT id, extract(epoch FROM create_time) * 1000 AS c, extract(epoch FROM start_time) * 1000 AS s,
                extract(epoch FROM finish_time) * 1000 AS f FROM ${SCHEMA}.jobs`,
      )
    ).rows;
    const queue = `${queuePrefixOf(SCHEMA)}:default`;
    const pipeline = redis.pipeline();
    for (const r of rows) pipeline.hmget(`${queue}:${r.id}`, 'processedOn', 'finishedOn');
    const replies = (await pipeline.exec()) ?? [];
    const toStart: number[] = [];
    const toSuccess: number[] = [];
    const toFinished: number[] = [];
    const held: number[] = [];
    rows.forEach((r, i) => {
      const [taken, finished] = (replies[i]?.[1] as (string | null)[] | undefined) ?? [];
      if (!taken || !finished) return; // BullMQ keeps the last 1,000 finished messages
      toStart.push(Number(r.s) - Number(taken));
      toSuccess.push(Number(r.f) - Number(r.s));
      toFinished.push(Number(finished) - Number(r.f));
      held.push(Number(finished) - Number(taken));
    });
    const first = Math.min(...rows.map((r) => Number(r.c)));
    const last = Math.max(...rows.map((r) => Number(r.f)));
    const stat = (v: number[]) => `p50 ${ms(percentile(v, 50))} p90 ${ms(percentile(v, 90))}`;
    console.log(
      `${total} jobs: accepted ${(loaded.requestsPerSec * batch).toFixed(0)}/s, end to end ${(total / ((last - first) / 1000)).toFixed(0)}/s; ` +
        `last ${held.length} jobs in their slot (ms): taken → start ${stat(toStart)}, start → success ${stat(toSuccess)}, ` +
        `success → finished ${stat(toFinished)}, held ${stat(held)}`,
    );
  } finally {
    await redis.quit();
    await pool.end();
    await stopCluster(cluster);
  }
}

async function wakeups(env: BenchEnv, list: number[]): Promise<void> {
  const bare = await startBareFastify();
  try {
    for (const rate of list) {
      const m = await measureRate(bare.url, rate, { fastify: bare.child.pid }, () => ({
        method: 'GET',
        path: '/hello',
      }));
      console.log(
        `bare Fastify GET /hello at ${rate}/s: ${cpuPerRequest(m.cpu['fastify'], rate)} CPU ms per request, p50 ${ms(m.result.p50Ms)} ms`,
      );
    }
  } finally {
    await bare.child.stop();
  }
  await migrate(env, SCHEMA);
  const cluster = await startCluster(env, SCHEMA, []);
  try {
    const api = cluster.children['api']!.pid;
    for (const rate of list) {
      const m = await measureRate(cluster.apiUrl, rate, { api }, () => ({ method: 'GET', path: '/healthz' }));
      console.log(
        `jobplane api GET /healthz at ${rate}/s: ${cpuPerRequest(m.cpu['api'], rate)} CPU ms per request, p50 ${ms(m.result.p50Ms)} ms`,
      );
    }
  } finally {
    await stopCluster(cluster);
  }
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { rates: { type: 'string' }, jobs: { type: 'string' } },
});
const probe = positionals[0];
const numbers = (s: string) => s.split(',').map((x) => Number(x.trim()));
if (probe !== 'rates' && probe !== 'slots' && probe !== 'wakeups') {
  console.error(
    'usage: probes.ts rates [--rates 50,100,200,300] | slots [--jobs 20000] | wakeups [--rates 100,1000]',
  );
  process.exit(2);
}
installSignalCleanup();
const env = await startBenchEnv();
try {
  if (probe === 'rates') await rates(env, numbers(values.rates ?? '50,100,200,300'));
  else if (probe === 'slots') await slots(env, Number(values.jobs ?? 20_000));
  else await wakeups(env, numbers(values.rates ?? '100,1000'));
} finally {
  await env.close();
}
