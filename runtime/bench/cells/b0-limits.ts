/** B0: the ceilings underneath everything — Redis ops/s and PostgreSQL single-row commits/s. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { Cell } from '../lib/harness.js';
import type { BenchEnv } from '../lib/env.js';

const run = promisify(execFile);

async function hasRedisBenchmark(): Promise<boolean> {
  try {
    await run('redis-benchmark', ['--version']);
    return true;
  } catch {
    return false;
  }
}

function parseCsv(out: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const m = /^"([^"]+)","([\d.]+)"/.exec(line.trim());
    if (m) result[m[1] as string] = Number(m[2]);
  }
  return result;
}

export async function redisCell(env: BenchEnv, quick: boolean): Promise<Cell> {
  const n = quick ? 10_000 : 200_000;
  if (await hasRedisBenchmark()) {
    return {
      id: 'B0.redis',
      group: 'B0',
      title: 'Redis SET/GET ops/s',
      method: `redis-benchmark -t set,get -n ${n} -c 50 (and -P 16), private redis-server on loopback`,
      metrics: {
        set: { unit: 'ops/s', better: 'higher' },
        get: { unit: 'ops/s', better: 'higher' },
        setPipelined16: { unit: 'ops/s', better: 'higher' },
      },
      async run() {
        const args = [
          '-h',
          '127.0.0.1',
          '-p',
          String(env.redisPort),
          '-t',
          'set,get',
          '-n',
          String(n),
          '-c',
          '50',
          '--csv',
        ];
        const plain = parseCsv((await run('redis-benchmark', args)).stdout);
        const piped = parseCsv((await run('redis-benchmark', [...args, '-P', '16'])).stdout);
        return {
          set: plain['SET'] ?? Number.NaN,
          get: plain['GET'] ?? Number.NaN,
          setPipelined16: piped['SET'] ?? Number.NaN,
        };
      },
    };
  }
  // Fallback: an in-process ioredis loop (50 commands in flight).
  return {
    id: 'B0.redis',
    group: 'B0',
    title: 'Redis SET ops/s',
    method: `in-process ioredis, ${n} SETs with 50 in flight (redis-benchmark not installed)`,
    metrics: { set: { unit: 'ops/s', better: 'higher' } },
    async run() {
      const client = new Redis(env.redisUrl);
      let i = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (i < n) await client.set(`b0:${i++}`, 'x');
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      client.disconnect();
      return { set: n / seconds };
    },
  };
}

export function postgresCell(env: BenchEnv, connections: number, quick: boolean): Cell {
  const seconds = quick ? 1 : 3;
  let pool: pg.Pool | undefined;
  return {
    id: `B0.pg.c${connections}`,
    group: 'B0',
    title: `PostgreSQL single-row INSERT commits/s, ${connections} connection${connections > 1 ? 's' : ''}`,
    method: `in-process pg loop, autocommit INSERT of one jsonb row, ${seconds} s, private database`,
    metrics: { commits: { unit: 'commits/s', better: 'higher' } },
    async setup() {
      pool = new pg.Pool({ connectionString: env.databaseUrl, max: connections });
      await pool.query('CREATE SCHEMA IF NOT EXISTS bench_b0');
      await pool.query(
        'CREATE TABLE IF NOT EXISTS bench_b0.rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
      );
    },
    async run() {
      const p = pool as pg.Pool;
      const clients = await Promise.all(Array.from({ length: connections }, () => p.connect()));
      let count = 0;
      const end = performance.now() + seconds * 1000;
      const started = performance.now();
      await Promise.all(
        clients.map(async (c) => {
          while (performance.now() < end) {
            await c.query('INSERT INTO bench_b0.rows (payload) VALUES ($1)', ['{"durationMs":0}']);
            count++;
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      for (const c of clients) c.release();
      return { commits: count / elapsed };
    },
    async teardown() {
      await pool?.query('DROP SCHEMA IF EXISTS bench_b0 CASCADE');
      await pool?.end();
    },
  };
}
