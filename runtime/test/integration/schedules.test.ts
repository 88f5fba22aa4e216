import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import {
  CreateScheduleResponseSchema,
  GetScheduleResponseSchema,
  TriggerScheduleResponseSchema,
} from '@jobplane/proto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CRONER_TIMETABLES } from '../../src/adapters/cron/croner-timetables.js';
import { PostgresScheduleStore } from '../../src/adapters/postgres/schedule-store.js';
import type { ScheduleCommands } from '../../src/application/schedule-commands.js';
import { createSchedulerPass } from '../../src/application/schedule-scheduler.js';
import { createSubmitJob } from '../../src/application/submit-job.use-case.js';
import type { ScheduleSpec } from '../../src/domain/schedule.js';
import { buildApiApp } from '../../src/main/api.js';
import { submittableTypes } from '../../src/main/catalog.js';
import type { Core } from '../../src/main/context.js';
import { scheduleCommandsOf } from '../../src/main/scheduler.js';
import type { Clock } from '../../src/ports/clock.port.js';
import type { ScheduleMetrics } from '../../src/ports/schedule-metrics.port.js';
import type { FireOutcome } from '../../src/ports/schedule-store.port.js';
import { API_KEY_A, API_KEY_B, isolate, type Isolated } from './helpers.js';

let iso: Isolated;
let core: Core;
let core2: Core;
let app: FastifyInstance;

const auth = (key = API_KEY_A) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const sleepPayload = { durationMs: 10, failureRate: 0 };

function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> & { authorization: string } = auth(),
) {
  return app.inject({
    method,
    url,
    headers: body === undefined ? { authorization: headers.authorization } : headers,
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

function expectProblem(res: LightMyRequestResponse, status: number, code: string, detail?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code });
  if (detail) expect(body.detail).toContain(detail);
}

const created = (res: LightMyRequestResponse) => {
  expect(res.statusCode, res.body).toBe(201);
  return fromJson(CreateScheduleResponseSchema, res.json<JsonValue>()).schedule!;
};

class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): Date {
    return new Date(this.t);
  }
}

class CountingMetrics implements ScheduleMetrics {
  readonly counts: Record<string, number> = {};
  readonly lags: number[] = [];
  overdue = -1;
  fireLag(seconds: number): void {
    this.lags.push(seconds);
  }
  fires(outcome: FireOutcome, count: number): void {
    this.counts[outcome] = (this.counts[outcome] ?? 0) + count;
  }
  pass(_at: Date, overdue: number): void {
    this.overdue = overdue;
  }
}

function passOf(c: Core, clock: Clock, metrics: ScheduleMetrics = new CountingMetrics()) {
  return createSchedulerPass({
    schedules: new PostgresScheduleStore(c.pool),
    jobs: c.store,
    timetables: CRONER_TIMETABLES,
    submitJob: createSubmitJob({
      store: c.store,
      catalog: c.jobCatalog,
      submittableTypes: submittableTypes(c.catalog),
      metrics: c.metrics,
      clock,
    }),
    clock,
    metrics,
    logger: pino({ level: 'silent' }),
    graceMs: 60_000,
  });
}

const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  cron: '* * * * *',
  timeZone: 'UTC',
  jobType: 'demo.sleep',
  payload: sleepPayload,
  priority: 0,
  maxAttempts: 0,
  overlapPolicy: 'allow',
  catchUpPolicy: 'skip',
  catchUpWindowSeconds: 3600,
  jitterSeconds: 0,
  startTime: null,
  endTime: null,
  description: '',
  ...over,
});

/** Jobs a schedule created, by idempotency key. */
async function jobsOf(scheduleId: string) {
  return iso.query<{ id: string; idempotency_key: string; run_at: Date; state: string; client_id: string }>(
    `SELECT id, idempotency_key, run_at, state, client_id FROM jobs WHERE idempotency_key LIKE $1 ORDER BY idempotency_key`,
    [`schedule:${scheduleId}:%`],
  );
}

const MIN = 60_000;
const T0 = Date.parse('2026-06-01T12:00:30Z');

beforeAll(async () => {
  iso = await isolate('schedules');
  core = iso.core('api');
  core2 = iso.core('relay');
  app = await buildApiApp(core);
});

afterAll(async () => {
  await app?.close();
  await iso?.cleanup();
});

describe('schedule HTTP API', () => {
  it('create, get, list, update, pause, resume, trigger and delete, scoped to the client', async () => {
    const s = created(
      await call('POST', '/v1/schedules', {
        spec: {
          cron: '0 9 * * 1-5',
          timeZone: 'Europe/Berlin',
          jobType: 'demo.sleep',
          payload: sleepPayload,
          overlapPolicy: 'OVERLAP_POLICY_SKIP',
          catchUpPolicy: 'CATCH_UP_POLICY_FIRE_ONCE',
          jitterSeconds: 30,
        },
      }),
    );
    expect(s.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.nextFireTime).toBeDefined();
    expect(s.spec?.catchUpWindowSeconds).toBe(3600);

    const got = await call('GET', `/v1/schedules/${s.id}`);
    expect(got.statusCode).toBe(200);
    expect(fromJson(GetScheduleResponseSchema, got.json<JsonValue>()).schedule?.spec?.cron).toBe(
      '0 9 * * 1-5',
    );
    expectProblem(
      await call('GET', `/v1/schedules/${s.id}`, undefined, auth(API_KEY_B)),
      404,
      'SCHEDULE.NOT_FOUND',
    );

    created(
      await call('POST', '/v1/schedules', {
        spec: { cron: '*/5 * * * *', jobType: 'demo.sleep', payload: sleepPayload },
      }),
    );
    const page1 = (await call('GET', '/v1/schedules?pageSize=1')).json<{
      schedules: unknown[];
      nextPageToken: string;
    }>();
    expect(page1.schedules).toHaveLength(1);
    const page2 = (await call('GET', `/v1/schedules?pageSize=1&pageToken=${page1.nextPageToken}`)).json<{
      schedules: { id: string }[];
    }>();
    expect(page2.schedules[0]?.id).toBe(s.id);
    expectProblem(await call('GET', '/v1/schedules?pageToken=nope'), 400, 'REQUEST.INVALID', 'pageToken');
    expect((await call('GET', '/v1/schedules', undefined, auth(API_KEY_B))).json()).toEqual({});

    const upd = await call('PATCH', `/v1/schedules/${s.id}`, {
      spec: { cron: '0 10 * * *', timeZone: 'UTC' },
    });
    expect(upd.statusCode, upd.body).toBe(200);
    const u = upd.json<{
      schedule: { spec: { cron: string; jitterSeconds: number }; nextFireTime: string };
    }>();
    expect(u.schedule.spec).toMatchObject({ cron: '0 10 * * *', jitterSeconds: 30 });
    expect(u.schedule.nextFireTime).toMatch(/T10:00:00Z$/);
    expectProblem(
      await call('PATCH', `/v1/schedules/${s.id}`, { spec: { timeZone: 'Nowhere/Else' } }),
      400,
      'REQUEST.INVALID',
      "'timeZone'",
    );
    expectProblem(
      await call('PATCH', `/v1/schedules/${s.id}`, { spec: {}, updateMask: 'noSuchField' }),
      400,
      'REQUEST.INVALID',
      'no_such_field',
    );

    const paused = (await call('POST', `/v1/schedules/${s.id}:pause`, {})).json<Record<string, unknown>>();
    expect(paused.schedule).toMatchObject({ paused: true });
    expect((paused.schedule as Record<string, unknown>).nextFireTime).toBeUndefined();
    const resumed = (await call('POST', `/v1/schedules/${s.id}:resume`, {})).json<Record<string, unknown>>();
    expect((resumed.schedule as Record<string, unknown>).nextFireTime).toMatch(/T10:00:00Z$/);

    const trig = await call(
      'POST',
      `/v1/schedules/${s.id}:trigger`,
      {},
      { ...auth(), 'idempotency-key': 't-1' },
    );
    expect(trig.statusCode, trig.body).toBe(202);
    const t = fromJson(TriggerScheduleResponseSchema, trig.json<JsonValue>());
    expect(t.job?.type).toBe('demo.sleep');
    expect(t.schedule?.lastJobId).toBe(t.job?.id);
    const again = await call(
      'POST',
      `/v1/schedules/${s.id}:trigger`,
      {},
      { ...auth(), 'idempotency-key': 't-1' },
    );
    expect(fromJson(TriggerScheduleResponseSchema, again.json<JsonValue>()).job?.id).toBe(t.job?.id);
    expectProblem(await call('POST', `/v1/schedules/${s.id}:explode`, {}), 404, 'ROUTE.NOT_FOUND');
    expectProblem(
      await call('POST', `/v1/schedules/${s.id}:trigger`, {}, auth(API_KEY_B)),
      404,
      'SCHEDULE.NOT_FOUND',
    );

    expectProblem(
      await call('DELETE', `/v1/schedules/${s.id}`, undefined, auth(API_KEY_B)),
      404,
      'SCHEDULE.NOT_FOUND',
    );
    expect((await call('DELETE', `/v1/schedules/${s.id}`)).statusCode).toBe(200);
    expectProblem(await call('GET', `/v1/schedules/${s.id}`), 404, 'SCHEDULE.NOT_FOUND');
    expectProblem(await call('GET', '/v1/schedules/not-a-uuid'), 404, 'SCHEDULE.NOT_FOUND');
    // The triggered job stays.
    expect((await call('GET', `/v1/jobs/${t.job?.id}`)).statusCode).toBe(200);
  });

  it.each([
    [{ cron: '* * * *' }, 'REQUEST.INVALID', "'cron'"],
    [{ cron: '99 * * * *' }, 'REQUEST.INVALID', "'cron'"],
    [{ timeZone: 'Europe/Atlantis' }, 'REQUEST.INVALID', "'timeZone'"],
    [{ startTime: '2030-01-02T00:00:00Z', endTime: '2030-01-01T00:00:00Z' }, 'REQUEST.INVALID', "'endTime'"],
    [{ jitterSeconds: -1 }, 'REQUEST.INVALID', "'jitterSeconds'"],
    [{ catchUpWindowSeconds: -5 }, 'REQUEST.INVALID', "'catchUpWindowSeconds'"],
    [{ priority: 5000 }, 'REQUEST.INVALID', "'priority'"],
    [{ jobType: 'no.such.type' }, 'JOB.UNKNOWN_TYPE', "'jobType'"],
    [{ payload: { durationMs: 'long' } }, 'JOB.PAYLOAD_INVALID', "'payload'"],
    [{ overlapPolicy: 'SOMETIMES' }, 'REQUEST.INVALID', 'CreateScheduleRequest'],
    [{ unknownField: 1 }, 'REQUEST.INVALID', 'CreateScheduleRequest'],
  ])('bad input %j → 400 %s naming the field', async (over, code, detail) => {
    const res = await call('POST', '/v1/schedules', {
      spec: { cron: '* * * * *', jobType: 'demo.sleep', payload: sleepPayload, ...over },
    });
    expectProblem(res, 400, code, detail);
  });
});

describe('scheduler passes with a fixed clock', () => {
  // Each case sees only its own schedules (the passes scan every due schedule of the schema).
  beforeEach(async () => {
    await iso.query('DELETE FROM schedules');
  });

  it('a fire creates one job with the deterministic key and jittered run time; a second pass adds none', async () => {
    const clock = new FakeClock(T0);
    const cmds: ScheduleCommands = scheduleCommandsOf(core, clock);
    const s = await cmds.create('alice', spec({ jitterSeconds: 20 }));
    const fire = new Date(Date.parse('2026-06-01T12:01:00Z'));
    expect(s.nextFireTime).toEqual(fire);
    const metrics = new CountingMetrics();
    const pass = passOf(core, clock, metrics);
    clock.t = fire.getTime() + 1500;
    expect((await pass()).processed).toBe(1);
    await pass();
    const jobs = await jobsOf(s.id);
    expect(jobs.map((j) => j.idempotency_key)).toEqual([`schedule:${s.id}:2026-06-01T12:01:00.000Z`]);
    expect(jobs[0]?.client_id).toBe('alice');
    const delay = jobs[0]!.run_at.getTime() - fire.getTime();
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(20_000);
    expect(metrics.counts).toEqual({ created: 1 });
    expect(metrics.lags).toEqual([1.5]);
    expect(metrics.overdue).toBe(0);
    expect((await cmds.get('alice', s.id)).nextFireTime).toEqual(new Date(fire.getTime() + MIN));
  });

  it('overlap skip and buffer_one hold fires while the previous job runs', async () => {
    const clock = new FakeClock(T0);
    const cmds = scheduleCommandsOf(core, clock);
    const skip = await cmds.create('alice', spec({ overlapPolicy: 'skip' }));
    const buffer = await cmds.create('alice', spec({ overlapPolicy: 'buffer_one' }));
    const metrics = new CountingMetrics();
    const pass = passOf(core, clock, metrics);
    for (let m = 1; m <= 3; m++) {
      clock.t = Date.parse('2026-06-01T12:00:00Z') + m * MIN + 1000;
      await pass();
    }
    // Minute 1 fired; 2 and 3 found it queued (no worker runs here).
    expect((await jobsOf(skip.id)).map((j) => j.idempotency_key.slice(-24))).toEqual([
      '2026-06-01T12:01:00.000Z',
    ]);
    expect((await jobsOf(buffer.id)).map((j) => j.idempotency_key.slice(-24))).toEqual([
      '2026-06-01T12:01:00.000Z',
    ]);
    expect((await cmds.get('alice', buffer.id)).bufferedFireTime).toEqual(new Date('2026-06-01T12:02:00Z'));
    expect(metrics.counts).toMatchObject({ created: 2, skipped: 3, buffered: 1 });
    const fires = await new PostgresScheduleStore(core.pool).fires(buffer.id, 10);
    expect(fires.map((f) => f.outcome)).toEqual(['skipped', 'buffered', 'created']);

    // The previous jobs finish: the buffered fire runs at the next pass, under its own key.
    await iso.query(`UPDATE jobs SET state = 'succeeded' WHERE idempotency_key LIKE 'schedule:%'`);
    clock.t += 10_000;
    await pass();
    expect((await jobsOf(buffer.id)).map((j) => j.idempotency_key.slice(-24))).toEqual([
      '2026-06-01T12:01:00.000Z',
      '2026-06-01T12:02:00.000Z',
    ]);
    expect((await cmds.get('alice', buffer.id)).bufferedFireTime).toBeNull();
    expect(await jobsOf(skip.id)).toHaveLength(1);
  });

  it('catch-up after downtime: skip, fire once, all within the window', async () => {
    const clock = new FakeClock(T0);
    const cmds = scheduleCommandsOf(core, clock);
    const skip = await cmds.create('alice', spec({ catchUpPolicy: 'skip' }));
    const once = await cmds.create('alice', spec({ catchUpPolicy: 'fire_once' }));
    const all = await cmds.create('alice', spec({ catchUpPolicy: 'all', catchUpWindowSeconds: 300 }));
    const metrics = new CountingMetrics();
    // Down for 20 minutes: fires 12:01 … 12:20 are due; 12:20 is 30 s late (on time).
    clock.t = Date.parse('2026-06-01T12:20:30Z');
    await passOf(core, clock, metrics)();
    expect(await jobsOf(skip.id)).toHaveLength(1);
    expect(await jobsOf(once.id)).toHaveLength(1);
    // Window 300 s: 12:16 … 12:20 (the on-time one included).
    expect((await jobsOf(all.id)).map((j) => j.idempotency_key.slice(-24))).toEqual(
      [16, 17, 18, 19, 20].map((m) => `2026-06-01T12:${m}:00.000Z`),
    );
    expect(metrics.counts).toEqual({ created: 7, missed: 19 + 19 + 15 });
    for (const s of [skip, once, all])
      expect((await cmds.get('alice', s.id)).nextFireTime).toEqual(new Date('2026-06-01T12:21:00Z'));
  });

  it('start and end dates bound the fires; pause stops them', async () => {
    const clock = new FakeClock(T0);
    const cmds = scheduleCommandsOf(core, clock);
    const s = await cmds.create(
      'alice',
      spec({
        catchUpPolicy: 'all',
        startTime: new Date('2026-06-01T12:05:00Z'),
        endTime: new Date('2026-06-01T12:07:00Z'),
      }),
    );
    expect(s.nextFireTime).toEqual(new Date('2026-06-01T12:05:00Z'));
    clock.t = Date.parse('2026-06-01T12:30:00Z');
    await passOf(core, clock)();
    expect((await jobsOf(s.id)).map((j) => j.idempotency_key.slice(-24))).toEqual(
      [5, 6, 7].map((m) => `2026-06-01T12:0${m}:00.000Z`),
    );
    expect((await cmds.get('alice', s.id)).nextFireTime).toBeNull();

    const p = await cmds.create('alice', spec());
    await cmds.pause('alice', p.id);
    clock.t += 10 * MIN;
    await passOf(core, clock)();
    expect(await jobsOf(p.id)).toHaveLength(0);
  });

  it('a DST gap through the scheduler: Europe/Berlin 02:30 on 2026-03-29 fires once at 03:00 CEST', async () => {
    const clock = new FakeClock(Date.parse('2026-03-28T23:00:00Z'));
    const cmds = scheduleCommandsOf(core, clock);
    const s = await cmds.create('alice', spec({ cron: '30 2 * * *', timeZone: 'Europe/Berlin' }));
    expect(s.nextFireTime).toEqual(new Date('2026-03-29T01:00:00Z'));
    clock.t = Date.parse('2026-03-29T01:00:02Z');
    await passOf(core, clock)();
    expect((await jobsOf(s.id)).map((j) => j.idempotency_key.slice(-24))).toEqual([
      '2026-03-29T01:00:00.000Z',
    ]);
    expect((await cmds.get('alice', s.id)).nextFireTime).toEqual(new Date('2026-03-30T00:30:00Z'));
  });

  it('two schedulers at once (separate pools): every fire exactly once', async () => {
    const clock = new FakeClock(T0);
    const cmds = scheduleCommandsOf(core, clock);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await cmds.create('bob', spec({ cron: '*/10 * * * * *', catchUpPolicy: 'all' }))).id);
    const m1 = new CountingMetrics();
    const m2 = new CountingMetrics();
    const p1 = passOf(core, clock, m1);
    const p2 = passOf(core2, clock, m2);
    // Five minutes of 10-second fires, in 30-second steps, both schedulers racing each step.
    for (let step = 1; step <= 10; step++) {
      clock.t = T0 + step * 30_000;
      await Promise.all([p1(), p2(), p1(), p2()]);
    }
    for (const id of ids) {
      const keys = (await jobsOf(id)).map((j) => j.idempotency_key);
      expect(keys).toHaveLength(30); // 12:00:40 … 12:05:30, every 10 s
      expect(new Set(keys).size).toBe(30);
    }
    expect((m1.counts.created ?? 0) + (m2.counts.created ?? 0)).toBe(4 * 30);
    expect(m1.counts.missed ?? 0).toBe(0);
  });
});
