import { createHash } from 'node:crypto';

/**
 * Schedules: a cron timetable that creates a normal job per fire. Pure rules only — which fires
 * are due, what the overlap and catch-up policies do with them, the jitter of a fire and its
 * idempotency key. The scheduler (application/schedule-scheduler.ts) applies them.
 */

export const OVERLAP_POLICIES = ['allow', 'skip', 'buffer_one'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const CATCH_UP_POLICIES = ['skip', 'fire_once', 'all'] as const;
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** What a schedule fires and when (the user's part). */
export interface ScheduleSpec {
  readonly cron: string;
  /** IANA zone; '' = UTC. */
  readonly timeZone: string;
  readonly jobType: string;
  readonly payload: Record<string, unknown>;
  readonly priority: number;
  /** 0 = the job type's default. */
  readonly maxAttempts: number;
  readonly overlapPolicy: OverlapPolicy;
  readonly catchUpPolicy: CatchUpPolicy;
  readonly catchUpWindowSeconds: number;
  readonly jitterSeconds: number;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  readonly description: string;
}

export interface Schedule extends ScheduleSpec {
  readonly id: string;
  readonly clientId: string;
  readonly paused: boolean;
  /** Next nominal fire time (before jitter); null when paused or past the end time. */
  readonly nextFireTime: Date | null;
  readonly bufferedFireTime: Date | null;
  readonly lastFireTime: Date | null;
  readonly lastJobId: string | null;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export const DEFAULT_CATCH_UP_WINDOW_SECONDS = 3600;
/** Limits of the numeric fields (a week of jitter, a year of catch-up). */
export const JITTER_MAX_SECONDS = 7 * 24 * 3600;
export const CATCH_UP_WINDOW_MAX_SECONDS = 366 * 24 * 3600;
export const CRON_MAX_LENGTH = 200;
export const DESCRIPTION_MAX_LENGTH = 1000;
/** At most this many fires of one schedule are acted on per scheduler pass; the rest wait for the next. */
export const MAX_FIRES_PER_PASS = 100;

/** Problems with the fields the domain can check alone (cron and zone are checked by the timetable). */
export function specProblems(spec: ScheduleSpec): { field: string; problem: string }[] {
  const out: { field: string; problem: string }[] = [];
  if (spec.cron.length > CRON_MAX_LENGTH)
    out.push({ field: 'cron', problem: `must be at most ${CRON_MAX_LENGTH} characters` });
  if (
    !Number.isInteger(spec.jitterSeconds) ||
    spec.jitterSeconds < 0 ||
    spec.jitterSeconds > JITTER_MAX_SECONDS
  )
    out.push({
      field: 'jitterSeconds',
      problem: `(${spec.jitterSeconds}) must be an integer from 0 to ${JITTER_MAX_SECONDS}`,
    });
  if (
    !Number.isInteger(spec.catchUpWindowSeconds) ||
    spec.catchUpWindowSeconds <= 0 ||
    spec.catchUpWindowSeconds > CATCH_UP_WINDOW_MAX_SECONDS
  )
    out.push({
      field: 'catchUpWindowSeconds',
      problem: `(${spec.catchUpWindowSeconds}) must be an integer from 1 to ${CATCH_UP_WINDOW_MAX_SECONDS}`,
    });
  if (spec.startTime && spec.endTime && spec.endTime.getTime() <= spec.startTime.getTime())
    out.push({
      field: 'endTime',
      problem: `(${spec.endTime.toISOString()}) must be after startTime (${spec.startTime.toISOString()})`,
    });
  if (spec.description.length > DESCRIPTION_MAX_LENGTH)
    out.push({ field: 'description', problem: `must be at most ${DESCRIPTION_MAX_LENGTH} characters` });
  return out;
}

/** The idempotency key of the job a fire creates: one job per (schedule, nominal fire time). */
export function fireIdempotencyKey(scheduleId: string, fireTime: Date): string {
  return `schedule:${scheduleId}:${fireTime.toISOString()}`;
}

/** The key of a trigger-now job: per (schedule, caller's key), or per instant without one. */
export function triggerIdempotencyKey(scheduleId: string, callerKey: string | undefined, now: Date): string {
  const material = callerKey ?? `at:${now.toISOString()}`;
  return `schedule:${scheduleId}:trigger:${createHash('sha256').update(material).digest('hex').slice(0, 32)}`;
}

/**
 * The delay added to a fire's run time: 0 to `jitterSeconds` seconds (millisecond steps), a hash
 * of the schedule id and the fire time, so every replica and every retry computes the same one.
 */
export function jitterMs(scheduleId: string, fireTime: Date, jitterSeconds: number): number {
  if (jitterSeconds <= 0) return 0;
  const h = createHash('sha256').update(`${scheduleId}|${fireTime.toISOString()}`).digest();
  return h.readUInt32BE(0) % (jitterSeconds * 1000 + 1);
}

/** The first fire a schedule waits for when it is created, resumed or its timetable changes. */
export function firstFireTime(
  next: (after: Date) => Date | null,
  spec: Pick<ScheduleSpec, 'startTime' | 'endTime'>,
  now: Date,
): Date | null {
  // A start time that is itself a fire time fires: search from just before it.
  const from =
    spec.startTime && spec.startTime.getTime() > now.getTime() ? new Date(spec.startTime.getTime() - 1) : now;
  const f = next(from);
  return f && (!spec.endTime || f.getTime() <= spec.endTime.getTime()) ? f : null;
}

export interface DuePlan {
  /** Nominal fire times to act on now (overlap policy still applies), oldest first. */
  readonly fire: Date[];
  /** Fires not acted on because of the catch-up policy. */
  readonly missed: number;
  /** The schedule's next fire time after this pass (null = no more fires). */
  readonly next: Date | null;
}

/**
 * Which of the fires due at `now` run. A fire is on time when it is at most `graceMs` late; later
 * ones were missed (no scheduler ran) and follow the catch-up policy:
 * `skip` none of them, `fire_once` the latest (unless an on-time fire covers it), `all` those
 * within the catch-up window. At most MAX_FIRES_PER_PASS fires are acted on; the next pass goes on
 * from there.
 */
export function planDue(
  schedule: Pick<Schedule, 'nextFireTime' | 'endTime' | 'catchUpPolicy' | 'catchUpWindowSeconds'>,
  next: (after: Date) => Date | null,
  now: Date,
  graceMs: number,
): DuePlan {
  const nowMs = now.getTime();
  const end = schedule.endTime?.getTime() ?? Infinity;
  const late: Date[] = [];
  const onTime: Date[] = [];
  let missed = 0;
  let cursor = schedule.nextFireTime;
  const windowStart = nowMs - schedule.catchUpWindowSeconds * 1000;
  // Late fires older than what the policy may still run are only counted (bounded by a scan limit).
  let scanned = 0;
  while (cursor && cursor.getTime() <= nowMs && cursor.getTime() <= end && scanned < 100_000) {
    scanned++;
    const t = cursor.getTime();
    if (t >= nowMs - graceMs) onTime.push(cursor);
    else if (schedule.catchUpPolicy === 'all' && t >= windowStart) late.push(cursor);
    else if (schedule.catchUpPolicy === 'fire_once') {
      if (late.length > 0) missed++;
      late.splice(0, late.length, cursor);
    } else missed++;
    if (late.length + onTime.length >= MAX_FIRES_PER_PASS) {
      const fire = [...late, ...onTime];
      const after = next(cursor);
      return { fire, missed, next: after && after.getTime() <= end ? after : null };
    }
    cursor = next(cursor);
  }
  if (schedule.catchUpPolicy === 'fire_once' && onTime.length > 0 && late.length > 0) {
    missed += late.length; // the on-time fire covers the missed one
    late.length = 0;
  }
  if (cursor && cursor.getTime() <= nowMs) {
    // Scan limit hit: skip ahead to the first fire after now.
    cursor = next(now);
  }
  return {
    fire: [...late, ...onTime],
    missed,
    next: cursor && cursor.getTime() <= end ? cursor : null,
  };
}

export type OverlapDecision = 'fire' | 'skip' | 'buffer';

/** What the overlap policy does with a fire while the previous fire's job may still run. */
export function decideOverlap(
  policy: OverlapPolicy,
  previousActive: boolean,
  alreadyBuffered: boolean,
): OverlapDecision {
  if (!previousActive || policy === 'allow') return 'fire';
  if (policy === 'skip') return 'skip';
  return alreadyBuffered ? 'skip' : 'buffer';
}
