import { fanOut, UnrecoverableJobError, type JobHandlerObject } from '@jobplane/sdk';
import { resolveSeries, summarize } from './evaluate.js';
import type { ParameterResult, SweepSummary } from './evaluate.js';
import { chunk, parameterSets } from './grid.js';
import { chunkResultSchema, gridProblems } from './payload.js';
import type { BacktestChunkPayload, BacktestSweepPayload } from './payload.js';

/** The child payloads of a sweep: the series reference plus one slice of the grid each. */
export function sweepChildren(payload: BacktestSweepPayload): BacktestChunkPayload[] {
  const source = payload.prices ? { prices: payload.prices } : { series: payload.series };
  return chunk(parameterSets(payload.grid), payload.chunkSize).map((params) => ({
    ...source,
    periodsPerYear: payload.periodsPerYear,
    params,
  }));
}

/**
 * `backtest.sweep`: a moving-average-crossover parameter sweep fanned out into `backtest.chunk`
 * children (`chunkSize` parameter sets each); `aggregate` picks the best Sharpe ratio.
 * Any child that did not succeed fails the sweep: a partial ranking could silently miss the best.
 */
const backtestSweepHandler: JobHandlerObject<BacktestSweepPayload, SweepSummary> = {
  async run(payload, ctx) {
    // Resolve now so a bad series (e.g. too few S&P 500 months) fails the parent, not 400 children.
    const series = resolveSeries(payload);
    const problems = gridProblems(payload.grid, series.prices.length);
    if (problems.length > 0) throw new UnrecoverableJobError(problems.join('; '), 'BACKTEST.INVALID_GRID');
    const children = sweepChildren(payload);
    ctx.logger.info({ children: children.length, bars: series.prices.length }, 'fanning out backtest sweep');
    return fanOut(children.map((child) => ({ type: 'backtest.chunk', payload: { ...child } })));
  },
  async aggregate(payload, children) {
    const failed = children.filter((c) => c.state !== 'succeeded');
    if (failed.length > 0) {
      const sample = failed
        .slice(0, 3)
        .map((c) => `#${c.index} ${c.state}${c.error ? ` (${c.error.code}: ${c.error.message})` : ''}`);
      throw new UnrecoverableJobError(
        `${failed.length} of ${children.length} backtest chunks did not succeed: ${sample.join('; ')}`,
        'BACKTEST.CHUNKS_FAILED',
      );
    }
    const results: ParameterResult[] = [];
    for (const child of [...children].sort((a, b) => a.index - b.index)) {
      const parsed = chunkResultSchema.safeParse(child.result);
      if (!parsed.success) {
        throw new UnrecoverableJobError(
          `backtest chunk #${child.index} (${child.jobId}) returned a malformed result`,
          'BACKTEST.BAD_CHUNK_RESULT',
        );
      }
      results.push(...parsed.data.results);
    }
    return summarize(results, resolveSeries(payload), payload.periodsPerYear, payload.top);
  },
};

export default backtestSweepHandler;
