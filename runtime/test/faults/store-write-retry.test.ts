/**
 * A PostgreSQL error on a worker's success write (here: its backend terminated while the write
 * waits, as in a failover) is logged and the write retried on a fresh connection: the job
 * succeeds on its first attempt, the handler runs once, and no `worker_lost` is recorded.
 * Runs the process-job use case against the real PostgreSQL store (a private database).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { createPgPool } from '../../src/adapters/postgres/pg-pool.js';
import { PostgresJobStore } from '../../src/adapters/postgres/postgres-job-store.js';
import { createJobProcessor, rootMessage } from '../../src/application/process-job.use-case.js';
import type { HandlerRegistry, JobHandler } from '../../src/ports/job-handler.port.js';
import { SILENT_LOGGER, type Logger } from '../../src/ports/logger.port.js';
import { NOOP_METRICS } from '../../src/ports/metrics.port.js';
import { waitFor } from '../support/faults/net.js';
import { PrivateDatabase } from '../support/faults/private-postgres.js';

let db: PrivateDatabase;
let pool: pg.Pool;
let store: PostgresJobStore;

describe('a failing success write is retried, not re-run', () => {
  beforeAll(async () => {
    db = await PrivateDatabase.create();
    await migrate(db.url, db.schema, SILENT_LOGGER);
    pool = createPgPool({ connectionString: db.url, schema: db.schema, max: 2 });
    pool.on('error', () => undefined); // idle clients of the terminated backend
    store = new PostgresJobStore(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('backend terminated during the success write: one attempt, one run, the error logged', async () => {
    const id = randomUUID();
    await store.insert({
      id,
      clientId: 'c',
      idempotencyKey: id,
      requestHash: 'h',
      type: 't.hold',
      payload: {},
      priority: 0,
      runAt: new Date(),
      maxAttempts: 3,
      mode: 'pooled',
      queue: 'default',
      requestId: null,
    });
    // The handler's last act: another session locks the job row, so the success write waits on it.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    let runs = 0;
    const hold: JobHandler = {
      type: 't.hold',
      parsePayload: (input) => ({ ok: true, value: input }),
      run: async () => {
        runs++;
        await locker.query('BEGIN');
        await locker.query(`SELECT 1 FROM ${db.schema}.jobs WHERE id = $1 FOR UPDATE`, [id]);
        return { ok: true };
      },
    };
    const handlers: HandlerRegistry = { get: (t) => (t === 't.hold' ? hold : undefined), types: () => [] };
    const warnings: { msg: string; err: string }[] = [];
    const logger: Logger = {
      ...SILENT_LOGGER,
      child: () => logger,
      warn: (o, msg) => warnings.push({ msg: msg ?? '', err: rootMessage(o.err) }),
    };
    const processor = createJobProcessor({
      store,
      handlers,
      catalog: () => ({
        mode: 'pooled',
        queue: 'default',
        timeoutSeconds: 30,
        maxAttempts: 3,
        submittable: true,
        parsePayload: (input: unknown) => ({ ok: true as const, value: input }),
      }),
      retryPolicy: { baseDelayMs: 100, maxDelayMs: 1000 },
      random: () => 0.5,
      clock: { now: () => new Date() },
      logger,
      metrics: NOOP_METRICS,
      workerId: 'test-worker',
      writeRetry: { tries: 4, baseDelayMs: 100, maxDelayMs: 500 },
    });
    const outcome = processor.process({
      jobId: id,
      kind: 'run',
      attempt: 0,
      queue: 'default',
      requestId: null,
    });
    // The worker's write waits on the row lock: terminate its backend, then let go of the lock.
    const terminated = await waitFor(
      async () => {
        const rows = await db.query<{ t: boolean }>(
          `SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows.some((r) => r.t);
      },
      { timeoutMs: 15_000, intervalMs: 50, message: 'the success write waits on the row lock' },
    );
    expect(terminated).toBeGreaterThanOrEqual(0);
    await locker.query('ROLLBACK');
    await locker.end();

    expect(await outcome).toEqual({ action: 'ack', reason: 'succeeded' });
    expect(runs, 'the handler ran once').toBe(1);
    const [job] = await db.query<{ state: string; attempts: number; error: unknown }>(
      'SELECT state, attempts, error FROM jobs WHERE id = $1',
      [id],
    );
    expect(job).toMatchObject({ state: 'succeeded', attempts: 1, error: null });
    const events = await db.query<{ reason: string }>(
      'SELECT reason FROM job_events WHERE job_id = $1 ORDER BY id',
      [id],
    );
    expect(events.map((e) => e.reason)).toEqual(['submitted', 'attempt_started', 'handler_succeeded']);
    expect(warnings.filter((w) => w.msg === 'store write failed; retrying').map((w) => w.err)).toEqual([
      expect.stringMatching(/terminat/i),
    ]);
  });
});
