import type { FastifyBaseLogger, FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import type { JobControls } from '../../application/control-job.use-case.js';
import type { JobQueries } from '../../application/query-jobs.use-case.js';
import type { ScheduleCommands } from '../../application/schedule-commands.js';
import type { SubscriptionCommands } from '../../application/subscription-commands.js';
import type { SubmitJob, SubmitJobs } from '../../application/submit-job.use-case.js';
import type { HealthCheck } from '../../ports/health.port.js';
import type { Metrics } from '../../ports/metrics.port.js';
import type { FailureCounter } from './failure-counter.js';

/** Everything the HTTP adapter needs; built by the composition root (main/api.ts). */
export interface AppDeps {
  readonly submitJob: SubmitJob;
  /** `POST /v1/jobs:batch` and SubmitJobs over Connect/gRPC. */
  readonly submitJobs: SubmitJobs;
  readonly queries: JobQueries;
  readonly controls: JobControls;
  /** /v1/schedules; absent = no schedule routes. */
  readonly schedules?: ScheduleCommands;
  /** /v1/subscriptions (outgoing webhooks); absent = no subscription routes. */
  readonly subscriptions?: SubscriptionCommands;
  /** Maps an Authorization header to a client id (null = unauthenticated). */
  readonly authenticate: (authorization: string | undefined) => string | null;
  /** JOBPLANE_ADMIN_KEY, for the routes whose auth policy is `admin` (the queue dashboard). */
  readonly adminKey?: string;
  /** Failed authentications per source address (429 past the limit); none = not counted. */
  readonly authFailures?: FailureCounter;
  readonly health: readonly HealthCheck[];
  readonly metrics: Metrics;
  readonly bodyLimit: number;
  readonly logger?: FastifyBaseLogger;
  /**
   * Extra plugins (webhooks, OpenAPI, Connect, dashboards…) registered after the core routes, in
   * order. Each receives the same deps through its options.
   */
  readonly plugins?: readonly AppPlugin[];
  /**
   * Plugins registered before the core routes, for the ones that must see every route
   * (OpenAPI, rate limit, security headers, overload protection).
   */
  readonly prePlugins?: readonly FastifyPluginAsync<{ deps: AppDeps }>[];
}

/** A plugin registered after the core routes (async or callback style, e.g. wrapped with fastify-plugin). */
export type AppPlugin = FastifyPluginAsync<{ deps: AppDeps }> | FastifyPluginCallback<{ deps: AppDeps }>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The API client, set by the auth plugin on routes whose policy is `client`. */
    clientId: string;
  }
}
