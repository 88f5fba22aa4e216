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
  /** Every retry waits exactly `baseDelayMs` (a job type's `fixed` backoff), no jitter. */
  readonly fixed?: boolean;
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
  if (policy.fixed) return policy.baseDelayMs;
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

/** A job type's own backoff (`@jobplane/sdk` BackoffSpec) as a retry policy. */
export function policyForBackoff(backoff: {
  readonly type: 'exponential' | 'fixed';
  readonly delayMs: number;
  readonly maxDelayMs?: number;
}): RetryPolicy {
  return backoff.type === 'fixed'
    ? { baseDelayMs: backoff.delayMs, maxDelayMs: backoff.delayMs, fixed: true }
    : { baseDelayMs: backoff.delayMs, maxDelayMs: backoff.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs };
}

/**
 * How a job whose type the worker's catalog does not know (a rolling deploy: the API or a newer
 * worker knows it) is put back: after `baseDelayMs · 2^(n-1)` capped at `maxDelayMs` for the n-th
 * time, at most `maxDeferrals` times; then it is dead-lettered with WORKER.UNKNOWN_TYPE.
 */
export interface UnknownTypeBudget {
  readonly maxDeferrals: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** 1 s, 2 s, 4 s … capped at 60 s, 20 times: about 15 minutes for the deploy to finish. */
export const DEFAULT_UNKNOWN_TYPE_BUDGET: UnknownTypeBudget = {
  maxDeferrals: 20,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
};

/** Delay before the `deferral`-th (1-based) retry of an unknown-type job. */
export function unknownTypeDelayMs(deferral: number, budget: UnknownTypeBudget): number {
  return Math.min(budget.maxDelayMs, budget.baseDelayMs * 2 ** Math.min(Math.max(deferral - 1, 0), 30));
}
