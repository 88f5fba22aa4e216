/**
 * `POST /admin/reconcile` on the launcher's health port: runs the container reconciler now and
 * answers its report. Needs `Authorization: Bearer <JOBPLANE_ADMIN_KEY>`; off (404) when no admin
 * key is set; 503 on a standby replica (only the leader reconciles).
 */
import { timingSafeEqual } from 'node:crypto';
import type { ContainerReconcileReport } from '../../../application/reconcile-container-jobs.use-case.js';
import type { PostRoute } from '../health-server.js';
import { problem } from '../problem.js';

export interface ContainerAdminOptions {
  readonly adminKey: string | undefined;
  readonly isLeader: () => boolean;
  readonly reconcile: () => Promise<ContainerReconcileReport>;
}

function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function containerAdminRoute(opts: ContainerAdminOptions): PostRoute {
  return async (path, headers) => {
    if (path !== '/admin/reconcile') return undefined;
    if (!opts.adminKey)
      return {
        status: 404,
        body: problem(404, 'ROUTE.NOT_FOUND', 'admin routes are off (no JOBPLANE_ADMIN_KEY)'),
      };
    const auth = headers.authorization;
    const given = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!sameKey(given, opts.adminKey)) {
      return { status: 401, body: problem(401, 'AUTH.UNAUTHENTICATED', 'the admin key is missing or wrong') };
    }
    if (!opts.isLeader()) {
      return {
        status: 503,
        body: problem(
          503,
          'LAUNCHER.NOT_LEADER',
          'this launcher is a standby; the leader replica reconciles',
        ),
      };
    }
    try {
      return { status: 200, body: await opts.reconcile() };
    } catch {
      return {
        status: 503,
        body: problem(503, 'SERVICE.UNAVAILABLE', 'the reconciler could not reach Kubernetes or PostgreSQL'),
      };
    }
  };
}
