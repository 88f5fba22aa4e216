/**
 * A dependency that stops answering (process frozen, connections open, nothing answers) must not
 * stop the API: every request answers within a bounded time, submissions keep answering 202
 * through the outbox (or 503), readiness answers 503 and says why, and nothing accepted is lost
 * once the dependency answers again.
 * - Redis frozen with SIGSTOP: the rate limiter's command times out and it fails open; PostgreSQL
 *   serves every /v1 call; /readyz names Redis.
 * - PostgreSQL "frozen" for the API: a session holds an exclusive lock on `jobs`, so the API's
 *   statements wait until its statement_timeout and its pool runs dry: 503 SERVICE.UNAVAILABLE
 *   (never a 500, never a hang) and /readyz says "pool exhausted", not "no answer".
 * Bounds are generous (a busy box): the point is an answer instead of a hang until the dependency
 * comes back (45 s observed before the timeouts existed).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultCluster } from '../support/faults/cluster.js';
import { checkInvariants, summarize, waitDrained } from '../support/faults/invariants.js';
import { httpStatus, waitFor } from '../support/faults/net.js';
import { NO_VIOLATIONS, recordFigure, violations } from '../support/faults/report.js';

const SUITE = 'frozen-dependencies';
/** No request may take longer than this while a dependency is frozen (it is frozen for longer). */
const ANSWER_BOUND_MS = 8000;
const STATEMENT_TIMEOUT_MS = 2000;

let cluster: FaultCluster;
const accepted = new Set<string>();

interface Timed {
  readonly status: number;
  readonly ms: number;
  readonly body: Record<string, unknown>;
}

/** One request with the answer bound as its abort deadline; status 0 = no answer within it. */
async function timed(method: string, path: string, body?: unknown, auth = true): Promise<Timed> {
  const t = Date.now();
  try {
    const res = await fetch(`${cluster.apiUrl}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${cluster.apiKey}` } : {}),
        ...(body === undefined
          ? {}
          : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: res.status, ms: Date.now() - t, body: parsed };
  } catch {
    return { status: 0, ms: Date.now() - t, body: {} };
  }
}

const job = { type: 'demo.sleep', payload: { durationMs: 10 } };

describe('frozen dependencies', () => {
  beforeAll(async () => {
    cluster = await FaultCluster.start({
      workers: 1,
      apiEnv: { DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS), DATABASE_POOL_MAX: '4' },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('Redis frozen (SIGSTOP): /v1 answers, submissions 202 via the outbox, /readyz 503 naming Redis', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(40));
    });
    const before = await timed('POST', '/v1/jobs', job);
    expect(before.status).toBe(202);
    accepted.add((before.body.job as { id: string }).id);
    cluster.redis.pause();
    const frozenAt = Date.now();
    let answers: Timed[] = [];
    let ready: Timed;
    try {
      // the first commands after the freeze are the ones that used to hang
      answers = await Promise.all([
        timed('POST', '/v1/jobs', job),
        timed('POST', '/v1/jobs', job),
        timed('GET', `/v1/jobs/${(before.body.job as { id: string }).id}`),
        timed('GET', '/v1/jobs?pageSize=5'),
      ]);
      ready = await timed('GET', '/readyz', undefined, false);
      const live = await httpStatus(`${cluster.apiUrl}/healthz`, ANSWER_BOUND_MS);
      expect(live, 'liveness is not readiness').toBe(200);
      const workerReady = await httpStatus(
        cluster.workers[0]!.spec.healthUrl!.replace(/\/healthz$/, '/readyz'),
        ANSWER_BOUND_MS,
      );
      expect(workerReady, 'the worker is not ready either').toBe(503);
      // Redis stays frozen well past every bound above
      expect(Date.now() - frozenAt).toBeLessThan(4 * ANSWER_BOUND_MS);
    } finally {
      cluster.redis.resume();
    }
    for (const a of answers) expect(a.status, JSON.stringify(a)).not.toBe(0);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 200, 200]);
    for (const a of answers.slice(0, 2)) accepted.add((a.body.job as { id: string }).id);
    expect(ready.status, JSON.stringify(ready)).toBe(503);
    expect(String(ready.body.detail)).toMatch(/redis: no answer within \d+ ms/);
    const worstMs = Math.max(...answers.map((a) => a.ms));
    console.log(
      `[faults] frozen redis: /v1 answered in ${answers.map((a) => a.ms).join(', ')} ms, /readyz 503 in ${ready.ms} ms`,
    );
    // once Redis answers again, everything accepted meanwhile runs
    await waitFor(async () => (await httpStatus(`${cluster.apiUrl}/readyz`, 3000)) === 200, {
      timeoutMs: 30_000,
      message: 'api ready again after SIGCONT',
    });
    expect(await waitDrained(cluster.db, 60_000)).toBeGreaterThanOrEqual(0);
    const report = await checkInvariants(cluster.db, [...accepted]);
    console.log(`[faults] frozen redis: ${summarize(report)}`);
    expect(violations(report, 0)).toEqual(NO_VIOLATIONS);
    expect(report.byState.succeeded).toBe(accepted.size);
    recordFigure({
      suite: SUITE,
      fault: 'Redis frozen (SIGSTOP)',
      injections: 1,
      accepted: 2,
      lost: report.lost.length,
      duplicateExecutions: report.duplicateExecutions,
      recoveryMs: [worstMs, ready.ms],
      notes: `slowest /v1 answer ${worstMs} ms (submissions 202 via the outbox); /readyz 503 in ${ready.ms} ms`,
    });
  });

  it('PostgreSQL frozen for the API (exclusive lock on jobs): 503 within the statement timeout, /readyz "pool exhausted"', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(40));
    });
    const locker = new pg.Client({ connectionString: cluster.db.url });
    await locker.connect();
    let answers: Timed[] = [];
    let ready: Timed;
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${cluster.db.schema}.jobs IN ACCESS EXCLUSIVE MODE`);
      // more concurrent requests than the API has connections (4): some wait on the lock, the
      // rest wait for a connection
      const requests = Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0 ? timed('POST', '/v1/jobs', job) : timed('GET', '/v1/jobs?pageSize=5'),
      );
      await new Promise((r) => setTimeout(r, 300));
      ready = await timed('GET', '/readyz', undefined, false);
      answers = await Promise.all(requests);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    for (const a of answers) expect(a.status, JSON.stringify(a)).not.toBe(0);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]));
    for (const a of answers) expect(a.body.code).toBe('SERVICE.UNAVAILABLE');
    expect(ready.status, JSON.stringify(ready)).toBe(503);
    expect(String(ready.body.detail)).toContain('postgres: pool exhausted');
    const worstMs = Math.max(...answers.map((a) => a.ms));
    console.log(
      `[faults] frozen postgres: /v1 answered 503 in ${answers.map((a) => a.ms).join(', ')} ms; /readyz: ${String(ready.body.detail)}`,
    );
    // the lock is gone: the API serves again
    await waitFor(async () => (await httpStatus(`${cluster.apiUrl}/readyz`, 3000)) === 200, {
      timeoutMs: 30_000,
      message: 'api ready again after the lock',
    });
    const after = await timed('POST', '/v1/jobs', job);
    expect(after.status).toBe(202);
    accepted.add((after.body.job as { id: string }).id);
    expect(await waitDrained(cluster.db, 60_000)).toBeGreaterThanOrEqual(0);
    const report = await checkInvariants(cluster.db, [...accepted]);
    expect(violations(report, 0)).toEqual(NO_VIOLATIONS);
    recordFigure({
      suite: SUITE,
      fault: 'PostgreSQL lock on jobs (API pool exhausted)',
      injections: 1,
      accepted: 1,
      lost: report.lost.length,
      duplicateExecutions: report.duplicateExecutions,
      recoveryMs: [worstMs],
      notes: `8 concurrent requests on a pool of 4: all 503 SERVICE.UNAVAILABLE, slowest ${worstMs} ms (statement_timeout ${STATEMENT_TIMEOUT_MS} ms); /readyz named the exhausted pool`,
    });
  });
});
