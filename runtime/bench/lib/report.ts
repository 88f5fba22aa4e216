/** The result file (JSON, machine-readable) and the Markdown table, plus derived ratios and targets. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineDescription } from './env.js';
import type { CellReport } from './harness.js';
import { fmt } from './stats.js';

export interface Derived {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Human-readable target, e.g. "≥ 0.5". */
  readonly target?: string;
  readonly met?: boolean;
  readonly note?: string;
}

export interface BenchResults {
  readonly schemaVersion: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly mode: 'quick' | 'full';
  readonly repeats: number;
  readonly warmup: boolean;
  readonly command: string;
  readonly machine: MachineDescription;
  readonly cells: readonly CellReport[];
  readonly derived: readonly Derived[];
}

function med(cells: readonly CellReport[], id: string, metric: string): number {
  return cells.find((c) => c.id === id)?.metrics[metric]?.median ?? Number.NaN;
}

function check(value: number, op: '≥' | '≤', bound: number): boolean | undefined {
  if (!Number.isFinite(value)) return undefined;
  return op === '≥' ? value >= bound : value <= bound;
}

/** Ratios and target checks from the cells' medians (NaN when a cell was not measured). */
export function deriveFigures(cells: readonly CellReport[], platformWorkerConcurrency: number): Derived[] {
  const p = (m: string) => med(cells, 'P.platform', m);
  const b1 = med(cells, `B1.process.c${platformWorkerConcurrency}`, 'jobs');
  const rows: Derived[] = [];
  const push = (name: string, value: number, unit: string, op?: '≥' | '≤', bound?: number, note?: string) => {
    const target = op && bound !== undefined ? `${op} ${bound}` : undefined;
    const met = op && bound !== undefined ? check(value, op, bound) : undefined;
    rows.push({
      name,
      value,
      unit,
      ...(target ? { target } : {}),
      ...(met !== undefined ? { met } : {}),
      ...(note ? { note } : {}),
    });
  };
  const b3 = (m: string) => med(cells, 'B3.pipeline', m);
  const scale = (m: string) => med(cells, 'P.scale', m);
  push(
    'P end-to-end ÷ B3 end-to-end (single submissions, same run)',
    p('e2eJobsPerSec') / b3('e2eJobsPerSec'),
    'ratio',
    '≥',
    1,
  );
  push('P end-to-end jobs/s (single submissions)', p('e2eJobsPerSec'), 'jobs/s', '≥', 2000);
  push('P accepted/s ÷ B3 accepted/s', p('acceptedPerSec') / b3('acceptedPerSec'), 'ratio');
  push(
    `P end-to-end ÷ B1 process (concurrency ${platformWorkerConcurrency})`,
    p('e2eJobsPerSec') / b1,
    'ratio',
    '≥',
    0.5,
  );
  push('P batched end-to-end jobs/s (POST /v1/jobs:batch)', p('batchE2eJobsPerSec'), 'jobs/s', '≥', 5000);
  push('P batched accepted jobs/s', p('batchAcceptedPerSec'), 'jobs/s', '≥', 20000);
  push('P batched end-to-end ÷ B3 end-to-end', p('batchE2eJobsPerSec') / b3('e2eJobsPerSec'), 'ratio');
  push('P PostgreSQL commits per job (single)', p('pgCommitsPerJob'), 'commits/job', '≤', 1.5);
  push('P PostgreSQL commits per job (batched)', p('batchPgCommitsPerJob'), 'commits/job', '≤', 0.1);
  push('P commits per job ÷ B3 commits per job', p('pgCommitsPerJob') / b3('pgCommitsPerJob'), 'ratio');
  push('P Redis commands per job', p('redisCmdsPerJob'), 'cmds/job');
  push('P CPU per job (api + relay + worker, single)', p('cpuMsPerJob'), 'CPU ms/job', '≤', 0.6);
  push('P CPU per job (batched)', p('batchCpuMsPerJob'), 'CPU ms/job');
  push('P CPU per job ÷ B3 CPU per job', p('cpuMsPerJob') / b3('cpuMsPerJob'), 'ratio');
  push('P POST /v1/jobs p99 at the fixed rate', p('postP99Ms'), 'ms', '≤', 10);
  push('P POST /v1/jobs p99 at ½ peak (a rate it sustains)', p('halfPeakPostP99Ms'), 'ms');
  push('P accept → start p50 at ½ peak', p('acceptToStartP50Ms'), 'ms', '≤', 5);
  push('P accept → start p99 at ½ peak', p('acceptToStartP99Ms'), 'ms', '≤', 50);
  push('B3 accept → start p50 at its ½ peak (same run)', b3('acceptToStartP50Ms'), 'ms');
  push('P ½ peak rate ÷ B3 ½ peak rate', p('halfPeakRate') / b3('halfPeakRate'), 'ratio');
  push('P accept → start, relay stage p50 (accepted → in the queue)', p('relayP50Ms'), 'ms');
  push('P accept → start, queue stage p50 (→ taken by a worker)', p('queueWaitP50Ms'), 'ms');
  push('P accept → start, start-write stage p50 (→ start_time)', p('startWriteP50Ms'), 'ms');
  push('P.scale end-to-end jobs/s (2 api + 2 relay + 4 worker)', scale('e2eJobsPerSec'), 'jobs/s');
  push('P.scale end-to-end ÷ P end-to-end', scale('e2eJobsPerSec') / p('e2eJobsPerSec'), 'ratio');
  push('P.scale CPU per job', scale('cpuMsPerJob'), 'CPU ms/job');
  push(
    'Synthesis of all environments (synth command: synth + verify + write)',
    med(cells, 'S.synth', 'synthCommandMs') / 1000,
    's',
    '≤',
    5,
  );
  push(
    'Synthesis cost per extra worker pool (1 → 50 pools)',
    med(cells, 'S.synth', 'msPerExtraPool'),
    'ms/pool',
  );
  push('GET /v1/jobs p99 at 1 M rows', med(cells, 'L.list', 'p99Ms'), 'ms', '≤', 50);
  return rows;
}

export function toMarkdown(results: BenchResults): string {
  const lines: string[] = [];
  const m = results.machine;
  lines.push(
    `Run ${results.startedAt} (${results.mode}, ${results.repeats} measured round(s)${results.warmup ? ' after a warm-up round' : ''}): \`${results.command}\``,
  );
  lines.push('');
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; ${m.redis.split(' ').slice(0, 3).join(' ')}; ${m.postgres} (${Object.entries(
      m.postgresSettings,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}).`,
  );
  lines.push('');
  lines.push('| cell | metric | median | min–max | unit |');
  lines.push('|---|---|---:|---:|---|');
  for (const cell of results.cells) {
    if (cell.status === 'not-measured') {
      lines.push(`| ${cell.id} ${cell.title} | not measured: ${cell.reason ?? ''} | | | |`);
      continue;
    }
    const entries = Object.entries(cell.metrics);
    if (cell.status === 'failed')
      lines.push(
        `| ${cell.id} ${cell.title} | FAILED: ${(cell.reason ?? '').replaceAll('|', '/').replaceAll('\n', ' ').slice(0, 200)} | | | |`,
      );
    entries.forEach(([name, s], i) => {
      const label = i === 0 && cell.status !== 'failed' ? `${cell.id} ${cell.title}` : '';
      lines.push(`| ${label} | ${name} | ${fmt(s.median)} | ${fmt(s.min)}–${fmt(s.max)} | ${s.unit} |`);
    });
  }
  lines.push('');
  lines.push('| derived figure | value | target | met |');
  lines.push('|---|---:|---|---|');
  for (const d of results.derived) {
    const met = d.met === undefined ? (d.target ? 'not measured' : '') : d.met ? 'yes' : '**no**';
    lines.push(
      `| ${d.name} | ${fmt(d.value)} ${Number.isFinite(d.value) ? d.unit : ''} | ${d.target ?? ''} | ${met} |`,
    );
  }
  lines.push('');
  lines.push('Methods:');
  lines.push('');
  for (const cell of results.cells) lines.push(`- **${cell.id}**: ${cell.method}`);
  return `${lines.join('\n')}\n`;
}

export function writeResults(dir: string, results: BenchResults): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'results.json');
  const markdown = path.join(dir, 'results.md');
  writeFileSync(
    json,
    `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  writeFileSync(markdown, toMarkdown(results));
  return { json, markdown };
}
