/**
 * `npm run bench:console -w @jobplane/runtime` — the console's job list at 1 M rows
 * (docs/console.md, docs/benchmarks.md): first page and a page 900 000 rows deep, per filter the
 * console offers, read through the real adapter (PostgresConsoleRead). Uses a private schema on
 * loopback PostgreSQL (BENCH_PG_URL), dropped at the end. `--rows N` changes the size.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresConsoleRead, encodeConsoleCursor } from '../src/adapters/postgres/console-queries.js';
import { migrate } from '../src/adapters/postgres/migrate.js';
import type { ConsoleJobFilter, ConsoleScope } from '../src/ports/console-read.port.js';
import { SILENT_LOGGER } from '../src/ports/logger.port.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '30' } },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const URL_ = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `bench_console_${process.pid}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? NaN;

async function main(): Promise<void> {
  await migrate(URL_, schema, SILENT_LOGGER);
  const pool = new pg.Pool({ connectionString: URL_, max: 2, options: `-c search_path=${schema}` });
  try {
    const t0 = performance.now();
    // 10 clients, 3 job types on 2 queues, 1 % dead-lettered, one row per 100 ms of history.
    await pool.query(
      `INSERT INTO jobs (id, client_id, idempotency_key, request_hash, type, payload, state, max_attempts, run_at,
                         mode, queue, create_time, update_time)
       SELECT gen_random_uuid(), 'client-' || (i % 10), 'k-' || i, 'h', (ARRAY['demo.sleep','backtest.sweep','backtest.chunk'])[1 + i % 3],
              '{}'::jsonb, CASE WHEN i % 100 = 0 THEN 'dead_lettered' WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END, 3,
              now(), 'pooled', CASE WHEN i % 3 = 2 THEN 'backtest' ELSE 'default' END,
              now() - (i * interval '100 milliseconds'), now()
         FROM generate_series(1, $1) AS i`,
      [ROWS],
    );
    await pool.query('ANALYZE jobs');
    console.log(`inserted ${ROWS} jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const read = new PostgresConsoleRead(pool);
    const client: ConsoleScope = { kind: 'client', clientId: 'client-3' };
    const admin: ConsoleScope = { kind: 'admin' };
    /** The cursor of the row `depth` rows into the filtered list (what paging that far would hold). */
    const cursorAt = async (where: string, params: unknown[], depth: number): Promise<string | null> => {
      const r = await pool.query(
        `SELECT id, (extract(epoch from create_time) * 1000000)::bigint::text AS m FROM jobs ${where}
         ORDER BY create_time DESC, id DESC OFFSET $${params.length + 1} LIMIT 1`,
        [...params, depth],
      );
      const row = r.rows[0] as { id: string; m: string } | undefined;
      return row ? encodeConsoleCursor(row.m, row.id) : null;
    };
    const cases: {
      name: string;
      scope: ConsoleScope;
      filter: ConsoleJobFilter;
      where: string;
      params: unknown[];
      depth: number;
    }[] = [
      {
        name: 'client: all',
        scope: client,
        filter: {},
        where: 'WHERE client_id = $1',
        params: ['client-3'],
        depth: 90_000,
      },
      {
        name: 'client: state=succeeded',
        scope: client,
        filter: { state: 'succeeded' },
        where: "WHERE client_id = $1 AND state = 'succeeded'",
        params: ['client-3'],
        depth: 70_000,
      },
      {
        name: 'client: type=demo.sleep',
        scope: client,
        filter: { type: 'demo.sleep' },
        where: "WHERE client_id = $1 AND type = 'demo.sleep'",
        params: ['client-3'],
        depth: 30_000,
      },
      {
        name: 'client: queue=backtest',
        scope: client,
        filter: { queue: 'backtest' },
        where: "WHERE client_id = $1 AND queue = 'backtest'",
        params: ['client-3'],
        depth: 30_000,
      },
      { name: 'admin: all', scope: admin, filter: {}, where: '', params: [], depth: 900_000 },
      {
        name: 'admin: dead letters',
        scope: admin,
        filter: { state: 'dead_lettered' },
        where: "WHERE state = 'dead_lettered'",
        params: [],
        depth: 9_000,
      },
      {
        name: 'admin: client=client-3',
        scope: admin,
        filter: { clientId: 'client-3' },
        where: 'WHERE client_id = $1',
        params: ['client-3'],
        depth: 90_000,
      },
    ];
    const scale = ROWS / 1_000_000;
    console.log(
      `\n| list (${ROWS} rows, page of 50) | first page median / p95 ms | deep page (row) median / p95 ms |`,
    );
    console.log('|---|---|---|');
    for (const c of cases) {
      const depth = Math.floor(c.depth * scale);
      const deep = await cursorAt(c.where, c.params, depth);
      const time = async (cursor: string | null) => {
        const xs: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const s = performance.now();
          const page = await read.listJobs(c.scope, c.filter, 50, cursor);
          xs.push(performance.now() - s);
          if (page.items.length === 0) throw new Error(`${c.name}: empty page`);
        }
        return xs;
      };
      const first = await time(null);
      const far = deep ? await time(deep) : [];
      console.log(
        `| ${c.name} | ${median(first).toFixed(2)} / ${p95(first).toFixed(2)} | ${deep ? `${median(far).toFixed(2)} / ${p95(far).toFixed(2)} (row ${depth})` : '-'} |`,
      );
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
