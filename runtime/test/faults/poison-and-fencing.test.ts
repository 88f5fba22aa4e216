/**
 * Two jobs that break the worker process rather than fail politely:
 * - a poison job that crashes its worker every time it runs: it must end dead-lettered after its
 *   attempt budget while the other jobs keep flowing (workers are restarted like a Deployment would);
 * - a job whose worker freezes its event loop longer than the lock: another worker takes it over,
 *   and fencing lets exactly one attempt commit its result.
 * The crash and the freeze are injected by a test-only preload (support/faults/preload/job-triggers.mjs)
 * keyed on the job id, because demo.sleep has no such options and the runtime must not grow test hooks.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FAULT_TIMINGS, FaultCluster } from '../support/faults/cluster.js';
import { checkInvariants, summarize, waitDrained } from '../support/faults/invariants.js';
import { LoadDriver } from '../support/faults/load.js';
import { waitFor } from '../support/faults/net.js';
import { byProfile } from '../support/faults/profile.js';
import { NO_VIOLATIONS, recordFigure, violations } from '../support/faults/report.js';

const PRELOAD = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../support/faults/preload/job-triggers.mjs',
);
const SUITE = 'poison-and-fencing';

let cluster: FaultCluster;
let triggerFile: string;
const allAccepted = new Set<string>();

function setTriggers(t: {
  crash?: string[];
  block?: string[];
  blockMs?: number;
  blockAfterMs?: number;
}): void {
  const tmp = `${triggerFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(t));
  renameSync(tmp, triggerFile);
}

async function submit(
  payload: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await cluster.request(
    'POST',
    '/v1/jobs',
    { type: 'demo.sleep', payload, ...extra },
    { 'idempotency-key': crypto.randomUUID() },
  );
  const text = await res.text();
  expect(res.status, text).toBeLessThan(300);
  const id = (JSON.parse(text) as { job: { id: string } }).job.id;
  allAccepted.add(id);
  return id;
}

async function events(jobId: string) {
  return cluster.db.query<{ from_state: string | null; to_state: string; reason: string; attempt: number }>(
    `SELECT from_state, to_state, reason, attempt FROM job_events WHERE job_id = $1 ORDER BY id`,
    [jobId],
  );
}

async function jobState(jobId: string): Promise<string | undefined> {
  const [r] = await cluster.db.query<{ state: string }>('SELECT state FROM jobs WHERE id = $1', [jobId]);
  return r?.state;
}

describe('poison jobs and frozen workers', () => {
  beforeAll(async () => {
    cluster = await FaultCluster.start({ workers: 0 });
    triggerFile = join(cluster.sup.dir, 'triggers.json');
    setTriggers({});
    for (let i = 0; i < 2; i++) {
      const w = await cluster.addWorker({ FAULTS_TRIGGER_FILE: triggerFile }, ['--import', PRELOAD]);
      w.autoRestartMs = 300;
      await w.waitHealthy();
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a job that crashes its worker every time ends dead-lettered while other jobs keep flowing', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(80));
    });
    const maxAttempts = 2;
    const load = new LoadDriver({
      baseUrl: cluster.apiUrl,
      apiKey: cluster.apiKey,
      ratePerSec: byProfile(8, 15),
      body: (i) => ({ type: 'demo.sleep', payload: { durationMs: 50 + (i % 5) * 50 } }),
    });
    load.start();
    // runAt in the future so the trigger file names the job before any worker can start it
    const poison = await submit(
      { durationMs: 5000 },
      { maxAttempts, runAt: new Date(Date.now() + 1500).toISOString() },
    );
    setTriggers({ crash: [poison] });
    const t0 = Date.now();
    const crashesBefore = cluster.workers.reduce((n, w) => n + w.exits.length, 0);
    await waitFor(async () => (await jobState(poison)) === 'dead_lettered', {
      timeoutMs: 90_000,
      intervalMs: 250,
      message: `poison job ${poison} dead-lettered`,
    });
    const poisonMs = Date.now() - t0;
    await sleep(1000);
    await load.stop();
    for (const id of load.acceptedIds()) allAccepted.add(id);
    const crashes = cluster.workers.reduce((n, w) => n + w.exits.length, 0) - crashesBefore;

    const evs = await events(poison);
    const starts = evs.filter((e) => e.to_state === 'running').length;
    // Exactly one crash per attempt: the delivery that dead-letters the job starts no attempt and
    // must not crash (each extra crash charges the bystanders on that worker one more attempt).
    expect(crashes, 'the poison job crashed a worker on every attempt, and only then').toBe(maxAttempts);
    expect(starts, 'never more attempts than its budget').toBeLessThanOrEqual(maxAttempts);
    expect(evs.at(-1)).toMatchObject({ to_state: 'dead_lettered' });
    expect(evs.filter((e) => e.to_state === 'succeeded')).toEqual([]);

    // the rest of the traffic was processed meanwhile and nothing was lost
    for (const w of cluster.workers) await w.waitHealthy();
    setTriggers({});
    expect(await waitDrained(cluster.db, 60_000)).toBeGreaterThanOrEqual(0);
    const report = await checkInvariants(cluster.db, [...allAccepted]);
    console.log(`[faults] poison: ${summarize(report)} crashes=${crashes} deadLetteredAfter=${poisonMs}ms`);
    expect(violations(report, load.unresolved.length)).toEqual(NO_VIOLATIONS);
    expect(report.byState.succeeded, 'all normal jobs succeeded').toBe(report.rows - 1);
    const [during] = await cluster.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM job_events WHERE to_state = 'succeeded' AND create_time BETWEEN to_timestamp($1 / 1000.0) AND to_timestamp($2 / 1000.0)`,
      [t0, t0 + poisonMs],
    );
    expect(Number(during?.n), 'jobs kept completing while the poison job crashed workers').toBeGreaterThan(0);
    recordFigure({
      suite: SUITE,
      fault: 'poison job (SIGKILLs its worker on every attempt)',
      injections: crashes,
      accepted: load.accepted.size + 1,
      lost: report.lost.length,
      duplicateExecutions: report.duplicateExecutions,
      recoveryMs: [poisonMs],
      notes: `dead-lettered after ${starts} attempts; ${during?.n} other jobs succeeded meanwhile`,
    });
  });

  it('a job that outlives its lock with a blocked event loop commits exactly one result (fencing)', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(80));
    });
    // Attempt A freezes 6 s into an 8 s job for 2 × the lock: the job is taken over by attempt B
    // (~lock + stall check later) while A, once awake, has only ~2 s left and so finishes BEFORE B.
    // Without fencing A's stale result would be the one committed; with it, A is fenced out.
    const blockMs = 2 * FAULT_TIMINGS.LOCK_DURATION_MS;
    const job = await submit({ durationMs: 8000 }, { runAt: new Date(Date.now() + 1500).toISOString() });
    setTriggers({ block: [job], blockMs, blockAfterMs: 6000 });
    const t0 = Date.now();
    await waitFor(async () => (await jobState(job)) === 'succeeded', {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: `job ${job} succeeded`,
    });
    const recoveryMs = Date.now() - t0;
    // the frozen attempt finished before the new one; give its logs a moment to flush
    await sleep(1000);
    const evs = await events(job);
    const logs = cluster.workers.flatMap((w) => w.records());
    const blockedBy = cluster.workers.filter((w) =>
      w.tail(100_000).includes(`blocking the event loop ${blockMs} ms on job ${job}`),
    );
    expect(blockedBy.length, 'exactly one worker froze on the job').toBe(1);
    expect(
      evs.filter((e) => e.to_state === 'succeeded'),
      'exactly one committed result',
    ).toHaveLength(1);
    expect(
      evs.some((e) => e.reason === 'worker_lost'),
      'another worker took the job over',
    ).toBe(true);
    expect(await jobState(job)).toBe('succeeded');
    // the committed result is the one of the attempt holding the token (the newest), never the stale one
    const [row] = await cluster.db.query<{ result_attempt: string; attempts: number }>(
      `SELECT result ->> 'attempt' AS result_attempt, attempts FROM jobs WHERE id = $1`,
      [job],
    );
    const lastStart = evs.filter((e) => e.to_state === 'running').at(-1)?.attempt;
    expect(Number(row?.result_attempt), 'result written by the newest attempt').toBe(row?.attempts);
    expect(
      evs.find((e) => e.to_state === 'succeeded')?.attempt,
      'success recorded for the newest attempt',
    ).toBe(lastStart);
    const fenced = logs.filter((r) => r.jobId === job && /fenced/.test(String(r.msg)));
    expect(fenced.length, 'the stale attempt was fenced out').toBeGreaterThanOrEqual(1);
    const report = await checkInvariants(cluster.db, [...allAccepted]);
    expect(violations(report, 0)).toEqual(NO_VIOLATIONS);
    recordFigure({
      suite: SUITE,
      fault: `event loop blocked ${blockMs} ms (> lock ${FAULT_TIMINGS.LOCK_DURATION_MS} ms)`,
      injections: 1,
      accepted: 1,
      lost: report.lost.length,
      duplicateExecutions: evs.filter((e) => e.reason === 'worker_lost').length,
      recoveryMs: [recoveryMs],
      notes: `${evs.filter((e) => e.to_state === 'succeeded').length} committed result; stale attempt fenced`,
    });
  });
});
