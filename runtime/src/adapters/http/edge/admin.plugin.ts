import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import { ADMIN_PREFIX } from './route-schemas.js';

export interface AdminPluginOptions {
  readonly queues: readonly Queue[];
}

/**
 * Bull Board at `/admin/queues` (UI and its JSON API), behind JOBPLANE_ADMIN_KEY: its routes have
 * the auth policy `admin` (auth.plugin.ts: 401 without a key, 403 with a wrong one, digests
 * compared in constant time, failures counted). Not registered at all when the key is unset. The dashboard can retry, promote and remove BullMQ jobs; PostgreSQL stays the
 * authority (the reconciler re-publishes a removed job that is still queued).
 */
export function adminPlugin(opts: AdminPluginOptions): FastifyPluginAsync {
  return async (app) => {
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
