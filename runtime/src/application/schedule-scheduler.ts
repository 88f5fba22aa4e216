import { isDomainError } from '../domain/errors.js';
import { isTerminal } from '../domain/job-state.js';
import { decideOverlap, fireIdempotencyKey, jitterMs, planDue, type Schedule } from '../domain/schedule.js';
import type { Clock } from '../ports/clock.port.js';
import type { CronTimetables } from '../ports/cron.port.js';
import type { JobStore } from '../ports/job-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ScheduleMetrics } from '../ports/schedule-metrics.port.js';
import type { FireRecord, ScheduleChange, ScheduleStore } from '../ports/schedule-store.port.js';
import type { SubmitJob } from './submit-job.use-case.js';

export interface SchedulerDeps {
  readonly schedules: ScheduleStore;
  /** Read only: the state of a schedule's previous job (overlap policy). */
  readonly jobs: Pick<JobStore, 'getAny'>;
  readonly timetables: CronTimetables;
  readonly submitJob: SubmitJob;
  readonly clock: Clock;
  readonly metrics: ScheduleMetrics;
  readonly logger: Logger;
  /** A fire at most this late is on time (SCHEDULER_GRACE_SECONDS). */
  readonly graceMs: number;
  /** Schedules one pass takes at most (default SCHEDULER_BATCH). */
  readonly batch?: number;
}

export interface SchedulerPassResult {
  readonly processed: number;
  /** True when the batch was full: more schedules may be due now. */
  readonly more: boolean;
}

export const SCHEDULER_BATCH = 200;

/**
 * One scheduler pass: every due schedule, each under its row lock (other replicas skip it), fires
 * its due times as the overlap and catch-up policies say. A fire creates its job through the
 * submit use case with the key `schedule:<id>:<fire time>` and only then advances the schedule,
 * in the same row-lock transaction: a crash between the two leaves the schedule where it was, and
 * the next pass (here or on another replica) submits the same key again, which returns the job
 * already created instead of a second one.
 */
export function createSchedulerPass(deps: SchedulerDeps): () => Promise<SchedulerPassResult> {
  const batch = deps.batch ?? SCHEDULER_BATCH;

  const processOne = async (s: Schedule): Promise<ScheduleChange> => {
    const compiled = deps.timetables.compile(s.cron, s.timeZone);
    if (!compiled.ok) {
      // Validated on write; a library upgrade that rejects it must not wedge the scheduler.
      deps.logger.error(
        { scheduleId: s.id, problem: compiled.problem },
        'schedule no longer compiles; paused',
      );
      return { paused: true, nextFireTime: null, bufferedFireTime: null };
    }
    const next = (after: Date) => compiled.timetable.next(after);
    const fires: FireRecord[] = [];
    let lastJobId = s.lastJobId;
    let lastFireTime = s.lastFireTime;
    let buffered = s.bufferedFireTime;

    const previousActive = async (): Promise<boolean> => {
      if (!lastJobId) return false;
      const job = await deps.jobs.getAny(lastJobId);
      return job !== null && !isTerminal(job.state);
    };

    const fire = async (fireTime: Date): Promise<void> => {
      try {
        const result = await deps.submitJob({
          clientId: s.clientId,
          idempotencyKey: fireIdempotencyKey(s.id, fireTime),
          requestId: null,
          type: s.jobType,
          payload: s.payload,
          priority: s.priority,
          runAt: new Date(fireTime.getTime() + jitterMs(s.id, fireTime, s.jitterSeconds)),
          maxAttempts: s.maxAttempts,
        });
        lastJobId = result.job.id;
        lastFireTime = fireTime;
        fires.push({ fireTime, outcome: 'created', jobId: result.job.id, detail: null });
        if (result.created) {
          deps.metrics.fireLag(Math.max(0, deps.clock.now().getTime() - fireTime.getTime()) / 1000);
          deps.metrics.fires('created', 1);
        }
      } catch (err) {
        if (!isDomainError(err)) throw err; // PostgreSQL down: roll back, the next pass retries
        if (err.code === 'IDEMPOTENCY.KEY_REUSED' && typeof err.details?.jobId === 'string') {
          // This fire created its job before the schedule changed (a crash in between): it happened.
          lastJobId = err.details.jobId;
          lastFireTime = fireTime;
          fires.push({ fireTime, outcome: 'created', jobId: err.details.jobId, detail: null });
          return;
        }
        // The catalog changed under the schedule (type gone, payload no longer valid).
        deps.logger.warn({ scheduleId: s.id, code: err.code, err: err.message }, 'schedule fire failed');
        fires.push({ fireTime, outcome: 'failed', jobId: null, detail: `${err.code}: ${err.message}` });
        deps.metrics.fires('failed', 1);
      }
    };

    const now = deps.clock.now();
    if (buffered && !(await previousActive())) {
      const t = buffered;
      buffered = null;
      await fire(t);
    }
    let nextFireTime = s.nextFireTime;
    if (nextFireTime && nextFireTime.getTime() <= now.getTime()) {
      const plan = planDue(s, next, now, deps.graceMs);
      for (const t of plan.fire) {
        const decision = decideOverlap(s.overlapPolicy, await previousActive(), buffered !== null);
        if (decision === 'fire') await fire(t);
        else if (decision === 'buffer') {
          buffered = t;
          fires.push({ fireTime: t, outcome: 'buffered', jobId: null, detail: 'previous job still running' });
          deps.metrics.fires('buffered', 1);
        } else {
          fires.push({ fireTime: t, outcome: 'skipped', jobId: null, detail: 'previous job still running' });
          deps.metrics.fires('skipped', 1);
        }
      }
      if (plan.missed > 0) {
        deps.metrics.fires('missed', plan.missed);
        deps.logger.warn(
          { scheduleId: s.id, missed: plan.missed },
          'schedule fires missed (catch-up policy)',
        );
      }
      nextFireTime = plan.next;
    }
    return { nextFireTime, bufferedFireTime: buffered, lastFireTime, lastJobId, fires };
  };

  return async () => {
    // One batch per pass: a schedule waiting for a buffered fire is due on every pass, so looping
    // until none is due would not end. The loop runs the next pass at once when the batch was full.
    const processed = await deps.schedules.processDue(deps.clock.now(), batch, processOne);
    const now = deps.clock.now();
    deps.metrics.pass(now, await deps.schedules.countOverdue(new Date(now.getTime() - deps.graceMs)));
    return { processed, more: processed >= batch };
  };
}
