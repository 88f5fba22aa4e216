/**
 * Composes the pure pieces into one backtest per parameter set, and ranks results.
 * Used alike by `backtest.chunk` (a slice), `backtest.full` (the whole grid) and the sweep's
 * `aggregate`.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { UnrecoverableJobError, type JobContext } from '@jobplane/sdk';
import type { ParameterSet } from './grid.js';
import { ExactWindowSums } from './exact.js';
import { maxDrawdown, sharpeRatio, totalReturn } from './metrics.js';
import type { SeriesSpec } from './payload.js';
import { randomWalk } from './random-walk.js';
import { sp500Between } from './sp500.js';
import {
  countTrades,
  crossoverSignals,
  nextBarPositions,
  simpleReturns,
  strategyReturns,
} from './strategy.js';

export interface ParameterResult extends Record<string, unknown> {
  readonly fast: number;
  readonly slow: number;
  /** Compounded return over the whole series (0.5 = +50 %). */
  readonly totalReturn: number;
  /** Annualized Sharpe ratio (risk-free 0, × √periodsPerYear). */
  readonly sharpe: number;
  /** Largest peak-to-trough fall of equity, in [0, 1]. */
  readonly maxDrawdown: number;
  /** Round trips (flat → long entries). */
  readonly trades: number;
}

export interface ResolvedSeries {
  readonly prices: Float64Array;
  /** What the series is, for the result. */
  readonly description: Record<string, unknown>;
}

/** The price series a payload asks for. Throws UnrecoverableJobError when it cannot exist. */
export function resolveSeries(source: {
  prices?: number[] | undefined;
  series?: SeriesSpec | undefined;
}): ResolvedSeries {
  if (source.prices) {
    return {
      prices: Float64Array.from(source.prices),
      description: { kind: 'inline', length: source.prices.length },
    };
  }
  const series = source.series;
  if (series?.kind === 'random-walk') {
    return { prices: randomWalk(series), description: { ...series } };
  }
  if (series?.kind === 'sp500') {
    const rows = sp500Between(series.from, series.to);
    if (rows.length < 2) {
      throw new UnrecoverableJobError(
        `'series' sp500 from ${series.from ?? 'start'} to ${series.to ?? 'end'} has ${rows.length} months; at least 2 needed`,
        'BACKTEST.SERIES_TOO_SHORT',
      );
    }
    return {
      prices: Float64Array.from(rows, (r) => r.price),
      description: { kind: 'sp500', from: rows[0]?.month, to: rows.at(-1)?.month, length: rows.length },
    };
  }
  throw new UnrecoverableJobError("give exactly one of 'prices' and 'series'", 'BACKTEST.NO_SERIES');
}

/** Backtests one (fast, slow) pair over `prices`. `sums` may be shared across pairs. */
export function evaluateParameterSet(
  prices: Float64Array,
  params: ParameterSet,
  periodsPerYear: number,
  sums: ExactWindowSums = new ExactWindowSums(prices),
): ParameterResult {
  const positions = nextBarPositions(crossoverSignals(prices, params.fast, params.slow, sums));
  const returns = strategyReturns(prices, positions);
  return {
    fast: params.fast,
    slow: params.slow,
    totalReturn: totalReturn(returns),
    sharpe: sharpeRatio(returns, periodsPerYear),
    maxDrawdown: maxDrawdown(returns),
    trades: countTrades(positions),
  };
}

/** Buy-and-hold over the same series, for comparison. */
export function buyAndHold(prices: Float64Array, periodsPerYear: number): Record<string, number> {
  const returns = simpleReturns(prices);
  return {
    totalReturn: totalReturn(returns),
    sharpe: sharpeRatio(returns, periodsPerYear),
    maxDrawdown: maxDrawdown(returns),
  };
}

/** Let timers and the abort signal run at least this often during CPU-bound loops. */
const YIELD_EVERY_MS = 50;

/**
 * Evaluates parameter sets in order, reporting progress (at most once per whole percent) and
 * stopping promptly when the signal aborts.
 */
export async function evaluateAll(
  prices: Float64Array,
  params: readonly ParameterSet[],
  periodsPerYear: number,
  ctx: Pick<JobContext, 'signal' | 'progress'>,
): Promise<ParameterResult[]> {
  const sums = new ExactWindowSums(prices);
  const results: ParameterResult[] = [];
  let lastYield = performance.now();
  let lastPercent = -1;
  for (const [i, p] of params.entries()) {
    ctx.signal.throwIfAborted();
    results.push(evaluateParameterSet(prices, p, periodsPerYear, sums));
    const percent = Math.floor((100 * (i + 1)) / params.length);
    if (percent !== lastPercent) {
      lastPercent = percent;
      await ctx.progress(percent, `evaluated ${i + 1} of ${params.length} parameter sets`);
    }
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  ctx.signal.throwIfAborted();
  return results;
}

/** Best first: higher Sharpe, then higher total return, then shorter windows (deterministic). */
export function compareResults(a: ParameterResult, b: ParameterResult): number {
  return b.sharpe - a.sharpe || b.totalReturn - a.totalReturn || a.fast - b.fast || a.slow - b.slow;
}

export interface SweepSummary extends Record<string, unknown> {
  readonly best: ParameterResult;
  readonly top: ParameterResult[];
  readonly evaluated: number;
  readonly periodsPerYear: number;
  readonly series: Record<string, unknown>;
  readonly buyAndHold: Record<string, number>;
  /**
   * Pairs whose fast average never rose above the slow one: no trade at all, so their zero return
   * and zero Sharpe ratio say nothing about the strategy. `pairs` lists the first 20.
   */
  readonly neverTraded: { readonly count: number; readonly pairs: { fast: number; slow: number }[] };
}

/** Most never-trading pairs listed by name in a summary (all are counted). */
export const NEVER_TRADED_LISTED = 20;

/** Picks the best parameters by Sharpe ratio and the top-N table, and flags pairs that never trade. */
export function summarize(
  results: readonly ParameterResult[],
  series: ResolvedSeries,
  periodsPerYear: number,
  top: number,
): SweepSummary {
  const ranked = [...results].sort(compareResults);
  const idle = results.filter((r) => r.trades === 0);
  const best = ranked[0];
  if (!best) throw new UnrecoverableJobError('no parameter set was evaluated', 'BACKTEST.EMPTY');
  return {
    best,
    top: ranked.slice(0, top),
    evaluated: results.length,
    periodsPerYear,
    series: series.description,
    buyAndHold: buyAndHold(series.prices, periodsPerYear),
    neverTraded: {
      count: idle.length,
      pairs: idle.slice(0, NEVER_TRADED_LISTED).map((r) => ({ fast: r.fast, slow: r.slow })),
    },
  };
}
