import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { loadConfig, type JobplaneCommand, type JobplaneConfig } from '../../src/config/schema.js';
import { buildCore, type Core, type CoreOverrides } from '../../src/main/context.js';
import { SILENT_LOGGER } from '../../src/ports/logger.port.js';
import { pollUntil } from '../support/wait.js';
import { examplesCatalog } from '../examples-catalog.js';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const API_KEY_A = 'key-a-0123456789abcdef';
export const API_KEY_B = 'key-b-0123456789abcdef';

/** A private PostgreSQL schema and BullMQ prefix for one test file. */
export interface Isolated {
  readonly schema: string;
  readonly prefix: string;
  readonly env: Record<string, string>;
  config(command: JobplaneCommand, extra?: Record<string, string>): JobplaneConfig;
  core(command: JobplaneCommand, overrides?: Partial<CoreOverrides>, extra?: Record<string, string>): Core;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  cleanup(): Promise<void>;
}

export async function isolate(name: string): Promise<Isolated> {
  const suffix = randomBytes(4).toString('hex');
  const schema = `jpt_${name.replace(/[^a-z0-9]/g, '_')}_${suffix}`;
  const prefix = `jpt-${name}-${suffix}`;
  await migrate(DATABASE_URL, schema, SILENT_LOGGER);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, options: `-c search_path=${schema}` });
  const env: Record<string, string> = {
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    JOBPLANE_API_KEYS: `alice:${API_KEY_A},bob:${API_KEY_B}`,
    LOG_LEVEL: 'silent',
  };
  const cores: Core[] = [];
  return {
    schema,
    prefix,
    env,
    config: (command, extra = {}) => loadConfig({ ...env, ...extra }, command),
    core(command, overrides = {}, extra = {}) {
      const c = buildCore(loadConfig({ ...env, ...extra }, command), command, {
        catalog: examplesCatalog,
        logger: pino({ level: 'silent' }),
        ...overrides,
      });
      cores.push(c);
      return c;
    },
    async query(sql, params = []) {
      return (await pool.query(sql, params)).rows;
    },
    async cleanup() {
      const cleaner = buildCore(loadConfig(env, 'relay'), 'relay', {
        catalog: examplesCatalog,
        logger: pino({ level: 'silent' }),
      });
      for (const { name: q } of examplesCatalog.queues())
        await cleaner.queue
          .queue(q)
          .obliterate({ force: true })
          .catch(() => undefined);
      await cleaner.close();
      for (const c of cores) await c.close();
      await pool.query(`DROP SCHEMA ${schema} CASCADE`);
      await pool.end();
    },
  };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` (10_000 ms by default) passes. */
export function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<T> {
  return pollUntil(fn, timeoutMs, stepMs);
}
