/**
 * Nothing accepted is lost when processes crash and stores misbehave under steady load.
 * One private installation (api + relay + 2 workers) takes a fixed rate of `demo.sleep` jobs while
 * each test injects one kind of fault; then the load stops, the queues drain and the invariants are
 * checked over SQL for EVERY job accepted so far (so a later fault cannot hide an earlier loss).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultCluster } from '../support/faults/cluster.js';
import {
  affectedRecoveryMs,
  affectedRestartMs,
  checkInvariants,
  firstStartAfter,
  runningOnWorker,
  summarize,
  waitDrained,
} from '../support/faults/invariants.js';
import { LoadDriver } from '../support/faults/load.js';
import { waitFor } from '../support/faults/net.js';
import { byProfile } from '../support/faults/profile.js';
import { NO_VIOLATIONS, recordFigure, violations } from '../support/faults/report.js';
import { seededRandom } from '../support/faults/seed.js';

const RATE = byProfile(12, 25);
const SUITE = 'crash-recovery';
/** Which worker is killed and when: replay a failure with the printed FAULTS_SEED. */
const random = seededRandom(SUITE);
/** Drain deadline: job time + backoff + lock + stall + reconcile, with room for a busy box. */
const DRAIN_MS = 90_000;

let cluster: FaultCluster;
const allAccepted = new Set<string>();
let unresolved = 0;
let dupBefore = 0;

/** Deterministic mixed workload: 100–1,300 ms, 10 % failing attempts (seeded), 5 attempts. */
function body(i: number) {
  return {
    type: 'demo.sleep',
    payload: { durationMs: 100 + ((i * 7919) % 1200), failureRate: 0.1, seed: i },
    maxAttempts: 5,
  };
}

/**
 * Jobs the reconciler had to re-publish since `t` (from the relay's log). The outbox alone must
 * deliver every accepted job across API and relay crashes; the reconciler is for Redis data loss.
 */
function republishedSince(t: number): number {
  return (cluster.relay?.records() ?? [])
    .filter((r) => r.msg === 'reconciler repaired the queue' && Date.parse(String(r.time)) >= t)
    .reduce((n, r) => n + Number(r.republished ?? 0), 0);
}

function newLoad(): LoadDriver {
  return new LoadDriver({
    baseUrl: cluster.apiUrl,
    apiKey: cluster.apiKey,
    ratePerSec: RATE,
    body,
    retryForMs: 60_000,
  });
}

type Recovery = () => Promise<(number | undefined)[]>;

/**
 * Runs load for `beforeMs`, calls `inject` (which returns the fault times and how to measure the
 * recovery once drained), keeps load for `afterMs`, drains and checks every invariant over all
 * jobs accepted so far.
 */
async function underLoad(
  fault: string,
  inject: (load: LoadDriver) => Promise<{
    faultTimes: number[];
    recovery?: Recovery;
    notes?: () => Promise<string>;
    after?: () => void;
  }>,
  { beforeMs = 1000, afterMs = 2500 } = {},
): Promise<void> {
  const load = newLoad();
  load.start();
  await sleep(beforeMs);
  const { faultTimes, recovery, notes, after } = await inject(load);
  await sleep(afterMs);
  await load.stop();
  for (const id of load.acceptedIds()) allAccepted.add(id);
  unresolved += load.unresolved.length;
  expect(load.rejected, 'valid submissions must never be rejected').toEqual([]);
  expect(load.accepted.size, 'the load must have been accepted').toBeGreaterThan(0);

  const drainedIn = await waitDrained(cluster.db, DRAIN_MS);
  const report = await checkInvariants(cluster.db, [...allAccepted]);
  console.log(`[faults] ${fault}: ${summarize(report)} drainedIn=${drainedIn}ms`);
  expect(drainedIn, `every job terminal within ${DRAIN_MS} ms`).toBeGreaterThanOrEqual(0);
  expect(violations(report, unresolved)).toEqual(NO_VIOLATIONS);
  after?.();

  // default recovery: how long until a job submitted after the fault started running
  const measured = recovery
    ? await recovery()
    : await Promise.all(
        faultTimes.map((t) =>
          firstStartAfter(
            cluster.db,
            [...load.accepted.values()].filter((a) => a.startedAt >= t).map((a) => a.jobId),
            t,
          ),
        ),
      );
  recordFigure({
    suite: SUITE,
    fault,
    injections: faultTimes.length,
    accepted: load.accepted.size,
    lost: report.lost.length,
    duplicateExecutions: report.duplicateExecutions - dupBefore,
    recoveryMs: measured.map((m) => m ?? -1),
    notes: notes ? await notes() : 'recovery = until the first job submitted after the fault started running',
  });
  dupBefore = report.duplicateExecutions;
}

describe('crash recovery under load', () => {
  beforeAll(async () => {
    cluster = await FaultCluster.start({ workers: 2 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  function dumpOnFailure(): void {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(60));
    });
  }

  it('kill -9 of workers at random moments, repeatedly: every accepted job still ends terminal', async () => {
    dumpOnFailure();
    const kills = byProfile(3, 10);
    await underLoad('kill -9 worker (random, repeated)', async () => {
      const times: number[] = [];
      const hit: string[][] = [];
      for (let k = 0; k < kills; k++) {
        await sleep(300 + random.int(1500));
        const w = cluster.workers[random.int(cluster.workers.length)]!;
        times.push(Date.now()); // before the snapshot: a job finishing in between still counts
        hit.push(await runningOnWorker(cluster.db, w.pid!));
        await w.kill9();
        await sleep(random.int(1000));
        w.start();
        await w.waitHealthy();
      }
      // recovery = until every job the killed worker was running is terminal again
      return {
        faultTimes: times,
        recovery: () => Promise.all(times.map((t, i) => affectedRestartMs(cluster.db, hit[i] ?? [], t))),
        notes: async () => {
          const done = await Promise.all(
            times.map((t, i) => affectedRecoveryMs(cluster.db, hit[i] ?? [], t)),
          );
          return `orphaned jobs per kill ${hit.map((h) => h.length).join('/')}; recovery = until every orphaned job was taken over; until they finished: ${done.join('/')} ms`;
        },
      };
    });
  });

  it('kill -9 of the relay: outbox rows published after restart', async () => {
    dumpOnFailure();
    await underLoad('kill -9 relay', async () => {
      const relay = cluster.relay!;
      const t = Date.now();
      await relay.kill9();
      await sleep(1500);
      relay.start();
      await relay.waitHealthy();
      return {
        faultTimes: [t],
        after: () =>
          expect(republishedSince(t), 'outbox delivered everything; nothing left for the reconciler').toBe(0),
      };
    });
  });

  it('kill -9 of the API mid-traffic: every 2xx has a row, clients retrying the same key get the same job', async () => {
    dumpOnFailure();
    await underLoad('kill -9 api', async (load) => {
      const t = Date.now();
      await cluster.api.kill9();
      await sleep(500);
      cluster.api.start();
      await cluster.api.waitHealthy();
      await sleep(500);
      // recovery = until a client got its first 2xx after the crash
      const first = load.firstAcceptedAfter(t);
      return {
        faultTimes: [t],
        recovery: async () => [first === undefined ? undefined : first - t],
        notes: async () =>
          `recovery = until the first 2xx after the crash; ${load.networkErrors} network errors retried with the same key`,
        after: () =>
          expect(republishedSince(t), 'outbox delivered everything; nothing left for the reconciler').toBe(0),
      };
    });
  });

  it('Redis restarted empty (SHUTDOWN NOSAVE + start): the reconciler re-enqueues every open job', async () => {
    dumpOnFailure();
    await underLoad(
      'redis SHUTDOWN NOSAVE + restart empty',
      async (load) => {
        // A backlog that lives only in Redis: delayed jobs the relay has already published (their
        // outbox rows are gone). After Redis comes back empty only the reconciler can bring them back.
        const runAt = new Date(Date.now() + 2500).toISOString();
        const delayed = await Promise.all(
          Array.from({ length: 20 }, (_, k) =>
            load.submitNow({ type: 'demo.sleep', payload: { durationMs: 100, seed: k }, runAt }),
          ),
        );
        expect(delayed.every((d) => d !== undefined)).toBe(true);
        await waitFor(
          async () =>
            Number((await cluster.db.query<{ n: string }>('SELECT count(*) AS n FROM outbox'))[0]?.n) === 0,
          {
            timeoutMs: 10_000,
            message: 'the relay published the delayed backlog to Redis',
          },
        );
        const t = Date.now();
        await cluster.redis.restartEmpty(1000);
        return {
          faultTimes: [t],
          after: () =>
            expect(
              republishedSince(t),
              'the reconciler re-published the lost backlog',
            ).toBeGreaterThanOrEqual(20),
        };
      },
      { afterMs: 4000 },
    );
  });

  it('Redis connections killed (CLIENT KILL TYPE normal), repeatedly: processing resumes', async () => {
    dumpOnFailure();
    await underLoad('redis CLIENT KILL TYPE normal (x3)', async () => {
      const times: number[] = [];
      for (let k = 0; k < 3; k++) {
        times.push(Date.now());
        await cluster.redis.killClients();
        await sleep(1000);
      }
      return { faultTimes: times };
    });
  });

  it('PostgreSQL backends terminated (pg_terminate_backend) mid-traffic, repeatedly: no lost or half-written job', async () => {
    dumpOnFailure();
    await underLoad('pg_terminate_backend all runtime backends (x3)', async () => {
      const times: number[] = [];
      for (let k = 0; k < 3; k++) {
        times.push(Date.now());
        await cluster.db.terminateBackends();
        await sleep(1000);
      }
      return { faultTimes: times };
    });
  });

  it('all processes are still alive or were restarted by the test (no crash loop)', () => {
    for (const p of [cluster.api, cluster.relay!, ...cluster.workers]) {
      expect(p.running, `${p.spec.name} running`).toBe(true);
    }
  });
});
