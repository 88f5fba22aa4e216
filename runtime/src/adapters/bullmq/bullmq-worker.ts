import { DelayedError, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import type { FairShare } from './fair-share.js';
import type { Delivery, JobProcessor, ProcessOutcome } from '../../application/process-job.use-case.js';
import type { Logger } from '../../ports/logger.port.js';
import type { MessageData } from './bullmq-job-queue.js';
import { inAttemptSpan } from '../tracing/job-spans.js';

/** Thrown to BullMQ when the retry policy chose a delay; the backoff strategy returns it. */
export class RetryLaterError extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(`retry in ${delayMs} ms: ${reason}`);
    this.name = 'RetryLaterError';
  }
}

/** Worker `settings.backoffStrategy`: the delay comes from the domain retry policy. */
export function backoffStrategy(_attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof RetryLaterError ? err.delayMs : 1000;
}

export interface WorkerOptions {
  readonly queue: string;
  readonly url: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly processor: JobProcessor;
  readonly logger: Logger;
  readonly autorun?: boolean;
  /** How long a blocking fetch waits for a job, in seconds (BullMQ `drainDelay`). */
  readonly drainDelaySeconds?: number;
  /** Set for a fair queue: every start moves the queue's virtual time to the job's tag. */
  readonly fairShare?: FairShare;
}

export function toDelivery(job: BullJob, queue: string): Delivery {
  const data = job.data as MessageData;
  // Every fetch counts as started; failed attempts as made: the rest were flow-control deferrals.
  const deferrals = Math.max(0, (job.attemptsStarted ?? 0) - (job.attemptsMade ?? 0) - 1);
  return {
    jobId: data.jobId,
    kind: data.kind,
    attempt: data.attempt,
    queue,
    requestId: data.requestId,
    ...(data.type !== undefined ? { type: data.type } : {}),
    ...(data.clientId !== undefined ? { clientId: data.clientId } : {}),
    ...(data.flowKey !== undefined ? { flowKey: data.flowKey } : {}),
    ...(data.flowLimit !== undefined ? { flowLimit: data.flowLimit } : {}),
    deferrals,
  };
}

/**
 * Runs one delivery. A flow-control refusal puts the message back into the delayed set with the
 * worker's token and throws DelayedError: BullMQ neither fails it nor counts an attempt.
 */
export async function processBullJob(
  job: BullJob,
  token: string | undefined,
  queue: string,
  processor: JobProcessor,
  fairShare?: FairShare,
): Promise<{ reason: string }> {
  if (fairShare) await fairShare.advance(queue, job.priority);
  const outcome = await processTraced(processor, job, queue);
  if (outcome.action === 'defer') {
    await job.moveToDelayed(Date.now() + outcome.delayMs, token);
    throw new DelayedError(outcome.reason);
  }
  return settle(outcome);
}

/**
 * Runs one delivery through the processor inside its `jobplane.attempt` span (child of the trace
 * context the message carries; docs/observability.md).
 */
export function processTraced(processor: JobProcessor, job: BullJob, queue: string): Promise<ProcessOutcome> {
  const data = job.data as MessageData;
  return inAttemptSpan(
    queue,
    data,
    job.attemptsMade + 1,
    (o: ProcessOutcome) => o,
    () => processor.process(toDelivery(job, queue)),
  );
}

/** Turns a use-case outcome into what BullMQ expects from a processor. */
export function settle(outcome: ProcessOutcome): { reason: string } {
  if (outcome.action === 'defer') throw new RetryLaterError(outcome.delayMs, outcome.reason);
  if (outcome.action === 'retry') throw new RetryLaterError(outcome.delayMs, outcome.reason);
  if (outcome.action === 'dead') throw new UnrecoverableError(outcome.reason);
  return { reason: outcome.reason };
}

/** A BullMQ Worker whose processor is the process-job use case. */
export function createQueueWorker(opts: WorkerOptions): Worker {
  const url = new URL(opts.url);
  const worker = new Worker(
    opts.queue,
    (job, token) => processBullJob(job, token, opts.queue, opts.processor, opts.fairShare),
    {
      connection: {
        host: url.hostname,
        port: Number(url.port || 6379),
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
        ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
        maxRetriesPerRequest: null,
      },
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      lockDuration: opts.lockDurationMs,
      stalledInterval: opts.stalledIntervalMs,
      maxStalledCount: opts.maxStalledCount,
      autorun: opts.autorun ?? true,
      ...(opts.drainDelaySeconds ? { drainDelay: opts.drainDelaySeconds } : {}),
      settings: { backoffStrategy },
    },
  );
  worker.on('error', (err) => opts.logger.error({ err, queue: opts.queue }, 'worker error'));
  worker.on('stalled', (jobId) =>
    opts.logger.warn({ bullJobId: jobId, queue: opts.queue }, 'job stalled; re-queued'),
  );
  return worker;
}
