import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../../ports/logger.port.js';

/** The SQL migrations shipped with the package (runtime/migrations). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/**
 * Applies pending migrations to `schema` (created if missing). Idempotent; node-pg-migrate holds
 * a PostgreSQL advisory lock so concurrent `jobplane migrate` runs wait for each other.
 */
export async function migrate(databaseUrl: string, schema: string, logger: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    schema,
    createSchema: true,
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    singleTransaction: true,
    verbose: false,
    log: (msg: string) => logger.debug({ msg }, 'migrate'),
    logger: {
      debug: (m: string) => logger.debug({ m }, 'migrate'),
      info: (m: string) => logger.debug({ m }, 'migrate'),
      warn: (m: string) => logger.warn({ m }, 'migrate'),
      error: (m: string) => logger.error({ m }, 'migrate'),
    },
  });
  return applied.map((m) => m.name);
}
