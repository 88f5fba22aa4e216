/**
 * The console's result view of `backtest.sweep` and `backtest.full`: a heatmap of the Sharpe ratio
 * over (fast, slow), the best pair's equity curve against buy-and-hold, and the top pairs. Imported
 * by the API on first use (`view` in job-types.ts), never by workers.
 */
import type { ResultView, ResultViewInput } from '@jobplane/sdk';
import { evaluateParameterSet, resolveSeries, type ParameterResult } from './evaluate.js';
import { ExactWindowSums } from './exact.js';
import { parameterSets } from './grid.js';
import { equityCurve } from './metrics.js';
import { backtestFullPayloadSchema, chunkResultSchema, sweepSummarySchema } from './payload.js';
import { sp500Between } from './sp500.js';
import { crossoverSignals, nextBarPositions, simpleReturns, strategyReturns } from './strategy.js';

/** Longest curve sent to the browser; longer series are sampled evenly (last point kept). */
export const MAX_CURVE_POINTS = 600;
/** A full backtest has no children to read: its heatmap is recomputed up to this many pairs. */
export const MAX_RECOMPUTED_PAIRS = 5_000;

function sample(values: Float64Array, xs: readonly number[]): [number, number][] {
  const n = values.length;
  const step = Math.max(1, Math.ceil(n / MAX_CURVE_POINTS));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += step) out.push([xs[i] ?? i, values[i] as number]);
  if ((n - 1) % step !== 0 && n > 0) out.push([xs[n - 1] ?? n - 1, values[n - 1] as number]);
  return out;
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

/** Every evaluated pair: from the children of a sweep, or recomputed for a full backtest. */
function allPairs(input: ResultViewInput, prices: Float64Array, periodsPerYear: number): ParameterResult[] {
  if (input.children.length > 0) {
    const out: ParameterResult[] = [];
    for (const child of input.children) {
      const parsed = chunkResultSchema.safeParse(child.result);
      if (parsed.success) out.push(...parsed.data.results);
    }
    return out;
  }
  const grid = backtestFullPayloadSchema.shape.grid.parse(input.payload.grid);
  const sets = parameterSets(grid);
  if (sets.length > MAX_RECOMPUTED_PAIRS) return [];
  const sums = new ExactWindowSums(prices);
  return sets.map((p) => evaluateParameterSet(prices, p, periodsPerYear, sums));
}

export default function backtestSweepView(input: ResultViewInput): ResultView {
  const summary = sweepSummarySchema.parse(input.result);
  const source = input.payload as {
    prices?: number[];
    series?: Parameters<typeof resolveSeries>[0]['series'];
  };
  const series = resolveSeries(source);
  const prices = series.prices;
  const pairs = allPairs(input, prices, summary.periodsPerYear);

  const fasts = [...new Set(pairs.map((p) => p.fast))].sort((a, b) => a - b);
  const slows = [...new Set(pairs.map((p) => p.slow))].sort((a, b) => a - b);
  const cell = new Map(pairs.map((p) => [`${p.fast}/${p.slow}`, p.sharpe]));
  const values = slows.map((slow) => fasts.map((fast) => cell.get(`${fast}/${slow}`) ?? null));

  // x axis of the curves: epoch ms of each month for the S&P 500, the bar index otherwise.
  const months =
    source.series?.kind === 'sp500' ? sp500Between(source.series.from, source.series.to) : undefined;
  const xs = months ? months.map((m) => Date.parse(`${m.month}-01T00:00:00Z`)) : [...prices.keys()];
  const { fast, slow } = summary.best;
  const strategy = equityCurve(
    strategyReturns(prices, nextBarPositions(crossoverSignals(prices, fast, slow))),
  );
  const hold = equityCurve(simpleReturns(prices));

  return {
    title: `Moving-average crossover: best SMA(${fast}) / SMA(${slow})`,
    panels: [
      {
        kind: 'stats',
        title: 'Summary',
        items: [
          { label: 'pairs evaluated', value: summary.evaluated },
          { label: 'best pair (fast / slow)', value: `${fast} / ${slow}` },
          { label: 'best Sharpe', value: round(summary.best.sharpe, 3) },
          { label: 'best total return', value: `${round(summary.best.totalReturn * 100, 1)} %` },
          { label: 'buy-and-hold Sharpe', value: round(summary.buyAndHold.sharpe ?? 0, 3) },
          {
            label: 'buy-and-hold total return',
            value: `${round((summary.buyAndHold.totalReturn ?? 0) * 100, 1)} %`,
          },
        ],
      },
      {
        kind: 'heatmap',
        title: 'Sharpe ratio by window pair',
        xLabel: 'fast window',
        yLabel: 'slow window',
        x: fasts,
        y: slows,
        values,
        valueLabel: 'Sharpe',
        highlight: { x: fast, y: slow },
      },
      {
        kind: 'lines',
        title: `Equity: SMA(${fast}) / SMA(${slow}) vs buy-and-hold (growth of 1)`,
        xLabel: months ? 'month' : 'bar',
        yLabel: 'equity',
        xKind: months ? 'time' : 'number',
        series: [
          { name: `SMA ${fast}/${slow}`, points: sample(strategy, xs) },
          { name: 'buy-and-hold', points: sample(hold, xs) },
        ],
      },
      {
        kind: 'table',
        title: `Top ${summary.top.length} pairs by Sharpe`,
        columns: [
          { key: 'rank', label: 'rank' },
          { key: 'fast', label: 'fast' },
          { key: 'slow', label: 'slow' },
          { key: 'sharpe', label: 'Sharpe' },
          { key: 'totalReturn', label: 'total return' },
          { key: 'maxDrawdown', label: 'max drawdown' },
          { key: 'trades', label: 'trades' },
        ],
        rows: summary.top.map((r, i) => ({
          rank: i + 1,
          fast: r.fast,
          slow: r.slow,
          sharpe: round(r.sharpe, 3),
          totalReturn: `${round(r.totalReturn * 100, 1)} %`,
          maxDrawdown: `${round(r.maxDrawdown * 100, 1)} %`,
          trades: r.trades,
        })),
      },
    ],
  };
}
