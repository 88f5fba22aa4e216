import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { HandlerContext, JobHandler } from '../ports/job-handler.port.js';
import { checkPayload } from './payload.js';
import { uniformFrom } from './random.js';

/** Longest simulated work: 10 minutes (the catalog's timeout for `demo.sleep` is shorter anyway). */
export const DEMO_SLEEP_MAX_MS = 600_000;

export const demoSleepPayloadSchema = z.strictObject({
  /** How long the simulated work takes. */
  durationMs: z.int().min(0).max(DEMO_SLEEP_MAX_MS),
  /** Probability that an attempt fails (retryably) after doing its work. */
  failureRate: z.number().min(0).max(1).default(0),
  /** Makes the failure decision a pure function of (seed, attempt); random when absent. */
  seed: z.int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
});

export type DemoSleepPayload = z.output<typeof demoSleepPayloadSchema>;

export interface DemoSleepResult extends Record<string, unknown> {
  readonly sleptMs: number;
  readonly attempt: number;
}

/** Thrown when a `demo.sleep` attempt fails on purpose. Retryable: the runtime applies its retry policy. */
export class SimulatedFailureError extends Error {
  readonly code = 'DEMO.SIMULATED_FAILURE';
  constructor(attempt: number, failureRate: number) {
    super(`demo.sleep attempt ${attempt} failed on purpose (failureRate ${failureRate})`);
    this.name = 'SimulatedFailureError';
  }
}

/**
 * Whether attempt `attempt` of a job with this seed fails. Pure: tests use it to predict which jobs
 * dead-letter (a job dead-letters when every attempt 1..maxAttempts fails).
 * `failureRate` 0 never fails, 1 always fails.
 */
export function demoSleepFails(seed: number, attempt: number, failureRate: number): boolean {
  if (failureRate <= 0) return false;
  if (failureRate >= 1) return true;
  return uniformFrom(seed, attempt) < failureRate;
}

/** Whether a seeded job ends dead-lettered: all `maxAttempts` attempts fail. */
export function demoSleepDeadLetters(seed: number, maxAttempts: number, failureRate: number): boolean {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (!demoSleepFails(seed, attempt, failureRate)) return false;
  }
  return true;
}

/** At most this many progress reports per attempt (each one may cost a database write). */
const MAX_PROGRESS_STEPS = 20;
/** No step shorter than this, so short sleeps report little. */
const MIN_STEP_MS = 100;

async function run(payload: DemoSleepPayload, ctx: HandlerContext): Promise<DemoSleepResult> {
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
export const demoSleepHandler: JobHandler<DemoSleepPayload, DemoSleepResult> = {
  type: 'demo.sleep',
  parsePayload: (input) => checkPayload(demoSleepPayloadSchema, input),
  run,
};
