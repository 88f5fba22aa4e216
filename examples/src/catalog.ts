/**
 * `@jobplane/examples`: the example catalog (`demo.sleep`, `backtest.*`, the container job `text.stats`), built on the public
 * `@jobplane/sdk` only. `make dev-local`, `make demo`, the default image and the repository's own
 * `charts-out/` use it: `jobplane worker --catalog @jobplane/examples`.
 */
import { defineCatalog } from '@jobplane/sdk';
import { backtestChunk, backtestFull, backtestSweep, demoSleep, textStats } from './job-types.js';

export { backtestChunk, backtestFull, backtestSweep, demoSleep, textStats } from './job-types.js';
export { demoSleepDeadLetters, demoSleepFails } from './demo-sleep/payload.js';
export type { DemoSleepPayload, DemoSleepResult } from './demo-sleep/payload.js';
export type { ParameterResult, SweepSummary } from './backtest/evaluate.js';
export type { BacktestChunkPayload, BacktestFullPayload, BacktestSweepPayload } from './backtest/payload.js';

export const catalog = defineCatalog({
  name: 'examples',
  jobTypes: [demoSleep, backtestSweep, backtestChunk, backtestFull, textStats],
});

export default catalog;
