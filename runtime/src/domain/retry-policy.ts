/**
 * Retry policy: exponential backoff with full jitter
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 * Deterministic given the random source, so tests inject one.
 */
export interface RetryPolicy {
  /** Delay cap of the first retry, in ms. */
  readonly baseDelayMs: number;
  /** Upper bound on any delay, in ms. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000 };

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based):
 * uniform in [0, min(max, base · 2^(attempt-1))].
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: RandomSource): number {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new RangeError(`'attempt' (${attempt}) must be an integer ≥ 1`);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const r = random();
  const clamped = r < 0 ? 0 : r >= 1 ? 1 - Number.EPSILON : r;
  return Math.floor(clamped * (cap + 1));
}

export type FailureDecision =
  { readonly action: 'retry'; readonly delayMs: number } | { readonly action: 'dead_letter' };

/** After attempt `attempt` of `maxAttempts` failed: retry after a backoff, or dead-letter. */
export function decideAfterFailure(
  attempt: number,
  maxAttempts: number,
  retryable: boolean,
  policy: RetryPolicy,
  random: RandomSource,
): FailureDecision {
  if (!retryable || attempt >= maxAttempts) return { action: 'dead_letter' };
  return { action: 'retry', delayMs: backoffDelayMs(attempt, policy, random) };
}
