import type { JobHandler } from '../ports/job-handler.port.js';
import { UnrecoverableJobError } from '../ports/job-handler.port.js';
import { evaluateAll, resolveSeries, summarize } from './backtest/evaluate.js';
import type { SweepSummary } from './backtest/evaluate.js';
import { parameterSets } from './backtest/grid.js';
import { backtestFullProblems, backtestFullPayloadSchema, gridProblems } from './backtest/payload.js';
import type { BacktestFullPayload } from './backtest/payload.js';
import { checkPayload } from './payload.js';

/**
 * `backtest.full` (isolated mode): the whole grid in one process, no fan-out. Same pure functions
 * and the same result shape as `backtest.sweep`.
 */
export const backtestFullHandler: JobHandler<BacktestFullPayload, SweepSummary> = {
  type: 'backtest.full',
  parsePayload: (input) => checkPayload(backtestFullPayloadSchema, input, backtestFullProblems),
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
