import { createServer, type Server } from 'node:http';
import type { HealthCheck } from '../../ports/health.port.js';
import type { Metrics } from '../../ports/metrics.port.js';

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly checks: readonly HealthCheck[];
  readonly metrics: Metrics;
  /** False while draining: readiness fails so nothing new is routed here. */
  readonly isAccepting: () => boolean;
  /** POST routes of this process (the launcher's `/admin/reconcile`); none by default. */
  readonly post?: PostRoute;
}

/** Answers a POST: undefined when the path is not one of its routes. */
export type PostRoute = (
  path: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
) => Promise<{ status: number; body: unknown } | undefined>;

/** `/healthz`, `/readyz` and `/metrics` for the worker, relay and run-one processes. */
export async function startHealthServer(opts: HealthServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    void (async () => {
      if (req.method === 'POST' && opts.post) {
        req.resume();
        const answer = await opts.post(path ?? '/', req.headers);
        if (answer) {
          const type = answer.status >= 400 ? 'application/problem+json' : 'application/json';
          return send(answer.status, type, JSON.stringify(answer.body));
        }
      }
      if (req.method !== 'GET')
        return send(405, 'application/problem+json', JSON.stringify({ status: 405, code: 'ROUTE.METHOD' }));
      if (path === '/healthz') return send(200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (path === '/readyz') {
        const failures: string[] = [];
        if (!opts.isAccepting()) failures.push('draining');
        // In parallel: readiness answers within one check's budget, not the sum of them.
        const reasons = await Promise.all(
          opts.checks.map((c) =>
            c.check().catch((err: unknown) => (err instanceof Error ? err.message : String(err))),
          ),
        );
        opts.checks.forEach((c, i) => {
          if (reasons[i]) failures.push(`${c.name}: ${reasons[i]}`);
        });
        if (failures.length > 0) {
          return send(
            503,
            'application/problem+json',
            JSON.stringify({
              type: '/problems/service-unavailable',
              title: 'Service Unavailable',
              status: 503,
              code: 'SERVICE.UNAVAILABLE',
              detail: `not ready: ${failures.join('; ')}`,
            }),
          );
        }
        return send(200, 'application/json', JSON.stringify({ status: 'ready' }));
      }
      if (path === '/metrics') {
        const m = await opts.metrics.exposition(req.headers.accept);
        if (m) return send(200, m.contentType, m.body);
        return send(
          404,
          'application/problem+json',
          JSON.stringify({ status: 404, code: 'METRICS.DISABLED' }),
        );
      }
      return send(404, 'application/problem+json', JSON.stringify({ status: 404, code: 'ROUTE.NOT_FOUND' }));
    })().catch(() =>
      send(500, 'application/problem+json', JSON.stringify({ status: 500, code: 'INTERNAL' })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return server;
}
