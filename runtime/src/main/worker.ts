import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import {
  createQueueWorker,
  processTraced,
  settle,
  RetryLaterError,
} from '../adapters/bullmq/bullmq-worker.js';
import { FairShare } from '../adapters/bullmq/fair-share.js';
import { RedisFlowGate } from '../adapters/flow/redis-flow-gate.js';
import { startHealthServer } from '../adapters/http/health-server.js';
import { ATTEMPT_TRACE } from '../adapters/tracing/job-spans.js';
import { createJobProcessor, type JobProcessor } from '../application/process-job.use-case.js';
import { SYSTEM_CLOCK } from '../ports/clock.port.js';
import type { Catalog } from './catalog.js';
import type { Core } from './context.js';

export function createProcessor(core: Core): JobProcessor {
  return createJobProcessor({
    store: core.store,
    handlers: core.handlers,
    catalog: core.jobCatalog,
    retryPolicy: { baseDelayMs: core.config.RETRY_BASE_DELAY_MS, maxDelayMs: core.config.RETRY_MAX_DELAY_MS },
    random: Math.random,
    clock: SYSTEM_CLOCK,
    logger: core.logger,
    metrics: core.metrics,
    workerId: core.workerId,
    // Slots live as long as the BullMQ lock and are renewed as often: a killed worker loses both.
    flow: {
      gate: new RedisFlowGate(core.redis, core.config.QUEUE_PREFIX),
      leaseMs: core.config.LOCK_DURATION_MS,
    },
    trace: ATTEMPT_TRACE,
  });
}

/** Queues a worker consumes: WORKER_QUEUES, or every pooled queue of the catalog. */
export function workerQueues(catalog: Catalog, configured: readonly string[] | undefined): string[] {
  return configured
    ? [...configured]
    : catalog
        .queues()
        .filter((q) => q.mode === 'pooled')
        .map((q) => q.name);
}

export interface RunningWorker {
  readonly workers: Worker[];
  readonly health: Server;
  /** Drains: stop fetching, let in-flight attempts finish within DRAIN_TIMEOUT_SECONDS, then abort them. */
  drain(): Promise<void>;
}

/** `jobplane worker`: one BullMQ Worker per queue, sharing one processor (and cancel subscription). */
export async function runWorker(core: Core): Promise<RunningWorker> {
  const { config, logger } = core;
  const processor = createProcessor(core);
  let accepting = true;
  const unsubscribe = await core.cancelBus.subscribe((jobId) => {
    if (processor.cancel(jobId)) logger.info({ jobId }, 'cancel signal delivered to the running handler');
  });
  const fairShare = new FairShare(core.redis, config.QUEUE_PREFIX);
  const workers = workerQueues(core.catalog, config.WORKER_QUEUES).map((queue) =>
    createQueueWorker({
      ...(core.catalog.queue(queue)?.fairness === 'client' ? { fairShare } : {}),
      queue,
      url: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      concurrency: core.catalog.queue(queue)?.concurrency ?? config.WORKER_CONCURRENCY,
      lockDurationMs: config.LOCK_DURATION_MS,
      stalledIntervalMs: config.STALLED_INTERVAL_MS,
      maxStalledCount: config.MAX_STALLED_COUNT,
      processor,
      logger,
    }),
  );
  const health = await startHealthServer({
    host: config.HOST,
    port: config.METRICS_PORT,
    checks: core.health,
    metrics: core.metrics,
    isAccepting: () => accepting,
  });
  logger.info(
    { queues: workers.map((w) => w.name), concurrency: config.WORKER_CONCURRENCY },
    'worker started',
  );
  return {
    workers,
    health,
    async drain() {
      accepting = false;
      logger.info({ running: processor.running(), budgetSeconds: config.DRAIN_TIMEOUT_SECONDS }, 'draining');
      const closing = Promise.all(workers.map((w) => w.close()));
      const budget = setTimeout(() => {
        logger.warn({ running: processor.running() }, 'drain budget exhausted; aborting in-flight attempts');
        processor.abortAll();
      }, config.DRAIN_TIMEOUT_SECONDS * 1000);
      await closing;
      clearTimeout(budget);
      await unsubscribe();
      await new Promise<void>((resolve) => health.close(() => resolve()));
      logger.info({}, 'drained');
    },
  };
}

/** `jobplane run-one` exit codes (documented in docs/runtime.md). */
export const RUN_ONE_EXIT = {
  succeeded: 0,
  willRetry: 1,
  badConfig: 2,
  noJob: 3,
  deadLettered: 4,
} as const;

/**
 * `jobplane run-one`: takes exactly one message from RUN_ONE_QUEUE (BullMQ manual processing),
 * runs it through the same processor as the pooled worker, settles it, and returns the exit code.
 */
export async function runOne(core: Core): Promise<number> {
  const { config, logger } = core;
  const queue = config.RUN_ONE_QUEUE;
  if (!queue) return RUN_ONE_EXIT.badConfig;
  const processor = createProcessor(core);
  const unsubscribe = await core.cancelBus.subscribe((jobId) => processor.cancel(jobId));
  const worker = createQueueWorker({
    queue,
    url: config.REDIS_URL,
    prefix: config.QUEUE_PREFIX,
    concurrency: 1,
    lockDurationMs: config.LOCK_DURATION_MS,
    stalledIntervalMs: config.STALLED_INTERVAL_MS,
    maxStalledCount: config.MAX_STALLED_COUNT,
    processor,
    logger,
    autorun: false,
    drainDelaySeconds: Math.min(5, config.RUN_ONE_WAIT_SECONDS),
  });
  const token = randomUUID();
  const deadline = Date.now() + config.RUN_ONE_WAIT_SECONDS * 1000;
  try {
    let job = null;
    while (!job && Date.now() < deadline) {
      job = (await worker.getNextJob(token, { block: true })) ?? null;
    }
    if (!job) {
      logger.info({ queue, waitedSeconds: config.RUN_ONE_WAIT_SECONDS }, 'no job to run');
      return RUN_ONE_EXIT.noJob;
    }
    // Manual processing renews its own lock while the handler runs.
    const renew = setInterval(
      () => {
        void job.extendLock(token, config.LOCK_DURATION_MS).catch(() => undefined);
      },
      Math.max(1000, Math.floor(config.LOCK_DURATION_MS / 2)),
    );
    try {
      const outcome = await processTraced(processor, job, queue);
      try {
        const value = settle(outcome);
        await job.moveToCompleted(value, token, false);
        return RUN_ONE_EXIT.succeeded;
      } catch (err) {
        await job.moveToFailed(err as Error, token, false);
        if (err instanceof RetryLaterError) return RUN_ONE_EXIT.willRetry;
        if (err instanceof UnrecoverableError) return RUN_ONE_EXIT.deadLettered;
        throw err;
      }
    } finally {
      clearInterval(renew);
    }
  } finally {
    await unsubscribe();
    await worker.close();
  }
}
