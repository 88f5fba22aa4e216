import { migrate } from '../adapters/postgres/migrate.js';
import { createLogger } from '../adapters/logging/pino-logger.js';
import type { JobplaneConfig } from '../config/schema.js';

/** `jobplane migrate`: applies pending migrations to DATABASE_SCHEMA. */
export async function runMigrate(config: JobplaneConfig): Promise<string[]> {
  const logger = createLogger(config.LOG_LEVEL, { command: 'migrate' });
  const applied = await migrate(config.DATABASE_URL, config.DATABASE_SCHEMA, logger);
  logger.info(
    { schema: config.DATABASE_SCHEMA, applied },
    applied.length ? 'migrations applied' : 'schema up to date',
  );
  return applied;
}
