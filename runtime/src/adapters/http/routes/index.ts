import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { healthRoutes } from './health.routes.js';
import { jobRoutes } from './jobs.routes.js';
import { scheduleRoutes } from './schedules.js';
import { subscriptionRoutes } from './subscriptions.js';

/** The one place core route groups are registered. */
export async function registerRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(healthRoutes, { deps });
  await app.register(jobRoutes, { deps, prefix: '/v1' });
  if (deps.schedules) await app.register(scheduleRoutes, { commands: deps.schedules, prefix: '/v1' });
  if (deps.subscriptions)
    await app.register(subscriptionRoutes, { commands: deps.subscriptions, prefix: '/v1' });
}
