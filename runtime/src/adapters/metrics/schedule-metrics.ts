import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_NAMES } from '../../config/metric-names.js';
import type { ScheduleMetrics } from '../../ports/schedule-metrics.port.js';
import type { FireOutcome } from '../../ports/schedule-store.port.js';

/** Schedule lag: 10 ms … 1 h (a pass every second is ~1 s; catch-up after downtime is minutes). */
export const SCHEDULE_LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The ScheduleMetrics port over prom-client, on the process's registry (the relay's `/metrics`). */
export class PromScheduleMetrics implements ScheduleMetrics {
  private readonly lag: Histogram;
  private readonly fired: Counter<'outcome'>;
  private readonly overdue: Gauge;
  private readonly lastPass: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.lag = new Histogram({
      name: METRIC_NAMES.scheduleFireLag,
      help: 'Seconds from a schedule fire time to its job being created.',
      buckets: SCHEDULE_LAG_BUCKETS,
      registers,
    });
    this.fired = new Counter({
      name: METRIC_NAMES.scheduleFires,
      help: 'Schedule fires by outcome (missed: catch-up policy; skipped/buffered: overlap policy).',
      labelNames: ['outcome'],
      registers,
    });
    this.overdue = new Gauge({
      name: METRIC_NAMES.schedulesOverdue,
      help: 'Unpaused schedules past their fire time by more than SCHEDULER_GRACE_SECONDS after a pass.',
      registers,
    });
    this.lastPass = new Gauge({
      name: METRIC_NAMES.schedulerLastPass,
      help: "Unix time of the scheduler's last finished pass.",
      registers,
    });
  }

  fireLag(seconds: number): void {
    this.lag.observe(seconds);
  }

  fires(outcome: FireOutcome, count: number): void {
    this.fired.inc({ outcome }, count);
  }

  pass(at: Date, overdue: number): void {
    this.lastPass.set(at.getTime() / 1000);
    this.overdue.set(overdue);
  }
}
