import type {} from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../../ports/metrics.port.js';
import { problem, sendProblem } from '../problem.js';

/**
 * `GET /metrics`: Prometheus text exposition (OpenMetrics with exemplars when the `Accept` header
 * prefers it). Unauthenticated like `/healthz` (scrapers reach it
 * on the cluster network; the network policy limits who can), and exempt from the rate limit.
 */
export function metricsPlugin(metrics: Metrics): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/metrics',
      {
        schema: { summary: 'Prometheus metrics', tags: ['operations'], produces: ['text/plain'] },
        config: { rateLimit: false },
      },
      async (request, reply) => {
        const m = await metrics.exposition(request.headers.accept);
        if (!m)
          return sendProblem(reply, problem(404, 'METRICS.DISABLED', 'this process exports no metrics'));
        return reply.type(m.contentType).send(m.body);
      },
    );
  };
}
