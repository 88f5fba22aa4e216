/**
 * Cron timetables: the fire times of a cron expression read in an IANA time zone. The adapter
 * (adapters/cron) parses with a maintained cron library and applies the DST rule of
 * docs/schedules.md: a local time skipped by a DST jump fires once, at the first instant after
 * the jump; a local time repeated when clocks go back fires once, at its first occurrence.
 */
export interface Timetable {
  /** The first fire time strictly after `after`, or null when the expression never fires again. */
  next(after: Date): Date | null;
}

export type TimetableResult =
  | { readonly ok: true; readonly timetable: Timetable }
  | { readonly ok: false; readonly field: 'cron' | 'timeZone'; readonly problem: string };

export interface CronTimetables {
  compile(cron: string, timeZone: string): TimetableResult;
}
