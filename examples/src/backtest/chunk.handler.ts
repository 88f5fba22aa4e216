import type { JobHandlerObject } from '@jobplane/sdk';
import { evaluateAll, resolveSeries } from './evaluate.js';
import type { BacktestChunkPayload, ChunkResult } from './payload.js';

/** `backtest.chunk`: one slice of a sweep's grid, created by `backtest.sweep` (not submittable). */
const backtestChunkHandler: JobHandlerObject<BacktestChunkPayload, ChunkResult> = {
  async run(payload, ctx) {
    const series = resolveSeries(payload);
    return { results: await evaluateAll(series.prices, payload.params, payload.periodsPerYear, ctx) };
  },
};

export default backtestChunkHandler;
