import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { problem, sendProblem } from '../problem.js';
import { ADMIN_PREFIX } from './route-schemas.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The presented admin key: `Authorization: Bearer <key>`, or Basic auth with the key as password
 * (any user name) so a browser can open the dashboard and get a login prompt.
 */
function presentedKey(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (bearer?.[1]) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

export interface AdminPluginOptions {
  readonly adminKey: string;
  readonly queues: readonly Queue[];
}

/**
 * Bull Board at `/admin/queues` (UI and its JSON API), behind JOBPLANE_ADMIN_KEY: 401 without a
 * key, 403 with a wrong one (digests compared in constant time). Not registered at all when the
 * key is unset. The dashboard can retry, promote and remove BullMQ jobs; PostgreSQL stays the
 * authority (the reconciler re-publishes a removed job that is still queued).
 */
export function adminPlugin(opts: AdminPluginOptions): FastifyPluginAsync {
  const expected = digest(opts.adminKey);
  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      const key = presentedKey(request);
      if (key === null) {
        reply.header('www-authenticate', 'Basic realm="jobplane-admin", charset="UTF-8"');
        return sendProblem(
          reply,
          problem(401, 'AUTH.UNAUTHENTICATED', 'send the admin key (Bearer, or Basic password)'),
        );
      }
      if (!timingSafeEqual(digest(key), expected)) {
        return sendProblem(
          reply,
          problem(403, 'AUTH.FORBIDDEN', 'this key may not open the queue dashboard'),
        );
      }
      return undefined;
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(ADMIN_PREFIX);
    createBullBoard({
      queues: opts.queues.map((q) => new BullMQAdapter(q)),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Jobplane queues' } },
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_PREFIX });
  };
}
