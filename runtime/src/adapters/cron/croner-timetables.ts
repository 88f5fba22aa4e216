import { Cron } from 'croner';
import type { CronTimetables, Timetable, TimetableResult } from '../../ports/cron.port.js';

/**
 * Cron timetables with croner. croner matches the cron fields against a *wall clock*: it runs in
 * UTC over "local time written as UTC", which has no DST irregularities. Each matching wall time
 * is then mapped to an instant of the zone by this file, which owns the DST rule (croner's own
 * zone handling treats a skipped time differently depending on the expression):
 *
 * - a wall time that exists once is that instant;
 * - a wall time in a gap (clocks jump forward) fires at the first instant after the gap; several
 *   skipped wall times collapse into that one fire;
 * - a wall time that occurs twice (clocks go back) fires at its first occurrence only.
 */

const HOUR_MS = 3_600_000;
/** Gaps and overlaps are at most a few hours; an offset 14 h either side is always captured. */
const PROBE_MS = 14 * HOUR_MS;
/** How many matching wall times `next` looks at before giving up (all in past repeated hours). */
const MAX_STEPS = 1000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's wall clock at `instantMs`, written as a UTC epoch (milliseconds kept). */
export function wallOf(instantMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wholeSecond = Math.floor(instantMs / 1000) * 1000;
  return (
    Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) +
    (instantMs - wholeSecond)
  );
}

/** Offset of the zone (wall - instant) at an instant. */
const offsetAt = (instantMs: number, timeZone: string): number => wallOf(instantMs, timeZone) - instantMs;

/**
 * The instant a wall time fires at under the DST rule: the unique instant, the first of two, or
 * the end of the gap that skipped it.
 */
export function instantOfWall(wallMs: number, timeZone: string): number {
  const offsets = new Set([
    offsetAt(wallMs - PROBE_MS, timeZone),
    offsetAt(wallMs, timeZone),
    offsetAt(wallMs + PROBE_MS, timeZone),
  ]);
  const valid = [...offsets].map((o) => wallMs - o).filter((t) => offsetAt(t, timeZone) === wallMs - t);
  if (valid.length > 0) return Math.min(...valid);
  // A gap: the wall time does not exist. The transition lies between the instant read with the
  // offset after it and the one read with the offset before; find it to the millisecond.
  const candidates = [...offsets].map((o) => wallMs - o).sort((a, b) => a - b);
  let lo = candidates[0]!;
  let hi = candidates[candidates.length - 1]!;
  const before = offsetAt(lo, timeZone);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

function fieldCount(cron: string): number {
  return cron.trim().split(/\s+/).length;
}

class ZonedTimetable implements Timetable {
  constructor(
    private readonly cron: Cron,
    private readonly timeZone: string,
  ) {}

  next(after: Date): Date | null {
    const afterMs = after.getTime();
    // Wall times are visited in order from the wall clock at `after`; a candidate whose instant is
    // not after `after` (the second pass of a repeated hour, or a gap already fired) is passed over.
    let wall = wallOf(afterMs, this.timeZone);
    for (let i = 0; i < MAX_STEPS; i++) {
      const match = this.cron.nextRun(new Date(wall));
      if (!match) return null;
      const instant = instantOfWall(match.getTime(), this.timeZone);
      if (instant > afterMs) return new Date(instant);
      wall = match.getTime();
    }
    return null;
  }
}

export const CRONER_TIMETABLES: CronTimetables = {
  compile(cron: string, timeZone: string): TimetableResult {
    const zone = timeZone === '' ? 'UTC' : timeZone;
    try {
      formatter(zone);
    } catch {
      return { ok: false, field: 'timeZone', problem: `'${timeZone}' is not an IANA time zone` };
    }
    const fields = fieldCount(cron);
    if (cron.trim() === '' || (fields !== 5 && fields !== 6)) {
      return {
        ok: false,
        field: 'cron',
        problem: `'${cron}' must have 5 fields (minute hour day month weekday) or 6 (seconds first), got ${cron.trim() === '' ? 0 : fields}`,
      };
    }
    let parsed: Cron;
    try {
      parsed = new Cron(cron.trim(), {
        timezone: 'UTC',
        paused: true,
        mode: fields === 6 ? '6-part' : '5-part',
      });
    } catch (err) {
      return {
        ok: false,
        field: 'cron',
        problem: `'${cron}' is not a valid cron expression: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const timetable = new ZonedTimetable(parsed, zone);
    if (timetable.next(new Date(0)) === null && parsed.nextRun(new Date()) === null) {
      return { ok: false, field: 'cron', problem: `'${cron}' never fires` };
    }
    return { ok: true, timetable };
  },
};
