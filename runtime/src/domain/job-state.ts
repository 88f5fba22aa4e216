/**
 * The job lifecycle. PostgreSQL is authoritative; every change is one of these transitions and is
 * appended to `job_events`.
 *
 * queued → running → succeeded | failed;  failed → queued (retry) | dead_lettered;
 * queued | running → cancelled;  failed | dead_lettered | cancelled → queued (RetryJob).
 */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'dead_lettered', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'dead_lettered', 'cancelled'];
/** States a worker may still act on. */
export const ACTIVE_STATES: readonly JobState[] = ['queued', 'running'];
/** States `RetryJob` re-queues from. */
export const RETRYABLE_BY_CLIENT: readonly JobState[] = ['failed', 'dead_lettered', 'cancelled'];

const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  failed: ['queued', 'dead_lettered'],
  succeeded: [],
  dead_lettered: ['queued'],
  cancelled: ['queued'],
};

export function isJobState(value: string): value is JobState {
  return (JOB_STATES as readonly string[]).includes(value);
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states a job may move to from `state`. */
export function nextStates(state: JobState): readonly JobState[] {
  return TRANSITIONS[state];
}

/** States from which `to` is reachable in one step (used to build conditional UPDATEs). */
export function statesLeadingTo(to: JobState): JobState[] {
  return JOB_STATES.filter((s) => canTransition(s, to));
}
