import { describe, expect, it } from 'vitest';
import { resultViewBuilderOf, type HeatmapPanel, type LinesPanel, type TablePanel } from '@jobplane/sdk';
import { backtestFull, backtestSweep } from '../../src/job-types.js';
import { evaluateParameterSet, resolveSeries, summarize } from '../../src/backtest/evaluate.js';
import { parameterSets } from '../../src/backtest/grid.js';
import backtestSweepView, { MAX_CURVE_POINTS } from '../../src/backtest/sweep.view.js';

const series = {
  kind: 'random-walk' as const,
  seed: 3,
  length: 200,
  start: 100,
  drift: 0.005,
  volatility: 0.04,
};
const grid = { fast: { from: 2, to: 8, step: 2 }, slow: { from: 10, to: 40, step: 10 } };

function sweepResult() {
  const prices = resolveSeries({ series }).prices;
  const results = parameterSets(grid).map((p) => evaluateParameterSet(prices, p, 12));
  return { results, summary: summarize(results, resolveSeries({ series }), 12, 3) };
}

describe('backtest result view', () => {
  it('is declared by backtest.sweep and backtest.full and loads lazily', async () => {
    expect(backtestSweep.view).toBeTypeOf('function');
    expect(backtestFull.view).toBeTypeOf('function');
    const builder = resultViewBuilderOf(await backtestSweep.view!());
    expect(builder).toBe(backtestSweepView);
  });

  it("draws the sweep's Sharpe heatmap from its children, the best pair's equity against buy-and-hold, and the top pairs", () => {
    const { results, summary } = sweepResult();
    const children = [results.slice(0, 7), results.slice(7)].map((r, index) => ({
      index,
      state: 'succeeded',
      result: { results: r },
    }));
    const view = backtestSweepView({
      type: 'backtest.sweep',
      payload: { series, grid, periodsPerYear: 12, top: 3, chunkSize: 7 },
      result: summary as unknown as Record<string, unknown>,
      children,
    });
    expect(view.title).toContain(`SMA(${summary.best.fast}) / SMA(${summary.best.slow})`);
    const heat = view.panels.find((p) => p.kind === 'heatmap') as HeatmapPanel;
    expect(heat.x).toEqual([2, 4, 6, 8]);
    expect(heat.y).toEqual([10, 20, 30, 40]);
    const bestCell = heat.values[heat.y.indexOf(summary.best.slow)]![heat.x.indexOf(summary.best.fast)];
    expect(bestCell).toBe(summary.best.sharpe);
    expect(Math.max(...heat.values.flat().filter((v): v is number => v !== null))).toBe(summary.best.sharpe);
    expect(heat.highlight).toEqual({ x: summary.best.fast, y: summary.best.slow });
    const lines = view.panels.find((p) => p.kind === 'lines') as LinesPanel;
    expect(lines.series.map((s) => s.name)).toEqual([
      `SMA ${summary.best.fast}/${summary.best.slow}`,
      'buy-and-hold',
    ]);
    for (const s of lines.series) {
      expect(s.points).toHaveLength(200);
      expect(s.points[0]).toEqual([0, 1]);
    }
    // buy-and-hold ends at the price ratio; the strategy at 1 + its total return
    const prices = resolveSeries({ series }).prices;
    expect(lines.series[1]!.points.at(-1)![1]).toBeCloseTo(prices[199]! / prices[0]!, 9);
    expect(lines.series[0]!.points.at(-1)![1]).toBeCloseTo(1 + summary.best.totalReturn, 9);
    const top = view.panels.find((p) => p.kind === 'table') as TablePanel;
    expect(top.rows.map((r) => [r.fast, r.slow])).toEqual(summary.top.map((r) => [r.fast, r.slow]));
  });

  it('recomputes the heatmap of a full backtest (no children) and samples long curves', () => {
    const long = { ...series, length: 5000 };
    const prices = resolveSeries({ series: long }).prices;
    const results = parameterSets(grid).map((p) => evaluateParameterSet(prices, p, 12));
    const summary = summarize(results, resolveSeries({ series: long }), 12, 3);
    const view = backtestSweepView({
      type: 'backtest.full',
      payload: { series: long, grid, periodsPerYear: 12, top: 3 },
      result: summary as unknown as Record<string, unknown>,
      children: [],
    });
    const heat = view.panels.find((p) => p.kind === 'heatmap') as HeatmapPanel;
    expect(heat.values.flat().filter((v) => v !== null)).toHaveLength(results.length);
    const lines = view.panels.find((p) => p.kind === 'lines') as LinesPanel;
    expect(lines.series[0]!.points.length).toBeLessThanOrEqual(MAX_CURVE_POINTS + 1);
    expect(lines.series[0]!.points.at(-1)![0]).toBe(4999);
  });
});
