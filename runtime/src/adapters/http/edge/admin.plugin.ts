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
 * compared in constant time, failures counted). Not registered at all when the key is unset.
 *
 * Read-only (`readOnlyMode` on every queue: its write endpoints answer 405 and the UI hides them).
 * Its Retry moved a BullMQ message to "completed" while PostgreSQL, the authority, still said
 * dead-lettered; retries and redrives go through the API (`POST /v1/jobs/{id}:retry`, the console's
 * bulk redrive), which re-queues in PostgreSQL and publishes through the outbox.
 */
export function adminPlugin(opts: AdminPluginOptions): FastifyPluginAsync {
  return async (app) => {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(ADMIN_PREFIX);
    createBullBoard({
      queues: opts.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Jobplane queues' } },
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_PREFIX });
  };
}
