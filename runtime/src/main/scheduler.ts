import { CRONER_TIMETABLES } from '../adapters/cron/croner-timetables.js';
import { withStorablePayload } from '../adapters/http/input.js';
import { PromScheduleMetrics } from '../adapters/metrics/schedule-metrics.js';
import { PromMetrics } from '../adapters/metrics/prom-metrics.js';
import { PostgresScheduleStore } from '../adapters/postgres/schedule-store.js';
import { createScheduleCommands, type ScheduleCommands } from '../application/schedule-commands.js';
import { createSchedulerPass } from '../application/schedule-scheduler.js';
import { createSubmitJob } from '../application/submit-job.use-case.js';
import { SYSTEM_CLOCK, type Clock } from '../ports/clock.port.js';
import { NOOP_SCHEDULE_METRICS, type ScheduleMetrics } from '../ports/schedule-metrics.port.js';
import { submittableTypes } from './catalog.js';
import type { Core } from './context.js';

/** The submit use case as schedules use it: the API's, without the queue-depth refusal. */
function scheduleSubmit(core: Core, clock: Clock) {
  return withStorablePayload(
    createSubmitJob({
      store: core.store,
      catalog: core.jobCatalog,
      submittableTypes: submittableTypes(core.catalog),
      metrics: core.metrics,
      clock,
    }),
  );
}

/** The schedule routes' use cases (wired into the API by main/api.ts). */
export function scheduleCommandsOf(core: Core, clock: Clock = SYSTEM_CLOCK): ScheduleCommands {
  return createScheduleCommands({
    store: new PostgresScheduleStore(core.pool),
    timetables: CRONER_TIMETABLES,
    catalog: core.jobCatalog,
    submittableTypes: submittableTypes(core.catalog),
    submitJob: scheduleSubmit(core, clock),
    clock,
  });
}

/** Schedule metrics on the process's prom-client registry (none when the process exports none). */
function scheduleMetricsOf(core: Core): ScheduleMetrics {
  return core.metrics instanceof PromMetrics
    ? new PromScheduleMetrics(core.metrics.registry)
    : NOOP_SCHEDULE_METRICS;
}

export interface SchedulerLoop {
  /** Runs a pass now (tests). */
  kick(): void;
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  readonly clock?: Clock;
  readonly metrics?: ScheduleMetrics;
}

/**
 * The scheduler: a pass every SCHEDULER_POLL_MS (at once again when a pass found a full batch).
 * It runs inside the relay process (docs/schedules.md says why); several replicas are safe.
 * Passes never overlap; a failed pass (PostgreSQL down) is logged and retried on the next tick.
 */
export function startScheduler(core: Core, opts: SchedulerOptions = {}): SchedulerLoop {
  const clock = opts.clock ?? SYSTEM_CLOCK;
  const pass = createSchedulerPass({
    schedules: new PostgresScheduleStore(core.pool),
    jobs: core.store,
    timetables: CRONER_TIMETABLES,
    submitJob: scheduleSubmit(core, clock),
    clock,
    metrics: opts.metrics ?? scheduleMetricsOf(core),
    logger: core.logger,
    graceMs: core.config.SCHEDULER_GRACE_SECONDS * 1000,
  });
  let stopped = false;
  let again = false;
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  const loop = (async () => {
    while (!stopped) {
      again = false;
      try {
        const r = await pass();
        if (r.more) again = true;
      } catch (err) {
        core.logger.error({ err }, 'scheduler pass failed; retrying');
      }
      if (stopped) break;
      if (again) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, core.config.SCHEDULER_POLL_MS);
      });
      wake = null;
      if (timer) clearTimeout(timer);
    }
  })();
  return {
    kick() {
      again = true;
      wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
