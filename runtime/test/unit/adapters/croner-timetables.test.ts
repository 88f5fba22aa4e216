import { describe, expect, it } from 'vitest';
import { CRONER_TIMETABLES } from '../../../src/adapters/cron/croner-timetables.js';

/** The next `n` fire times after `from`, as ISO strings. */
function fires(cron: string, tz: string, from: string, n: number): string[] {
  const r = CRONER_TIMETABLES.compile(cron, tz);
  if (!r.ok) throw new Error(r.problem);
  const out: string[] = [];
  let at = new Date(from);
  for (let i = 0; i < n; i++) {
    const next = r.timetable.next(at);
    if (!next) break;
    out.push(next.toISOString());
    at = next;
  }
  return out;
}

describe('cron timetables across real DST transitions', () => {
  it('Europe/Berlin spring forward: 02:30 does not exist on 2026-03-29 and fires once at 03:00 CEST', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 4)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // gap: 03:00 CEST, the first instant after the jump
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('Europe/Berlin spring forward: several skipped times collapse into one fire', () => {
    // 02:00, 02:15, 02:30, 02:45 are all skipped on 2026-03-29: one fire at 03:00 CEST, then 03:15.
    expect(fires('*/15 * * * *', 'Europe/Berlin', '2026-03-29T00:40:00Z', 4)).toEqual([
      '2026-03-29T00:45:00.000Z', // 01:45 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00-02:45 do not exist)
      '2026-03-29T01:15:00.000Z', // 03:15 CEST
      '2026-03-29T01:30:00.000Z',
    ]);
    expect(fires('*/15 2 * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00.000Z', // once on the day of the gap
      '2026-03-30T00:00:00.000Z', // 02:00 CEST the day after
    ]);
  });

  it('Europe/Berlin fall back: the repeated hour fires once, at its first occurrence', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not fire
      '2026-10-26T01:30:00.000Z',
    ]);
    expect(fires('0,30 * * * *', 'Europe/Berlin', '2026-10-24T23:50:00Z', 4)).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T02:00:00.000Z', // 03:00 CET: the second 02:00 and 02:30 do not fire
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  it('a schedule created during the second pass of a repeated hour waits for the next new wall time', () => {
    // 02:10 CET (the second 02:10) on 2026-10-25: 02:30 already happened (CEST), next is 03:00 CET.
    expect(fires('0,30 * * * *', 'Europe/Berlin', '2026-10-25T01:10:00Z', 1)).toEqual([
      '2026-10-25T02:00:00.000Z',
    ]);
  });

  it('America/New_York: spring forward and fall back (6-field, seconds)', () => {
    expect(fires('0 30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 3)).toEqual([
      '2026-03-08T07:00:00.000Z', // 02:30 skipped: 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
    expect(fires('0 30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT only, not 01:30 EST
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('Australia/Lord_Howe: the 30-minute shift', () => {
    // 2026-10-04 02:00 +10:30 → 02:30 +11: 02:15 does not exist and fires at 02:30 +11.
    expect(fires('15 2 * * *', 'Australia/Lord_Howe', '2026-10-02T12:00:00Z', 3)).toEqual([
      '2026-10-02T15:45:00.000Z', // 2026-10-03 02:15 +10:30
      '2026-10-03T15:30:00.000Z', // 2026-10-04 02:30 +11 (end of the gap)
      '2026-10-04T15:15:00.000Z', // 2026-10-05 02:15 +11
    ]);
    // 2026-04-05 02:00 +11 → 01:30 +10:30: 01:45 happens twice and fires once.
    expect(fires('45 1 * * *', 'Australia/Lord_Howe', '2026-04-03T12:00:00Z', 3)).toEqual([
      '2026-04-03T14:45:00.000Z', // 2026-04-04 01:45 +11
      '2026-04-04T14:45:00.000Z', // 2026-04-05 01:45 +11 (first of the two)
      '2026-04-05T15:15:00.000Z', // 2026-04-06 01:45 +10:30
    ]);
  });

  it('UTC and an empty time zone are the same', () => {
    expect(fires('0 0 * * *', '', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(fires('0 0 * * *', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-02T00:00:00.000Z']);
  });

  it('rejects bad expressions and zones naming the field', () => {
    const bad = (cron: string, tz = 'UTC') => {
      const r = CRONER_TIMETABLES.compile(cron, tz);
      return r.ok ? null : { field: r.field, problem: r.problem };
    };
    expect(bad('* * * *')).toMatchObject({ field: 'cron', problem: expect.stringContaining('5 fields') });
    expect(bad('* * * * * * *')).toMatchObject({ field: 'cron' });
    expect(bad('')).toMatchObject({ field: 'cron' });
    expect(bad('61 * * * *')).toMatchObject({
      field: 'cron',
      problem: expect.stringContaining('not a valid'),
    });
    expect(bad('0 0 30 2 *')).toMatchObject({ field: 'cron' });
    expect(bad('* * * * *', 'Mars/Olympus')).toMatchObject({ field: 'timeZone' });
    expect(bad('* * * * *', 'Europe/Berlin')).toBeNull();
  });
});
