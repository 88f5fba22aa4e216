/**
 * Payload schemas of the backtest job types, with the limits that keep one job bounded.
 * Every limit problem names the field and the value.
 */
import { z } from 'zod';
import { countParameterSets, rangeSize } from './grid.js';
import type { ParameterGrid } from './grid.js';

/** Longest price series (supplied, generated or selected). */
export const MAX_SERIES_LENGTH = 100_000;
/** Most (fast, slow) pairs one sweep may evaluate. */
export const MAX_PARAMETER_SETS = 10_000;
/** Most parameter sets per `backtest.chunk` child. */
export const MAX_CHUNK_SIZE = 1_000;
/** Most rows in the result's top-N table. */
export const MAX_TOP = 100;
/**
 * Inline `prices` are copied into every child job's payload: prices × children must stay below
 * this (about 20 MB of JSON) — use a larger `chunkSize` or a generated/bundled series instead.
 */
export const MAX_INLINE_PRICE_COPIES = 2_000_000;

const windowValue = z.int().min(1).max(MAX_SERIES_LENGTH);

const windowRangeSchema = z.strictObject({
  from: windowValue,
  to: windowValue,
  step: windowValue.default(1),
});

export const parameterGridSchema = z.strictObject({
  fast: windowRangeSchema.default({ from: 2, to: 24, step: 2 }),
  slow: windowRangeSchema.default({ from: 6, to: 60, step: 6 }),
});

const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be a month 'YYYY-MM'");

export const randomWalkSeriesSchema = z.strictObject({
  kind: z.literal('random-walk'),
  seed: z.int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  length: z.int().min(2).max(MAX_SERIES_LENGTH).default(600),
  start: z.number().positive().max(1e12).default(100),
  /** Mean log return per period (0.005 ≈ 6 % a year on monthly bars). */
  drift: z.number().min(-1).max(1).default(0.005),
  /** Standard deviation of the log return per period (0.04 ≈ 14 % a year on monthly bars). */
  volatility: z.number().min(0).max(1).default(0.04),
});

export const sp500SeriesSchema = z.strictObject({
  kind: z.literal('sp500'),
  /** First month, inclusive (`YYYY-MM`); default: the first month of the data (1871-01). */
  from: monthSchema.optional(),
  /** Last month, inclusive (`YYYY-MM`); default: the last month of the data. */
  to: monthSchema.optional(),
});

export const seriesSchema = z.discriminatedUnion('kind', [randomWalkSeriesSchema, sp500SeriesSchema]);
export type SeriesSpec = z.output<typeof seriesSchema>;

const pricesSchema = z.array(z.number().positive()).min(2).max(MAX_SERIES_LENGTH);

/** Fields shared by `backtest.sweep`, `backtest.full` and `backtest.chunk`. */
const seriesFields = {
  /** The price series itself, oldest first. Give exactly one of `prices` and `series`. */
  prices: pricesSchema.optional(),
  series: seriesSchema.optional(),
  /** Bars per year, for annualizing the Sharpe ratio (12 monthly, 52 weekly, 252 daily). */
  periodsPerYear: z.number().positive().max(100_000).default(12),
};

const sweepFields = {
  ...seriesFields,
  grid: parameterGridSchema.default({
    fast: { from: 2, to: 24, step: 2 },
    slow: { from: 6, to: 60, step: 6 },
  }),
  /** Rows in the result's top-N table (best Sharpe first). */
  top: z.int().min(1).max(MAX_TOP).default(10),
};

/** Problems of a grid against a series of `length` bars (empty when fine). */
export function gridProblems(grid: ParameterGrid, length: number | undefined): string[] {
  const problems: string[] = [];
  for (const side of ['fast', 'slow'] as const) {
    const r = grid[side];
    if (r.to < r.from) problems.push(`'grid.${side}.to' (${r.to}) must be ≥ 'grid.${side}.from' (${r.from})`);
  }
  if (problems.length > 0) return problems;
  const count = countParameterSets(grid);
  if (count === 0) {
    problems.push(
      `'grid' yields no parameter set with fast < slow (fast ${grid.fast.from}..${grid.fast.to}, slow ${grid.slow.from}..${grid.slow.to})`,
    );
  }
  if (count > MAX_PARAMETER_SETS) {
    problems.push(
      `'grid' has ${count} parameter sets with fast < slow; at most ${MAX_PARAMETER_SETS} allowed`,
    );
  }
  if (length !== undefined) {
    const longest = grid.slow.from + (rangeSize(grid.slow) - 1) * grid.slow.step;
    if (longest >= length) {
      problems.push(`'grid.slow' window ${longest} must be < the series length (${length} bars)`);
    }
  }
  return problems;
}

/** Length of the series when it is known without reading data (`prices`, random walk). */
function knownLength(value: {
  prices?: number[] | undefined;
  series?: SeriesSpec | undefined;
}): number | undefined {
  if (value.prices) return value.prices.length;
  if (value.series?.kind === 'random-walk') return value.series.length;
  return undefined;
}

function oneSeries(value: { prices?: unknown; series?: unknown }): string[] {
  if ((value.prices === undefined) !== (value.series === undefined)) return [];
  return value.prices === undefined
    ? ["give exactly one of 'prices' and 'series' (neither was given)"]
    : ["give exactly one of 'prices' and 'series' (both were given)"];
}

export const backtestFullPayloadSchema = z.strictObject(sweepFields);
export type BacktestFullPayload = z.output<typeof backtestFullPayloadSchema>;

/** Cross-field rules of `backtest.full`. */
export function backtestFullProblems(value: BacktestFullPayload): string[] {
  const series = oneSeries(value);
  if (series.length > 0) return series;
  if (
    value.series?.kind === 'sp500' &&
    value.series.from &&
    value.series.to &&
    value.series.from > value.series.to
  ) {
    return [`'series.to' (${value.series.to}) must not be before 'series.from' (${value.series.from})`];
  }
  return gridProblems(value.grid, knownLength(value));
}

export const backtestSweepPayloadSchema = z.strictObject({
  ...sweepFields,
  /** Parameter sets per `backtest.chunk` child job. */
  chunkSize: z.int().min(1).max(MAX_CHUNK_SIZE).default(25),
});
export type BacktestSweepPayload = z.output<typeof backtestSweepPayloadSchema>;

/** Cross-field rules of `backtest.sweep`: those of `backtest.full` plus the inline-copy limit. */
export function backtestSweepProblems(value: BacktestSweepPayload): string[] {
  const problems = backtestFullProblems(value);
  if (problems.length === 0 && value.prices) {
    const children = Math.ceil(countParameterSets(value.grid) / value.chunkSize);
    if (value.prices.length * children > MAX_INLINE_PRICE_COPIES) {
      problems.push(
        `'prices' (${value.prices.length} values) would be copied into ${children} child jobs ` +
          `(more than ${MAX_INLINE_PRICE_COPIES} values in all): raise 'chunkSize' (${value.chunkSize}) or use 'series'`,
      );
    }
  }
  return problems;
}

export const parameterSetSchema = z.strictObject({ fast: windowValue, slow: windowValue });

export const backtestChunkPayloadSchema = z.strictObject({
  ...seriesFields,
  /** The slice of the parent's grid this child evaluates. */
  params: z.array(parameterSetSchema).min(1).max(MAX_CHUNK_SIZE),
});
export type BacktestChunkPayload = z.output<typeof backtestChunkPayloadSchema>;

/** Cross-field rules of `backtest.chunk`. */
export function backtestChunkProblems(value: BacktestChunkPayload): string[] {
  const problems = oneSeries(value);
  value.params.forEach((p, i) => {
    if (p.fast >= p.slow)
      problems.push(`'params[${i}]' fast window (${p.fast}) must be < slow window (${p.slow})`);
  });
  return problems;
}

/** One evaluated parameter set, as children report it and results show it. */
export const parameterResultSchema = z.object({
  fast: z.int(),
  slow: z.int(),
  totalReturn: z.number(),
  sharpe: z.number(),
  maxDrawdown: z.number(),
  trades: z.int(),
});

export const chunkResultSchema = z.object({ results: z.array(parameterResultSchema) });
export type ChunkResult = z.output<typeof chunkResultSchema>;

/** The result of `backtest.sweep` and `backtest.full`. */
export const sweepSummarySchema = z.object({
  best: parameterResultSchema,
  top: z.array(parameterResultSchema),
  evaluated: z.int(),
  periodsPerYear: z.number(),
  series: z.record(z.string(), z.unknown()),
  buyAndHold: z.record(z.string(), z.number()),
  neverTraded: z.object({
    count: z.int(),
    pairs: z.array(z.object({ fast: z.int(), slow: z.int() })),
  }),
});
