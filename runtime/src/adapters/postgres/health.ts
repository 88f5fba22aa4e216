import type pg from 'pg';
import { withTimeout, type HealthCheck } from '../../ports/health.port.js';

const NO_ANSWER = Symbol('no answer');

/** The pool has every connection checked out (and, when `waiting` > 0, queries queued for one). */
function poolExhausted(pool: pg.Pool): string | null {
  const max = pool.options.max ?? 10;
  if (pool.totalCount < max || pool.idleCount > 0) return null;
  return `pool exhausted: all ${max} connections of this process busy, ${pool.waitingCount} queries waiting`;
}

/**
 * PostgreSQL answers a query on Jobplane's tables within `timeoutMs` through this process's pool.
 * When it does not, the reason says which: this process's own pool is exhausted (every connection
 * busy — PostgreSQL itself may be fine), or PostgreSQL gave no answer.
 */
export function postgresHealthCheck(pool: pg.Pool, timeoutMs = 1500): HealthCheck {
  return {
    name: 'postgres',
    async check() {
      const exhaustedAtStart = poolExhausted(pool);
      const res = await withTimeout<string | null | typeof NO_ANSWER>(
        () =>
          pool.query('SELECT 1 FROM jobs LIMIT 1').then(
            () => null,
            (err: unknown) => (err instanceof Error ? err.message : String(err)),
          ),
        timeoutMs,
        NO_ANSWER,
      );
      if (res === null) return null;
      const exhausted = exhaustedAtStart ?? poolExhausted(pool);
      if (exhausted) return exhausted;
      return res === NO_ANSWER ? `no answer within ${timeoutMs} ms` : res;
    },
  };
}
