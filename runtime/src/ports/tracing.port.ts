/**
 * What the use cases tell the tracing adapter (adapters/tracing). The worker runs each delivery
 * in an attempt span; only the use case knows the job's type and attempt number once it has read
 * the job, and names them here. `NOOP_TRACE` when nothing listens.
 */
export interface AttemptTrace {
  /** The current delivery is attempt `attempt` of a job of type `type`. */
  attemptStarted(type: string, attempt: number): void;
}

export const NOOP_TRACE: AttemptTrace = { attemptStarted: () => undefined };
