import { z } from 'zod';
import { uniformFrom } from '../random.js';

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

export const demoSleepResultSchema = z.object({ sleptMs: z.int(), attempt: z.int() });
export type DemoSleepResult = z.output<typeof demoSleepResultSchema>;

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
