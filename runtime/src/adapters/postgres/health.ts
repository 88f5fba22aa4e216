import type pg from 'pg';
import type { HealthCheck } from '../../ports/health.port.js';

export function postgresHealthCheck(pool: pg.Pool): HealthCheck {
  return {
    name: 'postgres',
    async check() {
      await pool.query('SELECT 1 FROM jobs LIMIT 1');
      return null;
    },
  };
}
