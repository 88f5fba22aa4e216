import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { problem, sendProblem } from '../problem.js';

/** Liveness says the process serves requests; readiness says its dependencies answer. */
export const healthRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const failures = (
      await Promise.all(
        deps.health.map(async (h) => {
          try {
            const reason = await h.check();
            return reason ? `${h.name}: ${reason}` : null;
          } catch (err) {
            return `${h.name}: ${err instanceof Error ? err.message : String(err)}`;
          }
        }),
      )
    ).filter((r): r is string => r !== null);
    if (failures.length > 0) {
      return sendProblem(
        reply,
        problem(503, 'SERVICE.UNAVAILABLE', `not ready: ${failures.join('; ')}`, { problems: failures }),
      );
    }
    return { status: 'ready', checks: deps.health.map((h) => h.name) };
  });
};
