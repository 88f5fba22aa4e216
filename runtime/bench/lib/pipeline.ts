/**
 * One measurement procedure for every durable pipeline (B3 reference and P platform), so both
 * are measured the same way. Per round:
 *  1. closed loop: `jobs` single submissions over 50 connections → accepted/s; wait until all are
 *     terminal → end-to-end jobs/s (last finish − first create, from the database); PostgreSQL
 *     commits, Redis commands and CPU seconds per job over this phase (counters read after an idle
 *     pause long enough for PostgreSQL to flush its statistics); RSS of each process.
 *  2. open loop at a fixed rate (1,000 requests/s in full mode) → POST p50/p99.
 *  3. open loop at half the end-to-end peak of phase 1 → POST p50/p99 at a sustainable rate, and
 *     accept → start p50/p99 (database times).
 *  4. (targets with a batch endpoint) closed loop of batched submissions (`batchSize` jobs per
 *     request over `batchConnections` connections) → accepted and end-to-end jobs/s, commits, Redis
 *     commands and CPU per job, counted like phase 1.
 * Between phases every job of the phase must be terminal (and no late one appear) first.
 */
import type { BenchEnv } from './env.js';
import { pgCommitCount, redisCommandCount } from './env.js';
import type { RunContext } from './harness.js';
import { closedLoop, openLoop } from './load.js';
import type { RequestSpec } from './load.js';
import { cpuSeconds, rssMiB } from './proc.js';
import { percentile } from './stats.js';

export interface JobTiming {
  /** Epoch milliseconds. */
  readonly created: number;
  readonly started: number | null;
  readonly finished: number | null;
}

export interface PipelineTarget {
  readonly baseUrl: string;
  /** The submit request for a job with this idempotency key. */
  submit(key: string): RequestSpec;
  /** Jobs whose idempotency key starts with `prefix`, in a terminal state. */
  terminalCount(prefix: string): Promise<number>;
  /** Jobs whose idempotency key starts with `prefix`: all of them, and those not yet terminal. */
  counts(prefix: string): Promise<{ total: number; active: number }>;
  timings(prefix: string): Promise<JobTiming[]>;
  /** Process ids by role, for CPU and RSS. */
  pids(): Readonly<Record<string, number>>;
  /** The batch request for these keys (targets with a batch endpoint only). */
  submitBatch?(keys: readonly string[]): RequestSpec;
  /**
   * Where accept → start went, per job whose key starts with `prefix` (targets that can tell):
   * the relay (accepted → message in the queue), the queue (→ taken by a worker) and the start
   * write (→ `start_time`), in milliseconds.
   */
  stages?(prefix: string): Promise<StageTiming[]>;
}

export interface StageTiming {
  readonly relayMs: number;
  readonly queueMs: number;
  readonly startWriteMs: number;
}

/** Medians of the accept → start stages (the P cell's `stages`). */
export const STAGE_METRICS = {
  relayP50Ms: { unit: 'ms (½ peak)', better: 'lower' },
  queueWaitP50Ms: { unit: 'ms (½ peak)', better: 'lower' },
  startWriteP50Ms: { unit: 'ms (½ peak)', better: 'lower' },
} as const;

export interface PipelineSizes {
  readonly jobs: number;
  readonly connections: number;
  readonly fixedRate: number;
  readonly openLoopSeconds: number;
  /** Idle pause before reading PostgreSQL statistics (they flush within 10 s of going idle). */
  readonly statsPauseMs: number;
  readonly drainTimeoutMs: number;
  /** Phase 4: jobs in all, jobs per request, connections. */
  readonly batchJobs: number;
  readonly batchSize: number;
  readonly batchConnections: number;
}

export function pipelineSizes(quick: boolean): PipelineSizes {
  return quick
    ? {
        jobs: 200,
        connections: 20,
        fixedRate: 200,
        openLoopSeconds: 1,
        statsPauseMs: 0,
        drainTimeoutMs: 30_000,
        batchJobs: 400,
        batchSize: 50,
        batchConnections: 2,
      }
    : {
        jobs: 5_000,
        connections: 50,
        fixedRate: 1_000,
        openLoopSeconds: 5,
        statsPauseMs: 11_000,
        drainTimeoutMs: 120_000,
        batchJobs: 20_000,
        batchSize: 500,
        batchConnections: 4,
      };
}

export const PIPELINE_METRICS = {
  acceptedPerSec: { unit: 'jobs/s', better: 'higher' },
  e2eJobsPerSec: { unit: 'jobs/s', better: 'higher' },
  pgCommitsPerJob: { unit: 'commits/job', better: 'lower' },
  redisCmdsPerJob: { unit: 'cmds/job', better: 'lower' },
  cpuMsPerJob: { unit: 'CPU ms/job', better: 'lower' },
  postP50Ms: { unit: 'ms (fixed rate)', better: 'lower' },
  postP99Ms: { unit: 'ms (fixed rate)', better: 'lower' },
  fixedRateFailed: { unit: 'requests', better: 'lower' },
  halfPeakPostP50Ms: { unit: 'ms (½ peak)', better: 'lower' },
  halfPeakPostP99Ms: { unit: 'ms (½ peak)', better: 'lower' },
  acceptToStartP50Ms: { unit: 'ms (½ peak)', better: 'lower' },
  acceptToStartP99Ms: { unit: 'ms (½ peak)', better: 'lower' },
  halfPeakRate: { unit: 'jobs/s', better: 'higher' },
} as const;

/** Phase 4 metrics (targets with a batch endpoint). */
export const BATCH_METRICS = {
  batchAcceptedPerSec: { unit: 'jobs/s (batched)', better: 'higher' },
  batchE2eJobsPerSec: { unit: 'jobs/s (batched)', better: 'higher' },
  batchPgCommitsPerJob: { unit: 'commits/job (batched)', better: 'lower' },
  batchRedisCmdsPerJob: { unit: 'cmds/job (batched)', better: 'lower' },
  batchCpuMsPerJob: { unit: 'CPU ms/job (batched)', better: 'lower' },
} as const;

/** CPU seconds of each process since `cpu0` (from `cpuSnapshot`), per job and in all. */
export function cpuSnapshot(pids: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, cpuSeconds(pid)]));
}

export function cpuSince(
  pids: Readonly<Record<string, number>>,
  cpu0: Record<string, number>,
  jobs: number,
): { perRole: Record<string, number>; totalMsPerJob: number } {
  const perRole: Record<string, number> = {};
  let total = 0;
  for (const [role, pid] of Object.entries(pids)) {
    const used = cpuSeconds(pid) - (cpu0[role] ?? Number.NaN);
    perRole[`${role}CpuMsPerJob`] = (used * 1000) / jobs;
    total += used;
  }
  return { perRole, totalMsPerJob: (total * 1000) / jobs };
}

/** Jobs ÷ (last finish − first create), from the database's times. */
export function endToEnd(timings: readonly JobTiming[], jobs: number): number {
  const firstCreate = Math.min(...timings.map((t) => t.created));
  const lastFinish = Math.max(...timings.map((t) => t.finished ?? Number.NaN));
  return jobs / ((lastFinish - firstCreate) / 1000);
}

/** Phase 4: batched submissions, closed loop. */
async function measureBatched(
  target: PipelineTarget,
  env: BenchEnv,
  sizes: PipelineSizes,
  prefix: string,
): Promise<Record<string, number>> {
  const submitBatch = target.submitBatch!;
  const pids = target.pids();
  const requests = Math.ceil(sizes.batchJobs / sizes.batchSize);
  const jobs = requests * sizes.batchSize;
  const commits0 = await pgCommitCount(env.databaseUrl, env.databaseName);
  const redis0 = await redisCommandCount(env.redisUrl);
  const cpu0 = cpuSnapshot(pids);
  const closed = await closedLoop({
    url: target.baseUrl,
    connections: sizes.batchConnections,
    amount: requests,
    request: (i) =>
      submitBatch(Array.from({ length: sizes.batchSize }, (_, j) => `${prefix}b-${i * sizes.batchSize + j}`)),
  });
  if (closed.non2xx > 0 || closed.errors > 0) {
    throw new Error(
      `batched closed loop: ${closed.non2xx} non-2xx answers and ${closed.errors} errors (statuses ${JSON.stringify(closed.statuses)})`,
    );
  }
  await waitTerminal(target, `${prefix}b-`, jobs, sizes.drainTimeoutMs);
  await new Promise((r) => setTimeout(r, sizes.statsPauseMs));
  const commits1 = await pgCommitCount(env.databaseUrl, env.databaseName);
  const redis1 = await redisCommandCount(env.redisUrl);
  const cpu = cpuSince(pids, cpu0, jobs);
  return {
    batchAcceptedPerSec: jobs / closed.seconds,
    batchE2eJobsPerSec: endToEnd(await target.timings(`${prefix}b-`), jobs),
    batchPgCommitsPerJob: (commits1 - commits0) / jobs,
    batchRedisCmdsPerJob: (redis1 - redis0) / jobs,
    batchCpuMsPerJob: cpu.totalMsPerJob,
  };
}

export async function waitTerminal(
  target: PipelineTarget,
  prefix: string,
  expected: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    count = await target.terminalCount(prefix);
    if (count >= expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `only ${count} of ${expected} jobs '${prefix}*' reached a terminal state within ${timeoutMs} ms`,
  );
}

/**
 * Waits until every job of `prefix` is terminal and no new one appeared for a second: requests
 * the load generator gave up on may still be stored by the server, and must not leak their work
 * into the next phase.
 */
async function settle(target: PipelineTarget, prefix: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await target.counts(prefix);
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await target.counts(prefix);
    if (now.total !== last.total || now.active > 0) stableSince = Date.now();
    last = now;
    if (now.active === 0 && Date.now() - stableSince >= 1000) return;
  }
  throw new Error(`jobs '${prefix}*' did not settle within ${timeoutMs} ms (${JSON.stringify(last)})`);
}

export async function measurePipeline(
  target: PipelineTarget,
  env: BenchEnv,
  ctx: RunContext,
  tag: string,
): Promise<Record<string, number>> {
  const sizes = pipelineSizes(ctx.quick);
  const pids = target.pids();
  const prefix = `${tag}-r${ctx.round}-`;

  // Phase 1: closed loop.
  const commits0 = await pgCommitCount(env.databaseUrl, env.databaseName);
  const redis0 = await redisCommandCount(env.redisUrl);
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, cpuSeconds(pid)]));
  const closed = await closedLoop({
    url: target.baseUrl,
    connections: sizes.connections,
    amount: sizes.jobs,
    request: (i) => target.submit(`${prefix}c-${i}`),
  });
  if (closed.non2xx > 0 || closed.errors > 0) {
    throw new Error(
      `closed loop: ${closed.non2xx} non-2xx answers and ${closed.errors} errors of ${closed.total} (statuses ${JSON.stringify(closed.statuses)})`,
    );
  }
  await waitTerminal(target, `${prefix}c-`, sizes.jobs, sizes.drainTimeoutMs);
  const rss: Record<string, number> = {};
  for (const [role, pid] of Object.entries(pids)) rss[`${role}RssMiB`] = rssMiB(pid);
  await new Promise((r) => setTimeout(r, sizes.statsPauseMs));
  const commits1 = await pgCommitCount(env.databaseUrl, env.databaseName);
  const redis1 = await redisCommandCount(env.redisUrl);
  const cpuPerRole: Record<string, number> = {};
  let cpuTotal = 0;
  for (const [role, pid] of Object.entries(pids)) {
    const used = cpuSeconds(pid) - (cpu0[role] ?? Number.NaN);
    cpuPerRole[`${role}CpuMsPerJob`] = (used * 1000) / sizes.jobs;
    cpuTotal += used;
  }
  const timings = await target.timings(`${prefix}c-`);
  const firstCreate = Math.min(...timings.map((t) => t.created));
  const lastFinish = Math.max(...timings.map((t) => t.finished ?? Number.NaN));
  const e2eJobsPerSec = sizes.jobs / ((lastFinish - firstCreate) / 1000);

  // Phase 2: fixed-rate open loop.
  const fixed = await openLoop({
    url: target.baseUrl,
    rate: sizes.fixedRate,
    durationSeconds: sizes.openLoopSeconds,
    request: (i) => target.submit(`${prefix}f-${i}`),
  });
  await waitTerminal(target, `${prefix}f-`, fixed.ok, sizes.drainTimeoutMs);
  await settle(target, `${prefix}f-`, sizes.drainTimeoutMs);

  // Phase 3: open loop at half the end-to-end peak → accept → start.
  const halfPeakRate = Math.max(10, Math.floor(e2eJobsPerSec / 2));
  const half = await openLoop({
    url: target.baseUrl,
    rate: halfPeakRate,
    durationSeconds: sizes.openLoopSeconds,
    request: (i) => target.submit(`${prefix}h-${i}`),
  });
  await waitTerminal(target, `${prefix}h-`, half.ok, sizes.drainTimeoutMs);
  await settle(target, `${prefix}h-`, sizes.drainTimeoutMs);
  const waits = (await target.timings(`${prefix}h-`))
    .filter((t) => t.started !== null)
    .map((t) => (t.started as number) - t.created);

  const stages = target.stages ? await target.stages(`${prefix}h-`) : [];
  const staged: Record<string, number> =
    stages.length > 0
      ? {
          relayP50Ms: percentile(
            stages.map((x) => x.relayMs),
            50,
          ),
          queueWaitP50Ms: percentile(
            stages.map((x) => x.queueMs),
            50,
          ),
          startWriteP50Ms: percentile(
            stages.map((x) => x.startWriteMs),
            50,
          ),
        }
      : {};

  const batched = target.submitBatch ? await measureBatched(target, env, sizes, prefix) : {};

  return {
    acceptedPerSec: closed.requestsPerSec,
    e2eJobsPerSec,
    pgCommitsPerJob: (commits1 - commits0) / sizes.jobs,
    redisCmdsPerJob: (redis1 - redis0) / sizes.jobs,
    cpuMsPerJob: (cpuTotal * 1000) / sizes.jobs,
    ...cpuPerRole,
    postP50Ms: fixed.p50Ms,
    postP99Ms: fixed.p99Ms,
    fixedRateFailed: fixed.failed,
    halfPeakPostP50Ms: half.p50Ms,
    halfPeakPostP99Ms: half.p99Ms,
    acceptToStartP50Ms: percentile(waits, 50),
    acceptToStartP99Ms: percentile(waits, 99),
    halfPeakRate,
    ...staged,
    ...rss,
    ...batched,
  };
}

/** Polls `url` until it answers 2xx. */
export async function waitForHttp(
  url: string,
  timeoutMs = 30_000,
  headers: Record<string, string> = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms (last: ${last.slice(0, 300)})`);
}
