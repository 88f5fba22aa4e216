/**
 * Fencing rules. Each attempt start writes a fresh token; every later write of that attempt must
 * present it. These pure functions state the rules the PostgreSQL store implements in SQL
 * (`WHERE id = $1 AND attempt_token = $2`) so they can be unit-tested.
 */
import type { JobState } from './job-state.js';

export interface FenceView {
  readonly state: JobState;
  readonly attemptToken: string | null;
  readonly attempts: number;
  readonly maxAttempts: number;
}

export type StartDecision =
  | { readonly action: 'start' }
  /** A previous attempt of a running job lost its lock (worker died): fence it out and start anew. */
  | { readonly action: 'take_over' }
  /** The job is running but every attempt has been used (it keeps crashing its worker). */
  | { readonly action: 'dead_letter' }
  | { readonly action: 'skip'; readonly reason: string };

/** Whether a delivery from the queue may start a new attempt. */
export function decideStart(view: FenceView | null): StartDecision {
  if (!view) return { action: 'skip', reason: 'missing' };
  if (view.state === 'queued') return { action: 'start' };
  if (view.state === 'running') {
    return view.attempts >= view.maxAttempts ? { action: 'dead_letter' } : { action: 'take_over' };
  }
  return { action: 'skip', reason: view.state };
}

/** Whether a write presented with `token` may change the job. */
export function mayWrite(view: FenceView | null, token: string): boolean {
  return view !== null && view.state === 'running' && view.attemptToken === token;
}
