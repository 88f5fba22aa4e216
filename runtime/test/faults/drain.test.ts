/**
 * SIGTERM drains a worker (the drain contract of docs/runtime.md; docs/reliability.md, fault
 * table): it stops fetching, lets in-flight jobs finish, exits 0; jobs longer
 * than the budget are handed back at the budget and re-run once elsewhere, never failed; and a
 * second signal during the drain loses nothing either.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultCluster } from '../support/faults/cluster.js';
import { checkInvariants, summarize, waitDrained } from '../support/faults/invariants.js';
import { waitFor } from '../support/faults/net.js';
import { NO_VIOLATIONS, recordFigure, violations } from '../support/faults/report.js';
import type { ManagedProcess } from '../support/faults/supervisor.js';

const BUDGET_S = 4;
const SUITE = 'drain';

let cluster: FaultCluster;
const allAccepted = new Set<string>();

async function submit(durationMs: number): Promise<string> {
  const res = await cluster.request(
    'POST',
    '/v1/jobs',
    { type: 'demo.sleep', payload: { durationMs } },
    { 'idempotency-key': crypto.randomUUID() },
  );
  const text = await res.text();
  expect(res.status, text).toBe(202);
  const id = (JSON.parse(text) as { job: { id: string } }).job.id;
  allAccepted.add(id);
  return id;
}

/** Attempt starts per job, with the worker (hostname:pid) that made each. */
async function starts(ids: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await cluster.db.query<{ job_id: string; worker: string }>(
    `SELECT job_id::text, details ->> 'worker' AS worker FROM job_events
      WHERE to_state = 'running' AND job_id::text = ANY($1) ORDER BY id`,
    [ids],
  );
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const r of rows) out.get(r.job_id)?.push(r.worker);
  return out;
}

async function runningOn(w: ManagedProcess, ids: readonly string[]): Promise<number> {
  const [r] = await cluster.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM jobs WHERE state = 'running' AND worker LIKE $1 AND id::text = ANY($2)`,
    [`%:${w.pid}`, ids],
  );
  return Number(r?.n ?? 0);
}

/** Ids among `ids` running on worker `w` right now. */
async function idsOn(w: ManagedProcess, ids: readonly string[]): Promise<string[]> {
  const rows = await cluster.db.query<{ id: string }>(
    `SELECT id::text AS id FROM jobs WHERE state = 'running' AND worker LIKE $1 AND id::text = ANY($2)`,
    [`%:${w.pid}`, ids],
  );
  return rows.map((r) => r.id);
}

async function states(ids: readonly string[]): Promise<string[]> {
  const rows = await cluster.db.query<{ state: string }>(`SELECT state FROM jobs WHERE id::text = ANY($1)`, [
    ids,
  ]);
  return rows.map((r) => r.state);
}

async function shutdownEvents(ids: readonly string[]): Promise<number> {
  const [r] = await cluster.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM job_events WHERE job_id::text = ANY($1) AND from_state = 'running' AND to_state = 'failed'`,
    [ids],
  );
  return Number(r?.n ?? 0);
}

describe('worker drain on SIGTERM', () => {
  let a: ManagedProcess;
  let b: ManagedProcess;
  beforeAll(async () => {
    cluster = await FaultCluster.start({
      workers: 0,
      workerEnv: { DRAIN_TIMEOUT_SECONDS: String(BUDGET_S), WORKER_CONCURRENCY: '3' },
    });
    a = await cluster.addWorker();
    b = await cluster.addWorker();
    await Promise.all([a.waitHealthy(), b.waitHealthy()]);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('finishes in-flight jobs, fetches nothing new, and exits 0 within the budget', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(60));
    });
    const batch = await Promise.all([submit(3000), submit(3000), submit(3000), submit(3000)]);
    await waitFor(async () => (await runningOn(a, batch)) >= 1, {
      timeoutMs: 20_000,
      message: 'a job running on worker A',
    });
    const aPid = a.pid;
    const inflight = await idsOn(a, batch);
    // the drain must really have work in flight, or this test proves nothing
    expect(inflight.length, 'jobs running on A when SIGTERM is sent').toBeGreaterThanOrEqual(1);
    const t = Date.now();
    a.signal('SIGTERM');
    await sleep(300);
    const later = await Promise.all([submit(100), submit(100), submit(100)]);
    const exit = await a.waitExit((BUDGET_S + 5) * 1000);
    const exitMs = Date.now() - t;
    expect(exit, 'worker A exited').toBeDefined();
    expect(exit?.code, 'exit code 0').toBe(0);
    expect(exitMs, 'exited before the budget ran out').toBeLessThan(BUDGET_S * 1000);
    expect(await waitDrained(cluster.db, 30_000)).toBeGreaterThanOrEqual(0);
    const s = await starts([...inflight, ...later]);
    for (const id of inflight)
      expect(s.get(id), `in-flight job ${id} ran once, on A`).toEqual([
        expect.stringMatching(new RegExp(`:${aPid}$`)),
      ]);
    for (const id of later) {
      expect(s.get(id), `job ${id} submitted after SIGTERM ran once`).toHaveLength(1);
      expect(
        s.get(id)?.[0],
        `job ${id} submitted after SIGTERM was not fetched by the draining worker`,
      ).not.toMatch(new RegExp(`:${aPid}$`));
    }
    expect(await shutdownEvents(inflight), 'no in-flight job was interrupted').toBe(0);
    expect(await states([...batch, ...later])).toEqual(Array(7).fill('succeeded'));
    recordFigure({
      suite: SUITE,
      fault: 'SIGTERM worker with in-flight jobs shorter than the budget',
      injections: 1,
      accepted: 7,
      lost: 0,
      duplicateExecutions: 0,
      recoveryMs: [exitMs],
      notes: `exit ${exit?.code} after ${exitMs} ms; ${inflight.length} in-flight jobs finished on the draining worker, none fetched after the signal`,
    });
  });

  it('hands jobs longer than the budget back at the budget: exit 0, re-run once elsewhere, never failed', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(60));
    });
    // A exited in the previous test: bring it back, then catch long jobs running on B
    a.start();
    await a.waitHealthy();
    const batch = await Promise.all([submit(8000), submit(8000), submit(8000)]);
    await waitFor(async () => (await runningOn(b, batch)) >= 1, {
      timeoutMs: 20_000,
      message: 'a long job running on worker B',
    });
    const long = await idsOn(b, batch);
    expect(long.length).toBeGreaterThanOrEqual(1);
    const t = Date.now();
    b.signal('SIGTERM');
    const exit = await b.waitExit((BUDGET_S + 10) * 1000);
    const exitMs = Date.now() - t;
    expect(exit?.code, 'exit code 0 after aborting at the budget').toBe(0);
    expect(exitMs, 'waited for the budget').toBeGreaterThanOrEqual(BUDGET_S * 1000 - 200);
    expect(exitMs, 'did not wait much longer than the budget').toBeLessThan(BUDGET_S * 1000 + 5000);
    expect(await waitDrained(cluster.db, 40_000)).toBeGreaterThanOrEqual(0);
    const s = await starts(long);
    for (const id of long)
      expect(s.get(id), `job ${id} ran exactly twice (B, then elsewhere)`).toHaveLength(2);
    expect(await states(batch)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const [codes] = await cluster.db.query<{ codes: string[] }>(
      `SELECT array_agg(details ->> 'code') AS codes FROM job_events WHERE job_id::text = ANY($1) AND from_state = 'running' AND to_state = 'failed'`,
      [long],
    );
    expect(codes?.codes, 'interrupted as a shutdown, not as a failure').toEqual(
      long.map(() => 'WORKER.SHUTDOWN'),
    );
    const r = await checkInvariants(cluster.db, [...allAccepted]);
    expect(violations(r, 0)).toEqual(NO_VIOLATIONS);
    recordFigure({
      suite: SUITE,
      fault: `SIGTERM worker with jobs longer than the ${BUDGET_S} s budget`,
      injections: 1,
      accepted: 3,
      lost: 0,
      duplicateExecutions: long.length,
      recoveryMs: [exitMs],
      notes: `exit ${exit?.code} after ${exitMs} ms; its ${long.length} in-flight jobs re-ran once on the other worker and succeeded`,
    });
  });

  it('a second SIGTERM at the budget loses nothing: jobs re-run at most once and succeed', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(60));
    });
    b.start();
    await b.waitHealthy();
    const batch = await Promise.all([submit(8000), submit(8000), submit(8000)]);
    await waitFor(async () => (await runningOn(a, batch)) >= 1, {
      timeoutMs: 20_000,
      message: 'a long job running on worker A',
    });
    const long = await idsOn(a, batch);
    expect(long.length, 'jobs running on A when SIGTERM is sent').toBeGreaterThanOrEqual(1);
    const t = Date.now();
    a.signal('SIGTERM');
    await sleep(BUDGET_S * 1000 - 1000);
    a.signal('SIGTERM');
    const exit = await a.waitExit(15_000);
    const exitMs = Date.now() - t;
    expect(exit, 'worker A exited').toBeDefined();
    const drainedIn = await waitDrained(cluster.db, 40_000);
    expect(drainedIn).toBeGreaterThanOrEqual(0);
    const s = await starts(batch);
    for (const id of batch) expect(s.get(id)?.length, `job ${id} ran at most twice`).toBeLessThanOrEqual(2);
    expect(await states(batch)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const r = await checkInvariants(cluster.db, [...allAccepted]);
    console.log(`[faults] drain: ${summarize(r)}`);
    expect(violations(r, 0)).toEqual(NO_VIOLATIONS);
    recordFigure({
      suite: SUITE,
      fault: 'SIGTERM, then a second SIGTERM 1 s before the budget',
      injections: 2,
      accepted: 3,
      lost: 0,
      duplicateExecutions: [...s.values()].reduce((n, w) => n + w.length - 1, 0),
      recoveryMs: [exitMs + drainedIn],
      notes: `${long.length} in flight; worker exit code=${exit?.code} signal=${exit?.signal} after ${exitMs} ms; jobs succeeded`,
    });
  });
});
