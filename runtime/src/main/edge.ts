import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { AppDeps } from '../adapters/http/app.js';
import { connectPlugin } from '../adapters/http/edge/connect.plugin.js';
import { limitsPlugin, type PressureLimits } from '../adapters/http/edge/limits.plugin.js';
import { createRedis } from '../adapters/bullmq/redis.js';
import { createAuthenticator } from '../adapters/http/auth.js';
import { FailureCounter } from '../adapters/http/failure-counter.js';
import { metricsPlugin } from '../adapters/http/edge/metrics.plugin.js';
import { ssePlugin } from '../adapters/http/edge/sse.plugin.js';
import { StreamSlots } from '../adapters/http/edge/job-stream.js';
import { openApiPlugin } from '../adapters/http/edge/openapi.plugin.js';
import { submitRequestDoc } from '../adapters/http/edge/catalog-openapi.js';
import { webhookPlugin } from '../adapters/http/edge/webhooks.plugin.js';
import { BullmqQueueStats, postgresOldestWaiting } from '../adapters/metrics/bullmq-queue-stats.js';
import { PromMetrics } from '../adapters/metrics/prom-metrics.js';
import type { JobplaneCommand } from '../config/schema.js';
import { SYSTEM_CLOCK } from '../ports/clock.port.js';
import type { Core } from './context.js';
import { workerQueues } from './worker.js';
import { consolePlugin } from './console.js';

/**
 * Composition of the runtime's edge features (metrics, webhooks, OpenAPI, Connect, SSE, queue
 * dashboard, limits) on top of the core. `cli.ts` calls `withEdgeMetrics`; `api.ts` passes
 * `edgeApiPlugins` to `buildApp`.
 */

type Plugin = FastifyPluginAsync<{ deps: AppDeps }>;

/** Version shown in the OpenAPI document: the contract's package, jobprocessing.v1. */
export const API_VERSION = 'v1';

/** fastify-plugin: the plugin's hooks and decorators apply to the parent (the whole app). */
const global = (plugin: Plugin): Plugin => fp(plugin);

/** Replaces the core's no-op metrics with prom-client, reading queue depth at scrape time. */
export function withEdgeMetrics(core: Core, command: JobplaneCommand): Core {
  const allQueues = core.catalog.queues().map((q) => q.name);
  const queues = command === 'worker' ? workerQueues(core.catalog, core.config.WORKER_QUEUES) : allQueues;
  const metrics = new PromMetrics({
    defaultLabels: { process: command },
    logger: core.logger,
    // run-one is a short-lived Kubernetes Job: nothing scrapes its queue gauges.
    ...(command === 'run-one'
      ? {}
      : {
          queueStats: new BullmqQueueStats(
            queues.map((q) => core.queue.queue(q)),
            SYSTEM_CLOCK,
            postgresOldestWaiting(core.pool),
          ),
        }),
    // The outbox depth is a count(*): read when scraped, never per relay pass.
    ...(command === 'api' || command === 'relay' ? { outboxCount: () => core.store.countOutbox() } : {}),
  });
  return { ...core, metrics };
}

export interface EdgeOverrides {
  /** Overload thresholds (tests lower them). */
  readonly pressure?: PressureLimits;
  /** Failed authentications allowed per address and window (tests lower them). */
  readonly authFailures?: { readonly limit: number; readonly windowMs: number };
}

/** Failed authentications per source address and minute before it gets 429 (docs/api.md, Limits). */
export const AUTH_FAILURES_PER_MINUTE = 20;

/** Logs a connection's errors at most once per `everyMs` (a down Redis errors on every retry). */
function logErrorsThrottled(core: Core, what: string, everyMs = 10_000): (err: Error) => void {
  let last = 0;
  let dropped = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) {
      dropped++;
      return;
    }
    core.logger.warn({ err, repeated: dropped }, `${what}: connection error`);
    last = now;
    dropped = 0;
  };
}

/** Fastify plugins of the API process: `prePlugins` see every route, `plugins` come after the core routes. */
export function edgeApiPlugins(
  core: Core,
  overrides: EdgeOverrides = {},
): Required<Pick<AppDeps, 'prePlugins' | 'plugins' | 'authFailures'>> {
  const sources = core.config.JOBPLANE_WEBHOOKS ?? {};
  const webhooks: Plugin = async (app, { deps }) => {
    await app.register(
      webhookPlugin({
        sources,
        submitJob: deps.submitJob,
        clock: SYSTEM_CLOCK,
        perMinute: core.config.RATE_LIMIT_PER_MINUTE,
      }),
    );
  };
  const metrics: Plugin = async (app, { deps }) => {
    await app.register(metricsPlugin(deps.metrics));
  };
  const adminKey = core.config.JOBPLANE_ADMIN_KEY;
  const admin: Plugin[] = adminKey
    ? [
        async (app) => {
          // Loaded only when enabled: Bull Board is the heaviest edge dependency to import.
          const { adminPlugin } = await import('../adapters/http/edge/admin.plugin.js');
          await app.register(
            adminPlugin({ queues: core.catalog.queues().map((q) => core.queue.queue(q.name)) }),
          );
        },
      ]
    : [];
  // Pre-plugins are wrapped with fastify-plugin so their hooks apply to the whole app.
  const openapi = global(async (app) => {
    await app.register(
      openApiPlugin({ version: API_VERSION, submitRequest: submitRequestDoc(core.catalog) }),
    );
  });
  // Its own fail-fast connection: a Redis outage must not hang requests (the limiter fails open,
  // the failed-authentication counter counts in process).
  const redis = createRedis(core.config.REDIS_URL, 'jobplane-ratelimit', {
    failFast: true,
    commandTimeoutMs: core.config.REDIS_COMMAND_TIMEOUT_MS,
  });
  redis.on('error', logErrorsThrottled(core, 'rate-limit Redis'));
  const authFailures = new FailureCounter({
    limit: overrides.authFailures?.limit ?? AUTH_FAILURES_PER_MINUTE,
    windowMs: overrides.authFailures?.windowMs ?? 60_000,
    redis,
    redisPrefix: core.config.QUEUE_PREFIX,
    logger: core.logger,
  });
  const limits = global(async (app) => {
    app.addHook('onClose', async () => {
      await redis.quit().catch((err: unknown) => core.logger.warn({ err }, 'rate-limit Redis: quit failed'));
    });
    await app.register(
      limitsPlugin({
        perMinute: core.config.RATE_LIMIT_PER_MINUTE,
        authenticate: createAuthenticator(core.config.JOBPLANE_API_KEYS ?? new Map()),
        redis,
        redisPrefix: core.config.QUEUE_PREFIX,
        ...(overrides.pressure ? { pressure: overrides.pressure } : {}),
      }),
    );
  });
  const slots = new StreamSlots();
  return {
    authFailures,
    prePlugins: [limits, openapi],
    // One stream cap per client across /v1 and the console.
    plugins: [
      metrics,
      webhooks,
      connectPlugin(),
      ssePlugin({ slots }),
      consolePlugin(core, { slots }),
      ...admin,
    ],
  };
}
