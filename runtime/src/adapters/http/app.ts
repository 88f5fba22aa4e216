import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { AppDeps } from './app-deps.js';
import { authPlugin } from './auth.plugin.js';
import { problem, sendProblem, toProblem, writeClientErrorProblem } from './problem.js';
import { registerRoutes } from './routes/index.js';

export type { AppDeps, AppPlugin } from './app-deps.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the Fastify app (no listening: see server.ts). Plugin order: hooks and error handling,
 * `deps.prePlugins`, the auth plugin (one policy per route, see auth.plugin.ts), core routes, then
 * `deps.plugins`.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: deps.bodyLimit,
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // x-request-id is accepted when it is a sane token, generated otherwise, and echoed.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before a route runs (a path parameter over maxParamLength, a malformed URL)
    // and by the HTTP parser are problem+json too (found by the hostile-input fault suite).
    frameworkErrors: (err, request, reply) => sendProblem(reply, toProblem(err, request)),
    clientErrorHandler: writeClientErrorProblem,
  });
  app.decorateRequest('clientId', '');

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((err, request, reply) => {
    const p = toProblem(err, request);
    if (p.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: p.code, status: p.status }, 'request refused');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, 'ROUTE.NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`),
    ),
  );

  for (const plugin of deps.prePlugins ?? []) await app.register(plugin, { deps });
  // After the pre-plugins (security headers, limits, OpenAPI) so refusals carry their headers.
  await app.register(
    authPlugin({
      authenticate: deps.authenticate,
      ...(deps.adminKey ? { adminKey: deps.adminKey } : {}),
      ...(deps.authFailures ? { failures: deps.authFailures } : {}),
    }),
  );
  await registerRoutes(app, deps);
  for (const plugin of deps.plugins ?? [])
    await app.register(plugin as FastifyPluginAsync<{ deps: AppDeps }>, { deps });
  return app;
}
