import { UnrecoverableJobError, type JobHandlerObject } from '@jobplane/sdk';
import { evaluateAll, resolveSeries, summarize, type SweepSummary } from './evaluate.js';
import { parameterSets } from './grid.js';
import { gridProblems, type BacktestFullPayload } from './payload.js';

/**
 * `backtest.full` (isolated mode): the whole grid in one process, no fan-out. Same pure functions
 * and the same result shape as `backtest.sweep`.
 */
const backtestFullHandler: JobHandlerObject<BacktestFullPayload, SweepSummary> = {
  async run(payload, ctx) {
    const series = resolveSeries(payload);
    const problems = gridProblems(payload.grid, series.prices.length);
    if (problems.length > 0) throw new UnrecoverableJobError(problems.join('; '), 'BACKTEST.INVALID_GRID');
    const results = await evaluateAll(
      series.prices,
      parameterSets(payload.grid),
      payload.periodsPerYear,
      ctx,
    );
    return summarize(results, series, payload.periodsPerYear, payload.top);
  },
};

export default backtestFullHandler;
