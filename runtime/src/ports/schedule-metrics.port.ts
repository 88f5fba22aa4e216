import type { FireOutcome } from './schedule-store.port.js';

/** What the scheduler measures (adapters/metrics/schedule-metrics.ts exports it). */
export interface ScheduleMetrics {
  /** A fire created its job `seconds` after its nominal fire time (schedule lag). */
  fireLag(seconds: number): void;
  /** Fires by outcome (missed = catch-up policy dropped them; skipped = overlap policy). */
  fires(outcome: FireOutcome, count: number): void;
  /** A scheduler pass finished at `at`; `overdue` unpaused schedules are past their fire time. */
  pass(at: Date, overdue: number): void;
}

export const NOOP_SCHEDULE_METRICS: ScheduleMetrics = {
  fireLag: () => undefined,
  fires: () => undefined,
  pass: () => undefined,
};
