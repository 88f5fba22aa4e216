import type { Schedule, ScheduleSpec } from '../domain/schedule.js';
import type { Page } from './job-store.port.js';

export interface NewSchedule extends ScheduleSpec {
  readonly id: string;
  readonly clientId: string;
  readonly nextFireTime: Date | null;
}

export type FireOutcome = 'created' | 'skipped' | 'missed' | 'failed' | 'buffered';

/** What the scheduler did with one nominal fire time (schedule_fires, one row per fire time). */
export interface FireRecord {
  readonly fireTime: Date;
  readonly outcome: FireOutcome;
  readonly jobId: string | null;
  readonly detail: string | null;
}

/** Columns a change writes; absent ones stay as they are. */
export interface ScheduleChange {
  readonly spec?: ScheduleSpec;
  readonly paused?: boolean;
  readonly nextFireTime?: Date | null;
  readonly bufferedFireTime?: Date | null;
  readonly lastFireTime?: Date | null;
  readonly lastJobId?: string | null;
  readonly fires?: readonly FireRecord[];
}

/** PostgreSQL-backed schedules, scoped by client like jobs. */
export interface ScheduleStore {
  create(schedule: NewSchedule): Promise<Schedule>;
  get(clientId: string, id: string): Promise<Schedule | null>;
  /** Newest first, keyset-paged. */
  list(clientId: string, pageSize: number, cursor: string | null): Promise<Page<Schedule>>;
  /**
   * Locks the schedule row, runs `fn` on it and writes the change it returns (null = none) in the
   * same transaction. Null when there is no such schedule for the client.
   */
  update(
    clientId: string,
    id: string,
    fn: (current: Schedule) => Promise<ScheduleChange | null>,
  ): Promise<Schedule | null>;
  delete(clientId: string, id: string): Promise<boolean>;
  /**
   * Runs `fn` on up to `limit` schedules due at `now` (next fire time reached, or a buffered
   * fire), each in its own transaction holding the row lock; rows another scheduler holds are
   * skipped. Returns how many were processed.
   */
  processDue(now: Date, limit: number, fn: (schedule: Schedule) => Promise<ScheduleChange>): Promise<number>;
  /** Unpaused schedules whose next fire time is older than `before` (they should have fired). */
  countOverdue(before: Date): Promise<number>;
  /** Fire records of a schedule, newest first (tests, diagnostics). */
  fires(scheduleId: string, limit: number): Promise<FireRecord[]>;
}
