/**
 * Test harness for the edge features: a real API app (core use cases + edge plugins) on the
 * shared PostgreSQL and Redis, isolated by its own schema and BullMQ prefix, removed on stop.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { loadConfig, type JobplaneConfig } from '../../src/config/schema.js';
import { buildApiApp } from '../../src/main/api.js';
import { buildCore, type Core } from '../../src/main/context.js';
import { withEdgeMetrics, type EdgeOverrides } from '../../src/main/edge.js';
import { CachedBacklog } from '../../src/adapters/bullmq/bullmq-job-queue.js';
import { EXAMPLES_CATALOG_MODULE, examplesCatalog } from '../examples-catalog.js';
import { SILENT_LOGGER } from '../../src/ports/logger.port.js';
import { pollUntil } from './wait.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const API_KEY = 'edge-test-key-0123456789';
export const CLIENT = 'edge-client';

export interface EdgeEnv {
  readonly schema: string;
  readonly prefix: string;
  readonly env: Record<string, string>;
  readonly config: JobplaneConfig;
}

/** A fresh schema (migrated) and queue prefix; `extra` env vars are merged in. */
export async function createEdgeEnv(extra: Record<string, string> = {}): Promise<EdgeEnv> {
  const id = randomBytes(4).toString('hex');
  const schema = `edge_${id}`;
  const prefix = `edge-${id}`;
  const env = {
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    JOBPLANE_API_KEYS: `${CLIENT}:${API_KEY}`,
    LOG_LEVEL: 'silent',
    JOBPLANE_CATALOG: EXAMPLES_CATALOG_MODULE,
    ...extra,
  };
  await migrate(DATABASE_URL, schema, SILENT_LOGGER);
  return { schema, prefix, env, config: loadConfig(env, 'api') };
}

/** Drops the schema and every Redis key under the prefix (never anything else). */
export async function destroyEdgeEnv(e: EdgeEnv): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${e.schema} CASCADE`);
  await client.end();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${e.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}

export interface EdgeApi {
  readonly core: Core;
  /** The queue-depth cache behind QUEUE_MAX_DEPTH (with `queueCap`). */
  readonly backlog?: CachedBacklog;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the API app exactly as `jobplane api` does (without listening unless asked). */
export async function startEdgeApi(
  e: EdgeEnv,
  opts: { onRoute?: (route: RouteOptions) => void; edge?: EdgeOverrides; queueCap?: boolean } = {},
): Promise<EdgeApi> {
  const core = withEdgeMetrics(
    buildCore(e.config, 'api', { catalog: examplesCatalog, logger: pino({ level: 'silent' }) }),
    'api',
  );
  const backlog = opts.queueCap
    ? new CachedBacklog(
        core.queue,
        examplesCatalog.queues().map((q) => q.name),
      )
    : undefined;
  await backlog?.refresh();
  const observe = fp(async (app) => {
    if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  });
  // The same composition as `jobplane api` (main/api.ts).
  const app = await buildApiApp(core, {
    ...(backlog ? { backlog } : {}),
    ...(opts.edge ? { edge: opts.edge } : {}),
    extraPrePlugins: [observe],
  });
  await app.ready();
  return {
    core,
    app,
    ...(backlog ? { backlog } : {}),
    async close() {
      await app.close();
      await core.close();
    },
  };
}

export const auth = { authorization: `Bearer ${API_KEY}` };
export const newKey = (): string => randomUUID();

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` (20_000 ms by default) passes. */
export function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
  stepMs = 50,
): Promise<T> {
  return pollUntil(fn, timeoutMs, stepMs);
}

/** Value of one series in a Prometheus text exposition (0 when absent); label order does not matter. */
export function sample(body: string, series: string): number {
  const parse = (text: string) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(text);
    if (!m) return null;
    const labels = (m[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
    return `${m[1]}{${[...labels].sort().join(',')}}`;
  };
  const want = parse(series);
  for (const line of body.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const sp = line.lastIndexOf(' ');
    if (parse(line.slice(0, sp)) === want) return Number(line.slice(sp + 1));
  }
  return 0;
}
