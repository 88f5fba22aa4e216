/**
 * Job-type handlers: one payload schema plus one async function per job type in `JOB_TYPES`.
 * Handlers are pure of PostgreSQL, Redis and HTTP; the runtime owns retries, state and fan-out.
 */
import { JOB_TYPES } from '../config/job-types.js';
import type { JobType } from '../config/job-types.js';
import type { HandlerRegistry, JobHandler } from '../ports/job-handler.port.js';
import { backtestChunkHandler } from './backtest-chunk.handler.js';
import { backtestFullHandler } from './backtest-full.handler.js';
import { backtestSweepHandler } from './backtest-sweep.handler.js';
import { demoSleepHandler } from './demo-sleep.handler.js';

export { demoSleepDeadLetters, demoSleepFails, SimulatedFailureError } from './demo-sleep.handler.js';
export type { DemoSleepPayload, DemoSleepResult } from './demo-sleep.handler.js';
export { sweepChildren } from './backtest-sweep.handler.js';
export type { ParameterResult, SweepSummary } from './backtest/evaluate.js';
export type { BacktestChunkPayload, BacktestFullPayload, BacktestSweepPayload } from './backtest/payload.js';

/** Every job type's handler: a total map, so adding a job type without a handler fails to compile. */
const HANDLERS: Record<JobType, JobHandler> = {
  'demo.sleep': demoSleepHandler as JobHandler,
  'backtest.sweep': backtestSweepHandler as JobHandler,
  'backtest.chunk': backtestChunkHandler as JobHandler,
  'backtest.full': backtestFullHandler as JobHandler,
};

/** The registry the worker and `run-one` use; `types()` lists the job types it can run. */
export function createHandlerRegistry(): HandlerRegistry {
  const byType = new Map<string, JobHandler>();
  for (const type of JOB_TYPES) {
    const handler = HANDLERS[type];
    if (handler.type !== type) throw new Error(`handler for '${type}' declares type '${handler.type}'`);
    byType.set(type, handler);
  }
  return {
    get: (type) => byType.get(type),
    types: () => [...byType.keys()],
  };
}
