/**
 * The benchmark's private services: its own redis-server on a free loopback port (so INFO
 * commandstats deltas and FLUSHALL concern nobody else) and its own PostgreSQL database (so
 * pg_stat_database xact_commit deltas count only our commits). Both are removed at the end.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { Redis } from 'ioredis';
import { onCleanup } from './cleanup.js';

export interface BenchEnv {
  readonly redisUrl: string;
  readonly redisPort: number;
  /** Admin URL of the private database. */
  readonly databaseUrl: string;
  readonly databaseName: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Loopback PostgreSQL the benchmark uses (trust auth); override with BENCH_PG_URL. */
export const PG_ADMIN_URL = process.env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function startRedis(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined); // expected until the server listens
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { child, port };
    } catch {
      client.disconnect();
      if (Date.now() > deadline) throw new Error(`private redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function startBenchEnv(): Promise<BenchEnv> {
  const redis = await startRedis();
  const databaseName = `jobplane_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  await admin.end();
  const close = async () => {
    redis.child.kill('SIGTERM');
    const a = new pg.Client({ connectionString: PG_ADMIN_URL });
    await a.connect();
    // pg's Pool.end() resolves once its clients are told to end, before their backends are gone;
    // a FORCE drop then terminates them mid-close, and the in-process client gets an uncaught
    // FATAL 57P01. Wait for this database's own sessions to leave first (processes the bench
    // killed may leave some behind: FORCE still ends those after the wait).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const r = await a.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [databaseName],
      );
      if (r.rows[0]!.n === 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    await a.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await a.end();
  };
  const unregister = onCleanup(close);
  return {
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    redisPort: redis.port,
    databaseUrl: withDatabase(PG_ADMIN_URL, databaseName),
    databaseName,
    async close() {
      unregister();
      await close();
    },
  };
}

/** Sum of `calls` over INFO commandstats. */
export async function redisCommandCount(redisUrl: string): Promise<number> {
  const client = new Redis(redisUrl);
  try {
    const info = await client.info('commandstats');
    let total = 0;
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      // Leave out our own INFO calls.
      if (m[1] !== 'info') total += Number(m[2]);
    }
    return total;
  } finally {
    client.disconnect();
  }
}

/** Committed transactions of a database so far (pg_stat_database, after forcing a stats flush). */
export async function pgCommitCount(databaseUrl: string, databaseName: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const res = await client.query<{ xact_commit: string }>(
      'SELECT xact_commit FROM pg_stat_database WHERE datname = $1',
      [databaseName],
    );
    return Number(res.rows[0]?.xact_commit ?? Number.NaN);
  } finally {
    await client.end();
  }
}

export interface MachineDescription {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly redis: string;
  readonly postgres: string;
  readonly postgresSettings: Record<string, string>;
}

export async function describeMachine(): Promise<MachineDescription> {
  let redis = 'unknown';
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    /* not installed */
  }
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  const version = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? 'unknown';
  const settings: Record<string, string> = {};
  for (const name of ['synchronous_commit', 'fsync', 'shared_buffers', 'max_connections', 'wal_level']) {
    settings[name] =
      (await client.query<{ s: string }>(`SELECT current_setting('${name}') AS s`)).rows[0]?.s ?? '?';
  }
  await client.end();
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis,
    postgres: version.split(' on ')[0] ?? version,
    postgresSettings: settings,
  };
}
