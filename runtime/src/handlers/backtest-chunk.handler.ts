import type { JobHandler } from '../ports/job-handler.port.js';
import { evaluateAll, resolveSeries } from './backtest/evaluate.js';
import type { ParameterResult } from './backtest/evaluate.js';
import { backtestChunkProblems, backtestChunkPayloadSchema } from './backtest/payload.js';
import type { BacktestChunkPayload } from './backtest/payload.js';
import { checkPayload } from './payload.js';

export interface BacktestChunkResult extends Record<string, unknown> {
  readonly results: ParameterResult[];
}

/** `backtest.chunk`: one slice of a sweep's grid, created by `backtest.sweep` (not submittable). */
export const backtestChunkHandler: JobHandler<BacktestChunkPayload, BacktestChunkResult> = {
  type: 'backtest.chunk',
  parsePayload: (input) => checkPayload(backtestChunkPayloadSchema, input, backtestChunkProblems),
  async run(payload, ctx) {
    const series = resolveSeries(payload);
    return { results: await evaluateAll(series.prices, payload.params, payload.periodsPerYear, ctx) };
  },
};
