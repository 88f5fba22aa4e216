/**
 * The benchmark runner: cells are set up once, then run in interleaved rounds (every cell once per
 * round, baseline and platform cells alternating) after a discarded warm-up round, so that drift on
 * a shared machine hits all cells alike. Each metric is reported as median and min–max over rounds.
 */
import { summarize } from './stats.js';
import type { Summary } from './stats.js';

export type Group = 'B0' | 'B1' | 'B2' | 'B3' | 'P' | 'C' | 'S' | 'L' | 'F';

export interface MetricSpec {
  readonly unit: string;
  readonly better: 'higher' | 'lower';
}

export interface RunContext {
  readonly quick: boolean;
  /** 0 for the warm-up round (discarded), then 1..repeats. */
  readonly round: number;
  readonly log: (msg: string) => void;
}

export interface Cell {
  readonly id: string;
  readonly group: Group;
  readonly title: string;
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  /** How the cell measures (tool, sizes); shown in the report. */
  readonly method: string;
  /** Set when the cell cannot be measured here: the report shows the reason instead of figures. */
  readonly notMeasured?: string;
  /** Fewer rounds for very slow cells (default: all rounds). */
  readonly maxRounds?: number;
  readonly skipWarmup?: boolean;
  setup?(ctx: RunContext): Promise<void>;
  run(ctx: RunContext): Promise<Record<string, number>>;
  teardown?(): Promise<void>;
}

export interface CellReport {
  readonly id: string;
  readonly group: Group;
  readonly title: string;
  readonly method: string;
  readonly status: 'ok' | 'not-measured' | 'failed';
  readonly reason?: string;
  readonly metrics: Record<string, MetricSpec & Summary>;
}

export interface RunOptions {
  readonly quick: boolean;
  readonly repeats: number;
  readonly warmup: boolean;
  readonly log: (msg: string) => void;
}

/** Runs every cell; a failing cell is reported as failed, never aborts the others. */
export async function runCells(cells: readonly Cell[], options: RunOptions): Promise<CellReport[]> {
  const samples = new Map<string, Record<string, number[]>>();
  const failures = new Map<string, string>();
  const live: Cell[] = [];
  const base = { quick: options.quick, log: options.log };

  for (const cell of cells) {
    if (cell.notMeasured) continue;
    try {
      options.log(`setup ${cell.id}`);
      await cell.setup?.({ ...base, round: 0 });
      live.push(cell);
      samples.set(cell.id, {});
    } catch (err) {
      failures.set(cell.id, `setup failed: ${message(err)}`);
    }
  }

  const firstRound = options.warmup ? 0 : 1;
  for (let round = firstRound; round <= options.repeats; round++) {
    for (const cell of live) {
      if (failures.has(cell.id)) continue;
      if (round === 0 && cell.skipWarmup) continue;
      if (round > (cell.maxRounds ?? Number.POSITIVE_INFINITY)) continue;
      const started = performance.now();
      try {
        const result = await cell.run({ ...base, round });
        const took = ((performance.now() - started) / 1000).toFixed(1);
        options.log(
          `${round === 0 ? 'warm-up' : `round ${round}`} ${cell.id} (${took}s) ${JSON.stringify(result)}`,
        );
        if (round === 0) continue;
        const bucket = samples.get(cell.id) as Record<string, number[]>;
        for (const [name, value] of Object.entries(result)) (bucket[name] ??= []).push(value);
      } catch (err) {
        options.log(`${cell.id} failed: ${message(err)}`);
        failures.set(cell.id, message(err));
      }
    }
  }

  for (const cell of [...live].reverse()) {
    try {
      await cell.teardown?.();
    } catch (err) {
      options.log(`teardown ${cell.id} failed: ${message(err)}`);
    }
  }

  return cells.map((cell): CellReport => {
    const common = { id: cell.id, group: cell.group, title: cell.title, method: cell.method };
    if (cell.notMeasured) return { ...common, status: 'not-measured', reason: cell.notMeasured, metrics: {} };
    const failure = failures.get(cell.id);
    const bucket = samples.get(cell.id) ?? {};
    const metrics: Record<string, MetricSpec & Summary> = {};
    for (const [name, spec] of Object.entries(cell.metrics)) {
      const values = bucket[name];
      if (values?.length) metrics[name] = { ...spec, ...summarize(values) };
    }
    if (failure) return { ...common, status: 'failed', reason: failure, metrics };
    return { ...common, status: 'ok', metrics };
  });
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
