import { hostname } from 'node:os';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import { BullMqJobQueue } from '../adapters/bullmq/bullmq-job-queue.js';
import { createRedis, RedisCancelBus, redisHealthCheck } from '../adapters/bullmq/redis.js';
import { createLogger } from '../adapters/logging/pino-logger.js';
import { postgresHealthCheck } from '../adapters/postgres/health.js';
import { createPgPool } from '../adapters/postgres/pg-pool.js';
import { PostgresJobStore } from '../adapters/postgres/postgres-job-store.js';
import { DEFAULT_GROUP_COMMIT } from '../adapters/postgres/group-commit.js';
import type { JobplaneCommand, JobplaneConfig } from '../config/schema.js';
import type { HealthCheck } from '../ports/health.port.js';
import type { JobCatalog } from '../ports/job-catalog.port.js';
import type { HandlerRegistry } from '../ports/job-handler.port.js';
import { NOOP_METRICS, type Metrics } from '../ports/metrics.port.js';
import { jobCatalogOf, lazyHandlerRegistry, type Catalog } from './catalog.js';

/** Adapters shared by the api, worker, relay and run-one processes. */
export interface Core {
  readonly config: JobplaneConfig;
  readonly logger: PinoLogger;
  readonly pool: pg.Pool;
  readonly store: PostgresJobStore;
  readonly redis: Redis;
  readonly queue: BullMqJobQueue;
  readonly cancelBus: RedisCancelBus;
  /** The job-type catalog this process runs (`--catalog` / JOBPLANE_CATALOG). */
  readonly catalog: Catalog;
  /** The catalog as the use cases see it (payload validation, no handler code). */
  readonly jobCatalog: JobCatalog;
  /** Handlers, imported from the catalog on first use. */
  readonly handlers: HandlerRegistry;
  readonly metrics: Metrics;
  readonly health: HealthCheck[];
  readonly workerId: string;
  close(): Promise<void>;
}

export interface CoreOverrides {
  readonly catalog: Catalog;
  readonly metrics?: Metrics;
  readonly handlers?: HandlerRegistry;
  readonly logger?: PinoLogger;
}

export function buildCore(config: JobplaneConfig, command: JobplaneCommand, overrides: CoreOverrides): Core {
  const logger = overrides.logger ?? createLogger(config.LOG_LEVEL, { command });
  const pgOpts = {
    connectionString: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    max: config.DATABASE_POOL_MAX,
    applicationName: `jobplane-${command}`,
  };
  // The API answers requests: every PostgreSQL and Redis call it makes is bounded in time, so a
  // dependency that stops answering gives 503s (or a fail-open rate limiter), never a hang.
  const requestPath = command === 'api';
  const pool = createPgPool({
    ...pgOpts,
    ...(requestPath
      ? {
          statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
          connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
        }
      : {}),
  });
  pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL client error'));
  const redis = createRedis(config.REDIS_URL, `jobplane-${command}`, {
    failFast: requestPath,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    onError: (err) => logger.warn({ err }, 'Redis connection error'),
  });
  const queue = new BullMqJobQueue({
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    retentionCount: config.QUEUE_RETENTION_COUNT,
    fairQueues: new Set(
      overrides.catalog
        .queues()
        .filter((q) => q.fairness === 'client')
        .map((q) => q.name),
    ),
  });
  return {
    config,
    logger,
    pool,
    // The API publishes its submissions itself (EAGER_PUBLISH): their inserts need not wake the relays.
    store: new PostgresJobStore(pool, DEFAULT_GROUP_COMMIT, {
      eagerPublish: command === 'api' && config.EAGER_PUBLISH,
    }),
    redis,
    queue,
    cancelBus: new RedisCancelBus(redis, config.REDIS_URL, config.QUEUE_PREFIX),
    catalog: overrides.catalog,
    jobCatalog: jobCatalogOf(overrides.catalog),
    handlers: overrides.handlers ?? lazyHandlerRegistry(overrides.catalog),
    metrics: overrides.metrics ?? NOOP_METRICS,
    health: [
      postgresHealthCheck(pool, config.READINESS_TIMEOUT_MS),
      redisHealthCheck(redis, config.READINESS_TIMEOUT_MS),
    ],
    workerId: `${hostname()}:${process.pid}`,
    async close() {
      await queue.close().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

/** Resolves on the first SIGTERM or SIGINT. */
export function onShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      resolve(sig);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
