import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../../ports/logger.port.js';

/** The SQL migrations shipped with the package (runtime/migrations). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** node-pg-migrate's refusal when another run holds its advisory lock (it does not wait). */
const LOCKED = 'Another migration is already running';

/** How long a run waits for another one to finish (it then finds nothing left to do). */
export const MIGRATE_LOCK_WAIT_MS = 120_000;

/**
 * Applies pending migrations to `schema` (created if missing). Idempotent. node-pg-migrate holds
 * a PostgreSQL advisory lock while it runs and refuses to start while another run holds it; a run
 * that finds the lock taken waits (retries with backoff, up to MIGRATE_LOCK_WAIT_MS) instead of
 * failing, so concurrent `jobplane migrate` runs wait for each other.
 */
export async function migrate(
  databaseUrl: string,
  schema: string,
  logger: Logger,
  opts: { readonly lockWaitMs?: number } = {},
): Promise<string[]> {
  const deadline = Date.now() + (opts.lockWaitMs ?? MIGRATE_LOCK_WAIT_MS);
  for (let delay = 100; ; delay = Math.min(2000, delay * 2)) {
    try {
      return await migrateOnce(databaseUrl, schema, logger);
    } catch (err) {
      if (!(err instanceof Error) || err.message !== LOCKED || Date.now() + delay > deadline) throw err;
      logger.info({ schema, retryInMs: delay }, 'another migration is running; waiting for it');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function migrateOnce(databaseUrl: string, schema: string, logger: Logger): Promise<string[]> {
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
