/**
 * `npm run bench` — Jobplane benchmarks (docs/benchmarks.md).
 *
 *   npm run bench                     full run (warm-up + 3 rounds), several minutes
 *   npm run bench -- --quick          smoke mode (< 60 s): tiny sizes, one round, no warm-up
 *   npm run bench -- --only B1,B2     only these groups (B0 B1 B2 B3 P C S L F; C = the scale-out cell, F = fairness)
 *   npm run bench -- --repeats 5 --out .bench
 *
 * Uses loopback PostgreSQL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres) to
 * create a private database, and a private redis-server on a free port; both are removed at the end.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { postgresCell, redisCell } from './cells/b0-limits.js';
import { bullmqAddBulkCell, bullmqAddCell, bullmqProcessCell } from './cells/b1-bullmq.js';
import { fastifyCells } from './cells/b2-fastify.js';
import { b3Cell, WORKER_CONCURRENCY } from './cells/b3-pipeline.js';
import { fairnessCell } from './cells/f-fairness.js';
import { platformCells } from './cells/p-platform.js';
import { synthCell } from './cells/s-synth.js';
import { installSignalCleanup } from './lib/cleanup.js';
import { describeMachine, startBenchEnv } from './lib/env.js';
import type { Cell, Group } from './lib/harness.js';
import { runCells } from './lib/harness.js';
import { deriveFigures, writeResults } from './lib/report.js';
import type { BenchResults } from './lib/report.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BenchOptions {
  readonly quick: boolean;
  readonly repeats: number;
  readonly warmup: boolean;
  readonly only?: readonly Group[];
  readonly outDir: string;
  readonly log: (msg: string) => void;
  readonly command: string;
}

export async function runBench(
  options: BenchOptions,
): Promise<{ results: BenchResults; files: { json: string; markdown: string } }> {
  const startedAt = new Date().toISOString();
  const machine = await describeMachine();
  const env = await startBenchEnv();
  try {
    const q = options.quick;
    // Interleaved order: baselines and the platform alternate within every round.
    const all: Cell[] = [
      await redisCell(env, q),
      postgresCell(env, 1, q),
      postgresCell(env, 8, q),
      bullmqAddCell(env, 1, q),
      bullmqAddCell(env, 50, q),
      bullmqAddBulkCell(env, 100, q),
      bullmqProcessCell(env, 1, q),
      bullmqProcessCell(env, 10, q),
      bullmqProcessCell(env, 50, q),
      ...fastifyCells(q),
      b3Cell(env, q),
      ...platformCells(env, q),
      synthCell(q),
      fairnessCell(env, q),
    ];
    const cells = options.only ? all.filter((c) => options.only?.includes(c.group)) : all;
    const reports = await runCells(cells, {
      quick: q,
      repeats: options.repeats,
      warmup: options.warmup,
      log: options.log,
    });
    const results: BenchResults = {
      schemaVersion: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      mode: q ? 'quick' : 'full',
      repeats: options.repeats,
      warmup: options.warmup,
      command: options.command,
      machine,
      cells: reports,
      derived: deriveFigures(reports, WORKER_CONCURRENCY),
    };
    return { results, files: writeResults(options.outDir, results) };
  } finally {
    await env.close();
  }
}

async function main(): Promise<void> {
  installSignalCleanup();
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      repeats: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      'no-warmup': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const only = values.only?.split(',').map((g) => g.trim().toUpperCase()) as Group[] | undefined;
  const { results, files } = await runBench({
    quick,
    repeats: values.repeats ? Number(values.repeats) : quick ? 1 : 3,
    warmup: quick ? false : !values['no-warmup'],
    ...(only ? { only } : {}),
    outDir: path.resolve(REPO_ROOT, values.out ?? '.bench'),
    log: (msg) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  });
  console.log(
    `\nwrote ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.markdown)}\n`,
  );
  const failed = results.cells.filter((c) => c.status === 'failed');
  for (const c of failed) console.error(`FAILED ${c.id}: ${c.reason}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
