/**
 * A short, bounded load run (loopback only) and a memory check over repeated cycles.
 * Figures (latency percentiles, error rate, throughput, RSS/heap per cycle) go to the report file
 * and docs/reliability.md; the only assertions are correctness (nothing lost, no 5xx) and a
 * deliberately generous bound on memory growth — never a timing threshold.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultCluster } from '../support/faults/cluster.js';
import { checkInvariants, summarize, waitDrained } from '../support/faults/invariants.js';
import { LoadDriver, percentile } from '../support/faults/load.js';
import { byProfile } from '../support/faults/profile.js';
import { NO_VIOLATIONS, recordFigure, violations } from '../support/faults/report.js';
import type { ManagedProcess } from '../support/faults/supervisor.js';

let cluster: FaultCluster;
const allAccepted = new Set<string>();
const RATE = byProfile(40, 100);
const SECONDS = byProfile(6, 60);
const BURST_SECONDS = byProfile(4, 30);
/** The box is shared: every figure carries the 1-minute load average it was measured under. */
const load1 = () => `loadavg1=${loadavg()[0]!.toFixed(1)}`;

function rssMb(p: ManagedProcess): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function heapMb(url: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(text);
  return m ? Number(m[1]) / 1024 / 1024 : Number.NaN;
}

async function drainAndCheck(): Promise<void> {
  expect(await waitDrained(cluster.db, 120_000), 'drained').toBeGreaterThanOrEqual(0);
  const r = await checkInvariants(cluster.db, [...allAccepted]);
  console.log(`[faults] load: ${summarize(r)}`);
  expect(violations(r, 0)).toEqual(NO_VIOLATIONS);
}

describe('load and memory', () => {
  beforeAll(async () => {
    cluster = await FaultCluster.start({
      workers: 2,
      env: { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '10000000', WORKER_CONCURRENCY: '20' },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it(`fixed-rate submit load (${RATE}/s for ${SECONDS}s): latency percentiles and error rate, nothing lost`, async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(40));
    });
    const load = new LoadDriver({
      baseUrl: cluster.apiUrl,
      apiKey: cluster.apiKey,
      ratePerSec: RATE,
      body: (i) => ({ type: 'demo.sleep', payload: { durationMs: 20 + (i % 10) * 10 } }),
    });
    const t0 = Date.now();
    load.start();
    await sleep(SECONDS * 1000);
    await load.stop();
    const elapsed = (Date.now() - t0) / 1000;
    for (const id of load.acceptedIds()) allAccepted.add(id);
    const answers = [...load.statusCounts.values()].reduce((a, b) => a + b, 0);
    const errors = answers - (load.statusCounts.get(202) ?? 0) + load.networkErrors;
    expect(load.rejected).toEqual([]);
    expect(load.accepted.size).toBe(load.submittedCount);
    await drainAndCheck();
    const lat = load.latenciesMs;
    recordFigure({
      suite: 'load',
      fault: `none: POST /v1/jobs at ${RATE}/s for ${SECONDS}s (fixed rate, keep-alive)`,
      injections: 0,
      accepted: load.accepted.size,
      lost: 0,
      duplicateExecutions: 0,
      recoveryMs: [],
      notes: `p50=${percentile(lat, 50).toFixed(1)}ms p95=${percentile(lat, 95).toFixed(1)}ms p99=${percentile(lat, 99).toFixed(1)}ms max=${percentile(lat, 100).toFixed(1)}ms errors=${errors}/${answers + load.networkErrors} (${((100 * errors) / Math.max(1, answers)).toFixed(2)}%) achieved=${(load.submittedCount / elapsed).toFixed(1)}/s skippedTicks=${load.skippedTicks} statuses=${JSON.stringify(Object.fromEntries(load.statusCounts))} networkErrors=${load.networkErrors} ${load1()}`,
    });
  });

  it('closed-loop burst with autocannon (10 connections): throughput and tail latency, nothing lost', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(40));
    });
    const before = await cluster.db.query<{ n: string }>('SELECT count(*) AS n FROM jobs');
    const result = await autocannon({
      url: cluster.apiUrl,
      connections: 10,
      duration: BURST_SECONDS,
      requests: [
        {
          method: 'POST',
          path: '/v1/jobs',
          headers: { authorization: `Bearer ${cluster.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'demo.sleep', payload: { durationMs: 10 } }),
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, 'idempotency-key': crypto.randomUUID() },
          }),
        },
      ],
    });
    const after = await cluster.db.query<{ n: string }>('SELECT count(*) AS n FROM jobs');
    expect(result['5xx'], 'no 5xx under load').toBe(0);
    expect(result.non2xx, 'every answer 2xx').toBe(0);
    // autocannon stops counting at the deadline: up to one in-flight answer per connection is
    // committed by the server but not counted, so rows - 2xx is in [0, connections]
    const extra = Number(after[0]?.n) - Number(before[0]?.n) - result['2xx'];
    expect(
      extra,
      'one row per 2xx (plus at most one uncounted answer per connection)',
    ).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(10);
    const rows = await cluster.db.query<{ id: string }>('SELECT id::text AS id FROM jobs');
    for (const r of rows) allAccepted.add(r.id);
    await drainAndCheck();
    recordFigure({
      suite: 'load',
      fault: `none: autocannon POST /v1/jobs, 10 connections, ${BURST_SECONDS}s`,
      injections: 0,
      accepted: result['2xx'],
      lost: 0,
      duplicateExecutions: 0,
      recoveryMs: [],
      notes: `req/s avg=${result.requests.average} p50=${result.latency.p50}ms p90=${result.latency.p90}ms p99=${result.latency.p99}ms max=${result.latency.max}ms errors=${result.errors} timeouts=${result.timeouts} ${load1()}`,
    });
  });

  it('memory stays bounded over repeated submit/drain cycles (api, relay, workers)', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(40));
    });
    const cycles = byProfile(4, 15);
    const perCycle = byProfile(300, 1500);
    const procs = [cluster.api, cluster.relay!, ...cluster.workers];
    const samples: Record<string, number[]> = Object.fromEntries(procs.map((p) => [p.spec.name, []]));
    const heaps: number[] = [];
    const redisMem: number[] = [];
    for (let c = 0; c < cycles; c++) {
      const load = new LoadDriver({
        baseUrl: cluster.apiUrl,
        apiKey: cluster.apiKey,
        ratePerSec: 400,
        body: () => ({ type: 'demo.sleep', payload: { durationMs: 5 } }),
      });
      load.start();
      while (load.submittedCount < perCycle) await sleep(50);
      await load.stop();
      for (const id of load.acceptedIds()) allAccepted.add(id);
      expect(await waitDrained(cluster.db, 120_000)).toBeGreaterThanOrEqual(0);
      await sleep(500);
      for (const p of procs) samples[p.spec.name]!.push(rssMb(p));
      heaps.push(await heapMb(`${cluster.apiUrl}/metrics`));
      redisMem.push(
        Number(/used_memory:(\d+)/.exec(await cluster.redis.cli('INFO', 'memory'))?.[1]) / 1024 / 1024,
      );
    }
    await drainAndCheck();
    // Growth from the end of cycle 2 (warm: JIT, pools, caches) to the end of the last cycle.
    const growth = Object.fromEntries(
      Object.entries(samples).map(([name, s]) => [name, +(s.at(-1)! - s[1]!).toFixed(1)]),
    );
    console.log(
      `[faults] memory: rss=${JSON.stringify(samples)} apiHeap=${JSON.stringify(heaps)} redis=${JSON.stringify(redisMem)}`,
    );
    for (const [name, g] of Object.entries(growth)) {
      // generous sanity bound: a leak of one retained object per job would exceed it
      expect(g, `${name} RSS growth over ${cycles - 2} cycles of ${perCycle} jobs (MB)`).toBeLessThan(64);
    }
    recordFigure({
      suite: 'memory',
      fault: `${cycles} cycles × ${perCycle} jobs (submit at 400/s, drain)`,
      injections: cycles,
      accepted: cycles * perCycle,
      lost: 0,
      duplicateExecutions: 0,
      recoveryMs: [],
      notes: `RSS growth after warm-up (MB): ${JSON.stringify(growth)}; RSS end (MB): ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([n, s]) => [n, +s.at(-1)!.toFixed(0)])))}; api heap used (MB) ${heaps.map((h) => h.toFixed(0)).join('→')}; redis used_memory (MB) ${redisMem.map((m) => m.toFixed(1)).join('→')}; ${load1()}`,
    });
  });
});
