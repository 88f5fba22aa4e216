import type pg from 'pg';
import type { HealthCheck } from '../../ports/health.port.js';

export function postgresHealthCheck(pool: pg.Pool): HealthCheck {
  return {
    name: 'postgres',
    async check() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('no answer within 2 s'), 2000);
      });
      try {
        return await Promise.race([pool.query('SELECT 1 FROM jobs LIMIT 1').then(() => null), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
