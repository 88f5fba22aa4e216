import type { PayloadCheck } from './job-handler.port.js';

/** Delay between attempts of one job type (absent: the runtime's RETRY_* policy). */
export interface JobTypeBackoff {
  readonly type: 'exponential' | 'fixed';
  readonly delayMs: number;
  readonly maxDelayMs?: number;
}

export type { JobTypeFlow } from '../domain/flow.js';
import type { JobTypeFlow } from '../domain/flow.js';

/** What the runtime needs to know about a job type (built from the loaded catalog, see main/catalog.ts). */
export interface JobTypeInfo {
  readonly mode: 'pooled' | 'isolated' | 'container';
  readonly queue: string;
  readonly timeoutSeconds: number;
  readonly maxAttempts: number;
  readonly submittable: boolean;
  readonly backoff?: JobTypeBackoff;
  /** Container job types: largest payload (bytes of its JSON) a submission may carry. */
  readonly maxPayloadBytes?: number;
  /** Concurrency keys, queue cap, rate limit, fairness (pooled types only). */
  readonly flow?: JobTypeFlow;
  /** Validates and normalizes an untrusted payload (schema defaults applied); never loads handler code. */
  parsePayload(input: unknown): PayloadCheck<unknown>;
}

export type JobCatalog = (type: string) => JobTypeInfo | undefined;
