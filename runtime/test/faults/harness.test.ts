/**
 * The fault injectors and the load driver are test code the guarantees rest on, so they are tested
 * too: each fault must really happen (keys gone, connections dead, backends terminated) and must
 * hit only our own redis-server / database.
 */
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATES, TERMINAL_STATES as DOMAIN_TERMINAL, nextStates } from '../../src/domain/job-state.js';
import { ALLOWED_TRANSITIONS, TERMINAL_STATES, checkInvariants } from '../support/faults/invariants.js';
import { LoadDriver, percentile } from '../support/faults/load.js';
import { freePort } from '../support/faults/net.js';
import { ADMIN_URL, PrivateDatabase } from '../support/faults/private-postgres.js';
import { PrivateRedis } from '../support/faults/private-redis.js';

describe('PrivateRedis', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('runs on its own port with noeviction and comes back empty after restartEmpty()', async () => {
    expect(redis.port).not.toBe(6379);
    expect(await redis.cli('CONFIG', 'GET', 'maxmemory-policy')).toContain('noeviction');
    await redis.cli('SET', 'k', 'v');
    expect(await redis.cli('DBSIZE')).toBe('1');
    const oldPid = redis.pid;
    await redis.restartEmpty();
    expect(redis.pid).not.toBe(oldPid);
    expect(await redis.cli('DBSIZE')).toBe('0');
  });

  it('killClients() drops a connected client, which reconnects', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      await client.ping();
      let closed = 0;
      client.on('close', () => closed++);
      expect(await redis.killClients()).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(closed).toBeGreaterThanOrEqual(1);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('pause() freezes the server until resume()', async () => {
    redis.pause();
    try {
      expect(await redis.ping()).toBe(false);
    } finally {
      redis.resume();
    }
    expect(await redis.ping()).toBe(true);
  }, 30_000);
});

describe('PrivateDatabase', () => {
  let db: PrivateDatabase;
  beforeAll(async () => {
    db = await PrivateDatabase.create();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('terminateBackends() kills connections to its own database only', async () => {
    const mine = new pg.Client({ connectionString: db.url });
    const other = new pg.Client({
      connectionString: ADMIN_URL,
      application_name: 'jobplane-faults-bystander',
    });
    await Promise.all([mine.connect(), other.connect()]);
    const errors: Error[] = [];
    mine.on('error', (e) => errors.push(e));
    try {
      const app = await mine.query<{ a: string }>('SELECT current_setting($1) AS a', ['application_name']);
      expect(app.rows[0]?.a).toBe(`jobplane-${db.name}`);
      expect(await db.terminateBackends()).toBeGreaterThanOrEqual(1);
      await expect(mine.query('SELECT 1')).rejects.toThrow();
      expect((await other.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    } finally {
      await Promise.allSettled([mine.end(), other.end()]);
    }
  });

  it('drop() removes the database even with live connections', async () => {
    const extra = await PrivateDatabase.create();
    const c = new pg.Client({ connectionString: extra.url });
    await c.connect();
    c.on('error', () => undefined);
    await extra.drop();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [extra.name]);
    await admin.end();
    await c.end().catch(() => undefined);
    expect(r.rowCount).toBe(0);
  });
});

describe('LoadDriver', () => {
  let server: Server;
  let url: string;
  const seen = new Map<string, number>();
  const rows = new Map<string, string>();
  beforeAll(async () => {
    let n = 0;
    // A fake API: every 3rd request commits and then dies before answering; every 5th answers 503.
    server = createServer((req, res) => {
      const key = String(req.headers['idempotency-key']);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      n++;
      req.resume();
      req.on('end', () => {
        if (n % 5 === 0) {
          res.writeHead(503, { 'content-type': 'application/problem+json' }).end('{}');
          return;
        }
        if (!rows.has(key)) rows.set(key, `job-${rows.size + 1}`);
        if (n % 3 === 0) {
          req.socket.destroy();
          return;
        }
        res
          .writeHead(202, { 'content-type': 'application/json' })
          .end(JSON.stringify({ job: { id: rows.get(key) } }));
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('retries the same key until answered, so accepted ids equal committed rows exactly', async () => {
    const driver = new LoadDriver({
      baseUrl: url,
      apiKey: 'k',
      ratePerSec: 200,
      body: (i) => ({ type: 'demo.sleep', payload: { durationMs: i } }),
    });
    driver.start();
    await new Promise((r) => setTimeout(r, 500));
    await driver.stop();
    expect(driver.submittedCount).toBeGreaterThanOrEqual(60);
    expect(driver.accepted.size).toBe(driver.submittedCount);
    expect(driver.unresolved).toEqual([]);
    expect(driver.networkErrors + (driver.statusCounts.get(503) ?? 0)).toBeGreaterThan(0);
    expect(new Set(driver.acceptedIds())).toEqual(new Set(rows.values()));
    expect(percentile(driver.latenciesMs, 50)).toBeGreaterThan(0);
  });
});

describe('invariant checker', () => {
  it("restates exactly the domain's state machine (so a change to either is noticed)", () => {
    for (const state of JOB_STATES) {
      expect([...(ALLOWED_TRANSITIONS[state] ?? [])].sort(), state).toEqual([...nextStates(state)].sort());
    }
    expect(
      Object.keys(ALLOWED_TRANSITIONS)
        .filter((s) => s !== '')
        .sort(),
    ).toEqual([...JOB_STATES].sort());
    expect([...TERMINAL_STATES].sort()).toEqual([...DOMAIN_TERMINAL].sort());
  });
});

describe('checkInvariants', () => {
  let db: PrivateDatabase;
  const ids = {
    ok: '00000000-0000-4000-8000-000000000001',
    twice: '00000000-0000-4000-8000-000000000002',
    jump: '00000000-0000-4000-8000-000000000003',
    stuck: '00000000-0000-4000-8000-000000000004',
    takenOver: '00000000-0000-4000-8000-000000000005',
    lost: '00000000-0000-4000-8000-000000000006',
  };
  beforeAll(async () => {
    db = await PrivateDatabase.create();
    await db.withClient(async (c) => {
      await c.query(`CREATE SCHEMA ${db.schema}; SET search_path TO ${db.schema}`);
      await c.query(`CREATE TABLE jobs (id uuid PRIMARY KEY, state text NOT NULL)`);
      await c.query(`CREATE TABLE job_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job_id uuid, from_state text,
                     to_state text, attempt int, reason text, details jsonb, create_time timestamptz DEFAULT now())`);
      const ev = (id: string, from: string | null, to: string, reason: string, details: unknown = null) =>
        c.query(
          `INSERT INTO job_events (job_id, from_state, to_state, attempt, reason, details) VALUES ($1,$2,$3,1,$4,$5)`,
          [id, from, to, reason, details],
        );
      await c.query(
        `INSERT INTO jobs VALUES ($1,'succeeded'),($2,'dead_lettered'),($3,'succeeded'),($4,'running'),($5,'succeeded')`,
        [ids.ok, ids.twice, ids.jump, ids.stuck, ids.takenOver],
      );
      for (const [id, from, to, reason, details] of [
        [ids.ok, null, 'queued', 'submitted'],
        [ids.ok, 'queued', 'running', 'attempt_started'],
        [ids.ok, 'running', 'succeeded', 'handler_succeeded'],
        [ids.twice, null, 'queued', 'submitted'],
        [ids.twice, 'queued', 'running', 'attempt_started'],
        [ids.twice, 'running', 'succeeded', 'handler_succeeded'],
        [ids.twice, 'running', 'failed', 'attempt_failed'],
        [ids.twice, 'failed', 'dead_lettered', 'attempts_exhausted'],
        [ids.jump, null, 'queued', 'submitted'],
        [ids.jump, 'queued', 'succeeded', 'handler_succeeded'],
        [ids.stuck, null, 'queued', 'submitted'],
        [ids.stuck, 'queued', 'running', 'attempt_started'],
        [ids.takenOver, null, 'queued', 'submitted'],
        [ids.takenOver, 'queued', 'running', 'attempt_started'],
        [ids.takenOver, 'running', 'failed', 'worker_lost'],
        [ids.takenOver, 'failed', 'queued', 'retry_scheduled'],
        [ids.takenOver, 'queued', 'running', 'attempt_started'],
        [ids.takenOver, 'running', 'failed', 'attempt_failed', { code: 'WORKER.SHUTDOWN' }],
        [ids.takenOver, 'failed', 'queued', 'retry_scheduled'],
        [ids.takenOver, 'queued', 'running', 'attempt_started'],
        [ids.takenOver, 'running', 'succeeded', 'handler_succeeded'],
      ] as const) {
        await ev(id, from, to, reason, details ?? null);
      }
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('flags lost jobs, open jobs, illegal transitions and double terminal states, and counts re-runs', async () => {
    const r = await checkInvariants(db, Object.values(ids));
    expect(r.lost).toEqual([ids.lost]);
    expect(r.nonTerminal).toEqual([{ id: ids.stuck, state: 'running' }]);
    expect(r.twoTerminal).toEqual([ids.twice]);
    expect(r.illegalTransitions).toEqual(
      expect.arrayContaining([
        { jobId: ids.jump, from: 'queued', to: 'succeeded' },
        { jobId: ids.twice, from: 'succeeded≠running', to: 'failed' },
      ]),
    );
    expect(r.rowEventMismatch).toEqual([]);
    expect(r.duplicateExecutions).toBe(2);
    expect(r.jobsExecutedMoreThanOnce).toBe(1);
    expect(r.rows).toBe(5);
    expect(r.terminal).toBe(4);
  });
});
