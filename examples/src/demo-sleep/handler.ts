import { setTimeout as sleep } from 'node:timers/promises';
import type { JobContext, JobHandlerObject } from '@jobplane/sdk';
import { demoSleepFails, type DemoSleepPayload, type DemoSleepResult } from './payload.js';

/** Thrown when a `demo.sleep` attempt fails on purpose. Retryable: the runtime applies its retry policy. */
export class SimulatedFailureError extends Error {
  readonly code = 'DEMO.SIMULATED_FAILURE';
  constructor(attempt: number, failureRate: number) {
    super(`demo.sleep attempt ${attempt} failed on purpose (failureRate ${failureRate})`);
    this.name = 'SimulatedFailureError';
  }
}

/** At most this many progress reports per attempt (each one may cost a database write). */
const MAX_PROGRESS_STEPS = 20;
/** No step shorter than this, so short sleeps report little. */
const MIN_STEP_MS = 100;

async function run(payload: DemoSleepPayload, ctx: JobContext): Promise<DemoSleepResult> {
  ctx.signal.throwIfAborted();
  const { durationMs, failureRate, seed } = payload;
  const steps = Math.min(MAX_PROGRESS_STEPS, Math.ceil(durationMs / MIN_STEP_MS));
  let slept = 0;
  for (let step = 1; step <= steps; step++) {
    const until = Math.round((durationMs * step) / steps);
    // The timer rejects with an AbortError as soon as the signal fires: cancellation is prompt
    // however long the step.
    await sleep(until - slept, undefined, { signal: ctx.signal });
    slept = until;
    await ctx.progress((100 * step) / steps, `slept ${slept} of ${durationMs} ms`);
  }
  const fails =
    seed === undefined ? Math.random() < failureRate : demoSleepFails(seed, ctx.attempt, failureRate);
  if (fails) throw new SimulatedFailureError(ctx.attempt, failureRate);
  return { sleptMs: durationMs, attempt: ctx.attempt };
}

/** `demo.sleep`: simulated work that takes `durationMs` and fails with probability `failureRate`. */
const demoSleepHandler: JobHandlerObject<DemoSleepPayload, DemoSleepResult> = { run };

export default demoSleepHandler;
