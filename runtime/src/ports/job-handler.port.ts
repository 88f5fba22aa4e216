/**
 * The contract between the runtime and job-type code. Job types and their handlers are declared
 * with `@jobplane/sdk` (context, fan-out, errors come from there); the runtime sees a handler as a
 * payload validator plus `run` / `aggregate`, and owns retries, state, fencing and fan-out
 * bookkeeping. Handlers stay free of PostgreSQL, Redis and HTTP.
 */
import type { ChildOutcome, FanOut, JobContext, PayloadCheck } from '@jobplane/sdk';

export { fanOut, isFanOut, UnrecoverableJobError } from '@jobplane/sdk';
export type {
  ChildJob as ChildJobSpec,
  ChildOutcome,
  FanOut,
  JobContext as HandlerContext,
  JobLogger as HandlerLogger,
  PayloadCheck,
} from '@jobplane/sdk';

export interface JobHandler<P = unknown, R = unknown> {
  readonly type: string;
  /** Validates and normalizes an untrusted payload (applies defaults). */
  parsePayload(input: unknown): PayloadCheck<P>;
  /** Does the work; returns a JSON-serializable result or a fan-out request. */
  run(payload: P, ctx: JobContext): Promise<R | FanOut>;
  /** Fan-out parents only: combines finished children into the job's result. */
  aggregate?(payload: P, children: readonly ChildOutcome[], ctx: JobContext): Promise<R>;
}

/**
 * Looks handlers up by job type. `get` may load the handler's code on first use (a catalog's
 * `load()`); it rejects when that code cannot be loaded.
 */
export interface HandlerRegistry {
  get(type: string): JobHandler | undefined | Promise<JobHandler | undefined>;
  types(): readonly string[];
}
