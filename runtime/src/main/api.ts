import type { FastifyInstance } from 'fastify';
import { CachedBacklog } from '../adapters/bullmq/bullmq-job-queue.js';
import { buildApp, type AppDeps } from '../adapters/http/app.js';
import type { AppPlugin } from '../adapters/http/app-deps.js';
import type { OutboxEntry } from '../ports/job-store.port.js';
import { createAuthenticator } from '../adapters/http/auth.js';
import { withStorablePayload, withStorablePayloads } from '../adapters/http/input.js';
import { createJobControls } from '../application/control-job.use-case.js';
import { createJobQueries } from '../application/query-jobs.use-case.js';
import { createEagerPublisher, type EagerPublisher } from '../application/publish-submitted.use-case.js';
import { createSubmitJob, createSubmitJobs } from '../application/submit-job.use-case.js';
import { SYSTEM_CLOCK } from '../ports/clock.port.js';
import type { Core } from './context.js';
import { submittableTypes } from './catalog.js';
import { edgeApiPlugins, type EdgeOverrides } from './edge.js';
import { listenDualProtocol } from '../adapters/http/edge/dual-protocol-listener.js';
import { startRelayLoop, type RelayLoop } from './relay-loop.js';
import { subscriptionCommandsOf } from './events-loop.js';
import { scheduleCommandsOf, startScheduler, type SchedulerLoop } from './scheduler.js';

/**
 * The API's eager publisher (EAGER_PUBLISH), drained when the app closes so no claim is left
 * open; null when the relays publish everything.
 */
function eagerPublisherOf(core: Core): { publisher: EagerPublisher; plugin: AppPlugin } | null {
  if (!core.config.EAGER_PUBLISH) return null;
  const publisher = createEagerPublisher({
    store: core.store,
    queue: core.queue,
    logger: core.logger.child({ component: 'eager-publish' }),
    publishTimeoutMs: Math.max(1000, 2 * core.config.REDIS_COMMAND_TIMEOUT_MS),
  });
  const plugin: AppPlugin = async (app: FastifyInstance) => {
    app.addHook('onClose', async () => publisher.drain());
  };
  return { publisher, plugin };
}

/** Wires the use cases into the HTTP app. Extra plugins (edge features) go in `plugins`. */
export function apiDeps(core: Core, plugins: AppDeps['plugins'] = [], backlog?: CachedBacklog): AppDeps {
  const eager = eagerPublisherOf(core);
  const submitDeps = {
    store: core.store,
    catalog: core.jobCatalog,
    submittableTypes: submittableTypes(core.catalog),
    metrics: core.metrics,
    clock: SYSTEM_CLOCK,
    ...(backlog ? { backlog, maxDepth: core.config.QUEUE_MAX_DEPTH } : {}),
    ...(eager ? { afterCommit: (entries: readonly OutboxEntry[]) => eager.publisher.publish(entries) } : {}),
  };
  return {
    submitJob: withStorablePayload(createSubmitJob(submitDeps)),
    submitJobs: withStorablePayloads(createSubmitJobs(submitDeps)),
    queries: createJobQueries(core.store),
    controls: createJobControls({
      store: core.store,
      cancelBus: core.cancelBus,
      queue: core.queue,
      logger: core.logger,
    }),
    schedules: scheduleCommandsOf(core),
    subscriptions: subscriptionCommandsOf(core),
    authenticate: createAuthenticator(core.config.JOBPLANE_API_KEYS ?? new Map()),
    ...(core.config.JOBPLANE_ADMIN_KEY ? { adminKey: core.config.JOBPLANE_ADMIN_KEY } : {}),
    health: core.health,
    metrics: core.metrics,
    bodyLimit: core.config.BODY_LIMIT_BYTES,
    logger: core.logger,
    plugins: eager ? [...plugins, eager.plugin] : plugins,
  };
}

export interface ApiAppOptions {
  /** The queue-depth cache behind QUEUE_MAX_DEPTH. */
  readonly backlog?: CachedBacklog;
  readonly edge?: EdgeOverrides;
  /** Appended to the production pre-plugins (tests observe routes with them). */
  readonly extraPrePlugins?: AppDeps['prePlugins'];
  /** Replaces parts of the deps (tests inject failing health checks). */
  readonly deps?: Partial<Pick<AppDeps, 'health'>>;
}

/**
 * The API app exactly as `jobplane api` serves it: core routes, auth, limits, OpenAPI validation,
 * Connect, SSE, webhooks, metrics and the dashboard. Tests build it through this function too, so
 * they exercise the production plugins, not a reduced app.
 */
export async function buildApiApp(core: Core, opts: ApiAppOptions = {}): Promise<FastifyInstance> {
  const edge = edgeApiPlugins(core, opts.edge);
  return buildApp({
    ...apiDeps(core, [], opts.backlog),
    ...edge,
    ...opts.deps,
    prePlugins: [...edge.prePlugins, ...(opts.extraPrePlugins ?? [])],
  });
}

export interface RunningApi {
  readonly app: FastifyInstance;
  readonly url: string;
  stop(): Promise<void>;
}

/** `jobplane api`: the HTTP API, plus the relay when RELAY_IN_PROCESS=true. */
export async function runApi(core: Core): Promise<RunningApi> {
  const backlog = new CachedBacklog(
    core.queue,
    core.catalog.queues().map((q) => q.name),
  );
  await backlog.refresh().catch((err: unknown) => core.logger.warn({ err }, 'queue depth unknown at start'));
  backlog.start();
  const app = await buildApiApp(core, { backlog });
  // HTTP/1.1 and h2c on one port: gRPC clients need HTTP/2 (see dual-protocol-listener.ts).
  const listener = await listenDualProtocol(app, core.config.PORT, core.config.HOST);
  const address = listener.url;
  let relay: RelayLoop | null = null;
  if (core.config.RELAY_IN_PROCESS) relay = await startRelayLoop(core);
  // The scheduler lives with the relay (docs/schedules.md).
  const scheduler: SchedulerLoop | null =
    core.config.RELAY_IN_PROCESS && core.config.SCHEDULER_ENABLED ? startScheduler(core) : null;
  core.logger.info({ address, relayInProcess: core.config.RELAY_IN_PROCESS }, 'api listening');
  return {
    app,
    url: address,
    async stop() {
      // app.close() ends open event streams (preClose) so the listener's drain is not held up by them.
      await Promise.all([listener.close(core.config.DRAIN_TIMEOUT_SECONDS * 1000), app.close()]);
      backlog.stop();
      await scheduler?.stop();
      await relay?.stop();
    },
  };
}
