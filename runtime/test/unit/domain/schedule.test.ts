import { describe, expect, it } from 'vitest';
import {
  decideOverlap,
  fireIdempotencyKey,
  firstFireTime,
  jitterMs,
  MAX_FIRES_PER_PASS,
  planDue,
  specProblems,
  triggerIdempotencyKey,
  type ScheduleSpec,
} from '../../../src/domain/schedule.js';

const MIN = 60_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');
/** A timetable firing every minute on the minute. */
const everyMinute = (after: Date) => new Date(Math.floor(after.getTime() / MIN) * MIN + MIN);
const at = (minutes: number) => new Date(T0 + minutes * MIN);
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

const spec: ScheduleSpec = {
  cron: '* * * * *',
  timeZone: 'UTC',
  jobType: 'demo.sleep',
  payload: {},
  priority: 0,
  maxAttempts: 0,
  overlapPolicy: 'allow',
  catchUpPolicy: 'skip',
  catchUpWindowSeconds: 3600,
  jitterSeconds: 0,
  startTime: null,
  endTime: null,
  description: '',
};

describe('planDue', () => {
  const base = { nextFireTime: at(1), endTime: null, catchUpWindowSeconds: 600 };

  it('fires an on-time fire and moves to the next one', () => {
    const p = planDue({ ...base, catchUpPolicy: 'skip' }, everyMinute, new Date(T0 + MIN + 500), 60_000);
    expect(iso(p.fire)).toEqual(iso([at(1)]));
    expect(p).toMatchObject({ missed: 0, next: at(2) });
  });

  it('catch-up skip: fires missed during downtime do not run; the on-time one does', () => {
    // Down from minute 1 to minute 10 (+10 s): minutes 1..9 are late, 10 is on time (grace 60 s).
    const p = planDue(
      { ...base, catchUpPolicy: 'skip' },
      everyMinute,
      new Date(T0 + 10 * MIN + 10_000),
      60_000,
    );
    expect(iso(p.fire)).toEqual(iso([at(10)]));
    expect(p).toMatchObject({ missed: 9, next: at(11) });
  });

  it('catch-up fire_once: one run for all missed fires (the latest)', () => {
    const now = new Date(T0 + 10 * MIN + 45_000); // grace 30 s: minute 10 is late too
    const p = planDue({ ...base, catchUpPolicy: 'fire_once' }, everyMinute, now, 30_000);
    expect(iso(p.fire)).toEqual(iso([at(10)]));
    expect(p).toMatchObject({ missed: 9, next: at(11) });
    // With an on-time fire the missed ones are covered by it.
    const q = planDue(
      { ...base, catchUpPolicy: 'fire_once' },
      everyMinute,
      new Date(T0 + 10 * MIN + 1000),
      60_000,
    );
    expect(iso(q.fire)).toEqual(iso([at(10)]));
    expect(q.missed).toBe(9);
  });

  it('catch-up all: every missed fire within the window runs, older ones are missed', () => {
    const now = at(20);
    // Window 600 s: minutes 10..19 are late but inside, 20 on time, 1..9 outside.
    const p = planDue({ ...base, catchUpPolicy: 'all' }, everyMinute, now, 60_000);
    expect(iso(p.fire)).toEqual(iso(Array.from({ length: 11 }, (_, i) => at(10 + i))));
    expect(p).toMatchObject({ missed: 9, next: at(21) });
  });

  it('catch-up all is bounded per pass and resumes where it stopped', () => {
    const now = new Date(T0 + 500 * MIN);
    const p = planDue(
      { ...base, catchUpPolicy: 'all', catchUpWindowSeconds: 1000 * 60 },
      everyMinute,
      now,
      60_000,
    );
    expect(p.fire).toHaveLength(MAX_FIRES_PER_PASS);
    expect(p.next).toEqual(at(MAX_FIRES_PER_PASS + 1));
  });

  it('the end time stops the schedule', () => {
    const p = planDue(
      { ...base, catchUpPolicy: 'skip', endTime: at(3) },
      everyMinute,
      new Date(T0 + 3 * MIN),
      60_000,
    );
    expect(iso(p.fire)).toEqual(iso([at(2), at(3)]));
    expect(p.next).toBeNull();
  });
});

describe('overlap policy', () => {
  it.each([
    ['allow', true, false, 'fire'],
    ['skip', false, false, 'fire'],
    ['skip', true, false, 'skip'],
    ['buffer_one', true, false, 'buffer'],
    ['buffer_one', true, true, 'skip'],
    ['buffer_one', false, true, 'fire'],
  ] as const)('%s with previous active=%s buffered=%s → %s', (policy, active, buffered, want) => {
    expect(decideOverlap(policy, active, buffered)).toBe(want);
  });
});

describe('jitter and keys', () => {
  it('jitter is deterministic per schedule and fire time, within bounds', () => {
    const a = jitterMs('s1', at(1), 30);
    expect(jitterMs('s1', at(1), 30)).toBe(a);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThanOrEqual(30_000);
    const spread = new Set(Array.from({ length: 50 }, (_, i) => jitterMs('s1', at(i), 30)));
    expect(spread.size).toBeGreaterThan(40);
    expect(jitterMs('s1', at(1), 0)).toBe(0);
  });

  it('keys: one per (schedule, fire time); trigger keys per caller key', () => {
    expect(fireIdempotencyKey('abc', at(1))).toBe('schedule:abc:2026-05-01T00:01:00.000Z');
    const k1 = triggerIdempotencyKey('abc', 'k', at(1));
    expect(triggerIdempotencyKey('abc', 'k', at(2))).toBe(k1);
    expect(triggerIdempotencyKey('abc', undefined, at(1))).not.toBe(
      triggerIdempotencyKey('abc', undefined, at(2)),
    );
  });
});

describe('spec checks and the first fire', () => {
  it('names the field', () => {
    expect(specProblems(spec)).toEqual([]);
    const bad = specProblems({
      ...spec,
      jitterSeconds: -1,
      catchUpWindowSeconds: 0,
      startTime: at(10),
      endTime: at(5),
    }).map((p) => p.field);
    expect(bad).toEqual(['jitterSeconds', 'catchUpWindowSeconds', 'endTime']);
  });

  it('starts at the start time (inclusive) and not past the end', () => {
    expect(firstFireTime(everyMinute, { startTime: at(5), endTime: null }, at(0))).toEqual(at(5));
    expect(firstFireTime(everyMinute, { startTime: null, endTime: null }, new Date(T0 + 1))).toEqual(at(1));
    expect(firstFireTime(everyMinute, { startTime: null, endTime: at(0) }, new Date(T0 + 1))).toBeNull();
  });
});
