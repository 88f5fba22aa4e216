/**
 * End to end: `jobplane api | relay | worker` started as child processes (runtime/dist must be
 * built: `npx tsc -b`), each cluster with its own redis-server and PostgreSQL database
 * (runtime/test/support/faults). Driven over HTTP only; counts are checked in PostgreSQL.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSleepDeadLetters } from '@jobplane/examples';
import { fileURLToPath } from 'node:url';
import { EXAMPLES_CATALOG_MODULE } from '../examples-catalog.js';
import { FaultCluster } from '../support/faults/cluster.js';
import { freePort } from '../support/faults/net.js';
import { CLI_PATH } from '../support/faults/supervisor.js';

const MIXED_MODES_CATALOG = fileURLToPath(new URL('./fixtures/mixed-modes.catalog.js', import.meta.url));
/** A module with job types but no catalog export. */
const NOT_A_CATALOG = fileURLToPath(new URL('../../../examples/dist/job-types.js', import.meta.url));

const run = promisify(execFile);

const FAST = {
  WORKER_CONCURRENCY: '50',
  RETRY_BASE_DELAY_MS: '50',
  RETRY_MAX_DELAY_MS: '200',
  RECONCILE_GRACE_MS: '1000',
  RECONCILE_INTERVAL_SECONDS: '1',
  LOG_LEVEL: 'warn',
};

async function submit(
  c: FaultCluster,
  body: unknown,
  key: string,
): Promise<{ status: number; id: string | undefined }> {
  const res = await c.request('POST', '/v1/jobs', body, { 'idempotency-key': key });
  const json = (await res.json()) as { job?: { id: string } };
  return { status: res.status, id: json.job?.id };
}

async function stateCounts(c: FaultCluster): Promise<Record<string, number>> {
  const rows = await c.db.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM jobs GROUP BY state',
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

async function waitAllTerminal(c: FaultCluster, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await stateCounts(c);
    if (!counts.queued && !counts.running) return counts;
    if (Date.now() > deadline)
      throw new Error(`jobs still active: ${JSON.stringify(counts)}\n${c.sup.dump(30)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function jobState(
  c: FaultCluster,
  id: string,
): Promise<{ state: string; attempts: number } | undefined> {
  const rows = await c.db.query<{ state: string; attempts: number }>(
    'SELECT state, attempts FROM jobs WHERE id = $1',
    [id],
  );
  return rows[0];
}

async function waitJob(c: FaultCluster, id: string, states: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const j = await jobState(c, id);
    if (j && states.includes(j.state)) return j;
    if (Date.now() > deadline)
      throw new Error(`job ${id} is ${JSON.stringify(j)}, wanted ${states.join('|')}\n${c.sup.dump(30)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(() => {
  if (!existsSync(CLI_PATH))
    throw new Error(`${CLI_PATH} is missing: run \`npx tsc -b\` before the e2e tests`);
});

describe('jobplane CLI', () => {
  it('prints usage and refuses bad configuration with exit code 2', async () => {
    const help = await run(process.execPath, [CLI_PATH, '--help']);
    expect(help.stdout).toContain('run-one');
    const bad = await run(process.execPath, [CLI_PATH, 'worker'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'mysql://nope', REDIS_URL: 'redis://127.0.0.1:1' },
    }).catch((err: { code: number; stderr: string }) => err);
    expect('code' in bad ? bad.code : 0).toBe(2);
    expect('stderr' in bad ? bad.stderr : '').toContain('DATABASE_URL');
  });

  it('refuses to start without a catalog, or with one that is missing or invalid (exit 2)', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      REDIS_URL: 'redis://127.0.0.1:6379',
    };
    const fail = (args: string[], extra: Record<string, string> = {}) =>
      run(process.execPath, [CLI_PATH, ...args], { env: { ...env, ...extra } }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
    const none = await fail(['worker']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'jobplane worker: no job-type catalog: pass --catalog <module> or set JOBPLANE_CATALOG',
    );
    const missing = await fail(['relay', '--catalog', './no/such/catalog.js']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("jobplane relay: cannot load catalog module './no/such/catalog.js'");
    const invalid = await fail(['worker'], { JOBPLANE_CATALOG: MIXED_MODES_CATALOG });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(
      "queue 'shared' mixes execution modes (a.pooled: pooled, a.isolated: isolated)",
    );
    const notACatalog = await fail(['worker', `--catalog=${NOT_A_CATALOG}`]);
    expect(notACatalog.code).toBe(2);
    expect(notACatalog.stderr).toContain('must export a defineCatalog() result');
    const badQueue = await fail(['worker', '--catalog', EXAMPLES_CATALOG_MODULE], { WORKER_QUEUES: 'media' });
    expect(badQueue.code).toBe(2);
    expect(badQueue.stderr).toContain(
      "WORKER_QUEUES: unknown queue 'media' (worker queues: default, backtest, backtest-full)",
    );
  });
});

describe('a Redis that may evict keys', () => {
  it('is refused at start (exit 1) by the worker', async () => {
    const port = await freePort();
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'],
      {
        stdio: 'ignore',
      },
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      const res = await run(process.execPath, [CLI_PATH, 'worker'], {
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
          REDIS_URL: `redis://127.0.0.1:${port}`,
          METRICS_PORT: String(await freePort()),
          JOBPLANE_CATALOG: EXAMPLES_CATALOG_MODULE,
        },
        timeout: 20_000,
      }).catch((err: { code: number; stdout: string }) => err);
      expect('code' in res ? res.code : 0).toBe(1);
      expect(res.stdout).toContain("maxmemory-policy is 'allkeys-lru'");
    } finally {
      server.kill('SIGKILL');
    }
  });
});

describe('a cluster under load (api + relay + worker)', () => {
  let c: FaultCluster;
  beforeAll(async () => {
    c = await FaultCluster.start({ env: FAST });
  }, 90_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('drives 1,000 demo.sleep jobs with failures to terminal states with matching counts', async () => {
    const N = 1000;
    const failureRate = 0.3;
    const maxAttempts = 3;
    let expectedDead = 0;
    const bodies = Array.from({ length: N }, (_, i) => {
      if (demoSleepDeadLetters(i, maxAttempts, failureRate)) expectedDead++;
      return { type: 'demo.sleep', payload: { durationMs: 5 + (i % 20), failureRate, seed: i } };
    });
    const started = Date.now();
    let accepted = 0;
    for (let i = 0; i < N; i += 50) {
      const batch = await Promise.all(bodies.slice(i, i + 50).map((b, j) => submit(c, b, `load-${i + j}`)));
      accepted += batch.filter((r) => r.status === 202).length;
    }
    const submitSeconds = (Date.now() - started) / 1000;
    const counts = await waitAllTerminal(c, 120_000);
    const totalSeconds = (Date.now() - started) / 1000;
    console.log(
      `e2e load: ${N} jobs submitted in ${submitSeconds}s, all terminal after ${totalSeconds}s`,
      counts,
    );
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(accepted).toBe(N);
    expect(rows).toBe(N);
    expect((counts.succeeded ?? 0) + (counts.dead_lettered ?? 0)).toBe(N);
    expect(counts.dead_lettered ?? 0).toBe(expectedDead);
    expect(expectedDead).toBeGreaterThan(0);
    // Every dead-lettered job failed exactly maxAttempts times, and every history is a legal path.
    const bad = await c.db.query(
      `SELECT j.id FROM jobs j
       WHERE j.state = 'dead_lettered'
         AND (SELECT count(*) FROM job_events e WHERE e.job_id = j.id AND e.to_state = 'failed') <> $1`,
      [maxAttempts],
    );
    expect(bad).toHaveLength(0);
    const illegal = await c.db.query(
      `SELECT from_state, to_state, count(*)::int AS n FROM job_events
       WHERE (coalesce(from_state, '-'), to_state) NOT IN
         (('-','queued'),('queued','running'),('running','succeeded'),('running','failed'),('failed','queued'),
          ('failed','dead_lettered'),('queued','cancelled'),('running','cancelled'),('dead_lettered','queued'),('cancelled','queued'))
       GROUP BY 1, 2`,
    );
    expect(illegal).toEqual([]);
    expect(await c.db.query('SELECT * FROM outbox')).toHaveLength(0);
  });

  it('turns 50 concurrent same-key submits into exactly one job', async () => {
    const body = { type: 'demo.sleep', payload: { durationMs: 10 } };
    const res = await Promise.all(Array.from({ length: 50 }, () => submit(c, body, 'same-key-50')));
    expect(new Set(res.map((r) => r.id)).size).toBe(1);
    expect(res.every((r) => r.status === 200 || r.status === 202)).toBe(true);
    expect(res.filter((r) => r.status === 202)).toHaveLength(1);
    expect(await c.db.query(`SELECT id FROM jobs WHERE idempotency_key = 'same-key-50'`)).toHaveLength(1);
  });

  it('drains on SIGTERM: the in-flight job finishes and the worker exits 0', async () => {
    const { id } = await submit(c, { type: 'demo.sleep', payload: { durationMs: 1500 } }, 'drain-1');
    await waitJob(c, id!, ['running'], 10_000);
    const worker = c.workers[0]!;
    worker.signal('SIGTERM');
    const exit = await worker.waitExit(15_000);
    expect(exit?.code).toBe(0);
    expect(await jobState(c, id!)).toMatchObject({ state: 'succeeded', attempts: 1 });
  });
});

describe('worker killed with kill -9 mid-job', () => {
  let c: FaultCluster;
  beforeAll(async () => {
    c = await FaultCluster.start({ env: FAST });
  }, 90_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('the job is taken over by another worker and completes', async () => {
    const { id } = await submit(c, { type: 'demo.sleep', payload: { durationMs: 2500 } }, 'kill-1');
    await waitJob(c, id!, ['running'], 10_000);
    await c.workers[0]!.kill9();
    const replacement = await c.addWorker();
    await replacement.waitHealthy(30_000);
    const done = await waitJob(c, id!, ['succeeded'], 30_000);
    expect(done.attempts).toBe(2);
    const reasons = await c.db.query<{ reason: string }>(
      'SELECT reason FROM job_events WHERE job_id = $1 ORDER BY id',
      [id],
    );
    expect(reasons.map((r) => r.reason)).toContain('worker_lost');
  });
});

describe('Redis loses every key after jobs were accepted', () => {
  let c: FaultCluster;
  beforeAll(async () => {
    // No worker yet: the jobs sit in Redis when it is flushed.
    c = await FaultCluster.start({ env: FAST, workers: 0 });
  }, 90_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('every accepted job still completes (the reconciler re-publishes from PostgreSQL)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await submit(c, { type: 'demo.sleep', payload: { durationMs: 10 } }, `flush-${i}`);
      expect(r.status).toBe(202);
      ids.push(r.id!);
    }
    const deadline = Date.now() + 20_000;
    while ((await c.db.query('SELECT 1 FROM outbox')).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await c.db.query('SELECT 1 FROM outbox')).toHaveLength(0);
    // This is the cluster's private redis-server, never the shared one.
    // No DBSIZE check after it: the api and relay are running and write keys again at once (the
    // reconciler re-publishing is what this test is about), so "0 keys" was a race. No worker has
    // run yet, so the 40 successes below can only come from jobs re-published after the flush.
    expect(await c.redis.cli('FLUSHALL')).toContain('OK');
    const w = await c.addWorker();
    await w.waitHealthy(30_000);
    const counts = await waitAllTerminal(c, 60_000);
    expect(counts).toEqual({ succeeded: 40 });
  });
});
