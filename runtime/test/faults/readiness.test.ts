/**
 * Redis with an evicting `maxmemory-policy` silently loses jobs and locks (bullmq #2215, #1046), so
 * readiness must refuse it: at runtime (CONFIG SET while serving) and at start. A Redis out of
 * memory under `noeviction` refuses every write (no job can be enqueued or started): not ready either. Readiness comes back
 * once the policy is `noeviction` again, and accepting work never depended on it (PostgreSQL + outbox).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultCluster } from '../support/faults/cluster.js';
import { httpStatus, waitFor } from '../support/faults/net.js';
import { recordFigure } from '../support/faults/report.js';

let cluster: FaultCluster;

function readyUrls(): { name: string; url: string }[] {
  const out = [{ name: 'api', url: `${cluster.apiUrl}/readyz` }];
  for (const p of [cluster.relay, ...cluster.workers]) {
    if (p?.spec.healthUrl)
      out.push({ name: p.spec.name, url: p.spec.healthUrl.replace(/\/healthz$/, '/readyz') });
  }
  return out;
}

async function readyStatuses(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    readyUrls().map(async ({ name, url }) => [name, await httpStatus(url, 3000)] as const),
  );
  return Object.fromEntries(entries);
}

describe('readiness refuses an evicting Redis', () => {
  beforeAll(async () => {
    cluster = await FaultCluster.start({ workers: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('every process is ready with noeviction', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(30));
    });
    expect(Object.values(await readyStatuses())).toEqual([200, 200, 200]);
  });

  for (const policy of ['allkeys-lru', 'volatile-lru', 'allkeys-random', 'volatile-ttl']) {
    it(`CONFIG SET maxmemory-policy ${policy} at runtime → /readyz 503 naming the policy; noeviction → 200 again`, async () => {
      onTestFailed(() => {
        cluster.keepLogs = true;
        console.error(cluster.sup.dump(30));
      });
      await cluster.redis.cli('CONFIG', 'SET', 'maxmemory-policy', policy);
      try {
        const t = Date.now();
        await waitFor(async () => Object.values(await readyStatuses()).every((s) => s === 503), {
          timeoutMs: 15_000,
          message: `every /readyz answers 503 with ${policy}`,
        });
        const refusedMs = Date.now() - t;
        const res = await fetch(`${cluster.apiUrl}/readyz`);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const body = (await res.json()) as { code: string; detail: string };
        expect(body.code).toBe('SERVICE.UNAVAILABLE');
        expect(body.detail).toContain('maxmemory-policy');
        expect(body.detail).toContain(policy);
        // liveness is not readiness: nothing restarts the processes for a Redis misconfiguration
        expect(await httpStatus(`${cluster.apiUrl}/healthz`)).toBe(200);
        if (policy === 'allkeys-lru') {
          recordFigure({
            suite: 'readiness',
            fault: `CONFIG SET maxmemory-policy ${policy}`,
            injections: 1,
            accepted: 0,
            lost: 0,
            duplicateExecutions: 0,
            recoveryMs: [refusedMs],
            notes: 'time until every /readyz (api, relay, worker) answered 503',
          });
        }
      } finally {
        await cluster.redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      }
      await waitFor(async () => Object.values(await readyStatuses()).every((s) => s === 200), {
        timeoutMs: 15_000,
        message: 'every /readyz answers 200 again with noeviction',
      });
    });
  }

  it('Redis out of memory (used_memory ≥ maxmemory with noeviction) → every /readyz 503 saying so; memory back → 200', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(30));
    });
    // Redis still answers PING, but with noeviction every write (enqueue, lock, start) is refused.
    await cluster.redis.cli('CONFIG', 'SET', 'maxmemory', '1');
    try {
      const oom = await cluster.redis.cli('SET', 'jobplane-probe', 'x').catch((err: Error) => err.message);
      expect(oom, 'writes are refused').toMatch(/OOM/);
      const t = Date.now();
      await waitFor(async () => Object.values(await readyStatuses()).every((s) => s === 503), {
        timeoutMs: 15_000,
        message: 'every /readyz answers 503 with Redis out of memory',
      });
      const refusedMs = Date.now() - t;
      const body = (await (await fetch(`${cluster.apiUrl}/readyz`)).json()) as { detail: string };
      expect(body.detail).toMatch(/redis: out of memory: used_memory \d+ ≥ maxmemory 1/);
      recordFigure({
        suite: 'readiness',
        fault: 'Redis out of memory (CONFIG SET maxmemory 1, noeviction)',
        injections: 1,
        accepted: 0,
        lost: 0,
        duplicateExecutions: 0,
        recoveryMs: [refusedMs],
        notes: 'time until every /readyz (api, relay, worker) answered 503 "out of memory"',
      });
    } finally {
      await cluster.redis.cli('CONFIG', 'SET', 'maxmemory', '0');
    }
    await waitFor(async () => Object.values(await readyStatuses()).every((s) => s === 200), {
      timeoutMs: 15_000,
      message: 'every /readyz answers 200 again with memory to spare',
    });
  });

  it('an API started against an evicting Redis never reports ready', async () => {
    onTestFailed(() => {
      cluster.keepLogs = true;
      console.error(cluster.sup.dump(30));
    });
    await cluster.redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await cluster.api.kill9();
      cluster.api.start();
      // It either refuses to start or starts unready; it must never answer 200 on /readyz. Waited
      // on what the process does, not on a time window: a start takes seconds on a busy machine.
      let unreadyWhileLive = 0;
      const readyAnswers: number[] = [];
      await waitFor(
        async () => {
          const ready = await httpStatus(`${cluster.apiUrl}/readyz`);
          readyAnswers.push(ready);
          if (ready === 200) return true; // the failure asserted below
          if (!cluster.api.running) return true; // refused to start
          if ((await httpStatus(`${cluster.apiUrl}/healthz`)) === 200 && ready === 503) unreadyWhileLive++;
          // Serving, and its readiness checked Redis again and again: still unready.
          return unreadyWhileLive >= 5;
        },
        { timeoutMs: 60_000, message: 'the API either serves (unready) or exits' },
      );
      expect(readyAnswers, '/readyz with allkeys-lru').not.toContain(200);
    } finally {
      await cluster.redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
    if (!cluster.api.running) cluster.api.start();
    await cluster.api.waitHealthy();
    await waitFor(async () => (await httpStatus(`${cluster.apiUrl}/readyz`)) === 200, {
      timeoutMs: 15_000,
      message: 'api ready again',
    });
  });
});
