/**
 * The scheduler as it runs in production: inside `jobplane relay` child processes against one
 * PostgreSQL schema. A relay is SIGKILLed in the middle of a fire (after a fire's job committed,
 * before the schedule moved on; injected by support/faults/preload/schedule-crash.mjs), and two
 * relays race the same schedules. Either way every fire time has exactly one job and none is
 * missing.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { PostgresScheduleStore } from '../../src/adapters/postgres/schedule-store.js';
import { scheduleCommandsOf } from '../../src/main/scheduler.js';
import type { ScheduleSpec } from '../../src/domain/schedule.js';
import { EXAMPLES_CATALOG_MODULE } from '../examples-catalog.js';
import { isolate, type Isolated } from '../integration/helpers.js';
import { freePort, waitFor } from '../support/faults/net.js';
import { STARTUP_MS, Supervisor, type ManagedProcess } from '../support/faults/supervisor.js';

const PRELOAD = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../support/faults/preload/schedule-crash.mjs',
);

let iso: Isolated;
const sup = new Supervisor();

const everySecond = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  cron: '* * * * * *',
  timeZone: 'UTC',
  jobType: 'demo.sleep',
  payload: { durationMs: 10, failureRate: 0 },
  priority: 0,
  maxAttempts: 0,
  overlapPolicy: 'allow',
  catchUpPolicy: 'all',
  catchUpWindowSeconds: 3600,
  jitterSeconds: 0,
  startTime: null,
  endTime: null,
  description: '',
  ...over,
});

async function relay(name: string, extraEnv: Record<string, string> = {}): Promise<ManagedProcess> {
  const port = await freePort();
  const p = sup.add({
    name,
    command: 'relay',
    env: {
      ...iso.env,
      HOST: '127.0.0.1',
      METRICS_PORT: String(port),
      JOBPLANE_CATALOG: EXAMPLES_CATALOG_MODULE,
      LOG_LEVEL: 'info',
      SCHEDULER_POLL_MS: '100',
      RECONCILE_INTERVAL_SECONDS: '3600',
      ...extraEnv,
    },
    healthUrl: `http://127.0.0.1:${port}/healthz`,
    nodeArgs: ['--import', PRELOAD],
  });
  return p;
}

/** `jobplane_schedule_fires_total{outcome="created"}` of a running relay. */
async function createdCounter(p: ManagedProcess): Promise<number> {
  const url = p.spec.healthUrl!.replace('/healthz', '/metrics');
  const text = await (await fetch(url)).text();
  const m = /^jobplane_schedule_fires_total\{[^}]*outcome="created"[^}]*\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Fire times (ms) of a schedule's jobs, ascending, and their job ids. */
async function firesOf(scheduleId: string): Promise<{ times: number[]; ids: Map<number, string> }> {
  const rows = await iso.query<{ id: string; idempotency_key: string }>(
    `SELECT id, idempotency_key FROM jobs WHERE idempotency_key LIKE $1`,
    [`schedule:${scheduleId}:%`],
  );
  const ids = new Map<number, string>();
  for (const r of rows) ids.set(Date.parse(r.idempotency_key.slice(`schedule:${scheduleId}:`.length)), r.id);
  return { times: [...ids.keys()].sort((a, b) => a - b), ids };
}

/** Every second from `first` to `last`, exactly once. */
function expectContiguous(times: number[], first: number) {
  expect(times[0]).toBe(first);
  const last = times[times.length - 1]!;
  expect(times).toEqual(Array.from({ length: (last - first) / 1000 + 1 }, (_, i) => first + i * 1000));
}

beforeAll(async () => {
  iso = await isolate('scheduler');
});

afterAll(async () => {
  await sup.stopAll();
  sup.removeLogs();
  await iso?.cleanup();
});

describe('scheduler processes', () => {
  it('kill -9 mid-fire: no double, no miss', async () => {
    onTestFailed(() => console.error(sup.dump(60)));
    const core = iso.core('relay');
    // Created 20 s in the past: ~20 on-time fires are due the moment the relay starts.
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 20_000;
    const s = await scheduleCommandsOf(core, { now: () => new Date(startMs) }).create('alice', everySecond());
    const first = startMs + 1000;
    expect(s.nextFireTime?.getTime()).toBe(first);

    const crashing = await relay('relay-crash', { FAULTS_SCHEDULE_CRASH_AFTER: '5' });
    crashing.start();
    const exit = await crashing.waitExit(STARTUP_MS);
    expect(exit?.signal).toBe('SIGKILL');
    // Five jobs committed; the schedule's transaction died with the process: it did not move.
    const before = await firesOf(s.id);
    expect(before.times).toHaveLength(5);
    const store = new PostgresScheduleStore(core.pool);
    expect((await store.get('alice', s.id))?.nextFireTime?.getTime()).toBe(first);

    const healthy = await relay('relay-after');
    healthy.start();
    await healthy.waitHealthy();
    const target = Date.now() + 2000;
    await waitFor(async () => ((await store.get('alice', s.id))?.nextFireTime?.getTime() ?? 0) > target, {
      timeoutMs: 60_000,
      message: 'the restarted scheduler catches up',
    });
    await iso.query('UPDATE schedules SET paused = true WHERE id = $1', [s.id]);
    const after = await firesOf(s.id);
    expectContiguous(after.times, first);
    // The five fires of the crashed process kept their jobs (the replay returned them) …
    for (const t of before.times) expect(after.ids.get(t)).toBe(before.ids.get(t));
    // … and were not counted again as created by the new process.
    expect(await createdCounter(healthy)).toBe(after.times.length - 5);
    await healthy.stop();
  });

  it('two schedulers against one database: every fire exactly once', async () => {
    onTestFailed(() => console.error(sup.dump(60)));
    const core = iso.core('relay');
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 10_000;
    const cmds = scheduleCommandsOf(core, { now: () => new Date(startMs) });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await cmds.create('bob', everySecond())).id);
    const a = await relay('relay-a');
    const b = await relay('relay-b');
    a.start();
    b.start();
    await Promise.all([a.waitHealthy(), b.waitHealthy()]);
    const store = new PostgresScheduleStore(core.pool);
    const target = Date.now() + 3000;
    await waitFor(
      async () => {
        for (const id of ids)
          if (((await store.get('bob', id))?.nextFireTime?.getTime() ?? 0) <= target) return false;
        return true;
      },
      { timeoutMs: 60_000, message: 'both schedulers fire for 3 s' },
    );
    // Pausing waits for a pass holding a row lock; afterwards no process fires these schedules.
    await iso.query('UPDATE schedules SET paused = true WHERE id = ANY($1::uuid[])', [ids]);
    let total = 0;
    for (const id of ids) {
      const { times } = await firesOf(id);
      expectContiguous(times, startMs + 1000);
      total += times.length;
    }
    // Each job was created by exactly one of the two processes.
    const [ca, cb] = [await createdCounter(a), await createdCounter(b)];
    expect(ca + cb).toBe(total);
    await Promise.all([a.stop(), b.stop()]);
  });
});
