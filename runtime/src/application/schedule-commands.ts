import { randomUUID } from 'node:crypto';
import { DomainError, invalidRequest } from '../domain/errors.js';
import {
  firstFireTime,
  specProblems,
  triggerIdempotencyKey,
  type Schedule,
  type ScheduleSpec,
} from '../domain/schedule.js';
import type { Job } from '../domain/job.entity.js';
import type { Clock } from '../ports/clock.port.js';
import type { CronTimetables, Timetable } from '../ports/cron.port.js';
import type { JobCatalog } from '../ports/job-catalog.port.js';
import type { Page } from '../ports/job-store.port.js';
import type { ScheduleStore } from '../ports/schedule-store.port.js';
import { MAX_ATTEMPTS_LIMIT, PRIORITY_RANGE, type SubmitJob } from './submit-job.use-case.js';

export interface ScheduleCommandsDeps {
  readonly store: ScheduleStore;
  readonly timetables: CronTimetables;
  readonly catalog: JobCatalog;
  /** Listed in the JOB.UNKNOWN_TYPE message. */
  readonly submittableTypes: readonly string[];
  /** Creates the job of a trigger-now (the same use case the API's submit runs). */
  readonly submitJob: SubmitJob;
  readonly clock: Clock;
  readonly newId?: () => string;
}

/** The spec fields an update may name (proto field names in camelCase). */
export const SPEC_FIELDS = [
  'cron',
  'timeZone',
  'jobType',
  'payload',
  'priority',
  'maxAttempts',
  'overlapPolicy',
  'catchUpPolicy',
  'catchUpWindowSeconds',
  'jitterSeconds',
  'startTime',
  'endTime',
  'description',
] as const satisfies readonly (keyof ScheduleSpec)[];
export type SpecField = (typeof SPEC_FIELDS)[number];

/** Fields whose change moves the next fire time. */
const TIMETABLE_FIELDS: ReadonlySet<SpecField> = new Set(['cron', 'timeZone', 'startTime', 'endTime']);

export interface ScheduleCommands {
  create(clientId: string, spec: ScheduleSpec): Promise<Schedule>;
  get(clientId: string, id: string): Promise<Schedule>;
  list(clientId: string, pageSize: number, pageToken: string): Promise<Page<Schedule>>;
  update(clientId: string, id: string, spec: ScheduleSpec, fields: readonly SpecField[]): Promise<Schedule>;
  pause(clientId: string, id: string): Promise<Schedule>;
  resume(clientId: string, id: string): Promise<Schedule>;
  delete(clientId: string, id: string): Promise<void>;
  /** One job now. The same `idempotencyKey` returns the same job. */
  trigger(
    clientId: string,
    id: string,
    idempotencyKey: string | undefined,
    requestId: string | null,
  ): Promise<{ job: Job; schedule: Schedule }>;
}

export const scheduleNotFound = (id: string): DomainError =>
  new DomainError('SCHEDULE.NOT_FOUND', `schedule '${id}' not found`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const PAGE_SIZE = { default: 50, max: 200 } as const;

/** Create, read, change, pause, resume, delete and trigger schedules, scoped to a client. */
export function createScheduleCommands(deps: ScheduleCommandsDeps): ScheduleCommands {
  const newId = deps.newId ?? randomUUID;

  /** Checks a spec completely; returns its timetable. Bad input is a 400 naming the field. */
  const validate = (spec: ScheduleSpec): Timetable => {
    const problems = specProblems(spec).map((p) => `'${p.field}' ${p.problem}`);
    const compiled = deps.timetables.compile(spec.cron, spec.timeZone);
    if (!compiled.ok) problems.unshift(`'${compiled.field}' ${compiled.problem}`);
    if (
      !Number.isInteger(spec.priority) ||
      spec.priority < PRIORITY_RANGE.min ||
      spec.priority > PRIORITY_RANGE.max
    )
      problems.push(
        `'priority' (${spec.priority}) must be an integer from ${PRIORITY_RANGE.min} to ${PRIORITY_RANGE.max}`,
      );
    if (!Number.isInteger(spec.maxAttempts) || spec.maxAttempts < 0 || spec.maxAttempts > MAX_ATTEMPTS_LIMIT)
      problems.push(
        `'maxAttempts' (${spec.maxAttempts}) must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT} (0 = default)`,
      );
    if (problems.length > 0) throw invalidRequest(problems.join('; '), problems);
    const info = deps.catalog(spec.jobType);
    if (!info || !info.submittable) {
      throw new DomainError(
        'JOB.UNKNOWN_TYPE',
        `'jobType': job type '${spec.jobType}' is not submittable (known: ${deps.submittableTypes.join(', ')})`,
      );
    }
    const parsed = info.parsePayload(spec.payload);
    if (!parsed.ok) {
      throw new DomainError(
        'JOB.PAYLOAD_INVALID',
        `'payload' of '${spec.jobType}' is invalid: ${parsed.problems.join('; ')}`,
        { problems: parsed.problems },
      );
    }
    if (!compiled.ok) throw new Error('unreachable: invalid timetable passed validation');
    return compiled.timetable;
  };

  const locked = async (
    clientId: string,
    id: string,
    fn: Parameters<ScheduleStore['update']>[2],
  ): Promise<Schedule> => {
    if (!UUID.test(id)) throw scheduleNotFound(id);
    const s = await deps.store.update(clientId, id, fn);
    if (!s) throw scheduleNotFound(id);
    return s;
  };

  return {
    async create(clientId, spec) {
      const timetable = validate(spec);
      const now = deps.clock.now();
      return deps.store.create({
        ...spec,
        id: newId(),
        clientId,
        nextFireTime: firstFireTime((after) => timetable.next(after), spec, now),
      });
    },

    async get(clientId, id) {
      const s = UUID.test(id) ? await deps.store.get(clientId, id) : null;
      if (!s) throw scheduleNotFound(id);
      return s;
    },

    async list(clientId, pageSize, pageToken) {
      if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > PAGE_SIZE.max) {
        throw invalidRequest(`'pageSize' (${pageSize}) must be from 1 to ${PAGE_SIZE.max} (0 = default)`);
      }
      return deps.store.list(clientId, pageSize === 0 ? PAGE_SIZE.default : pageSize, pageToken || null);
    },

    async update(clientId, id, patch, fields) {
      return locked(clientId, id, async (current) => {
        const merged: Record<string, unknown> = { ...specOf(current) };
        for (const f of fields) merged[f] = patch[f];
        const spec = merged as unknown as ScheduleSpec;
        const timetable = validate(spec);
        const moved = fields.some((f) => TIMETABLE_FIELDS.has(f));
        return {
          spec,
          ...(moved && !current.paused
            ? { nextFireTime: firstFireTime((a) => timetable.next(a), spec, deps.clock.now()) }
            : {}),
        };
      });
    },

    async pause(clientId, id) {
      return locked(clientId, id, async (current) =>
        current.paused ? null : { paused: true, nextFireTime: null, bufferedFireTime: null },
      );
    },

    async resume(clientId, id) {
      return locked(clientId, id, async (current) => {
        if (!current.paused) return null;
        const timetable = validate(specOf(current));
        return {
          paused: false,
          nextFireTime: firstFireTime((a) => timetable.next(a), current, deps.clock.now()),
        };
      });
    },

    async delete(clientId, id) {
      if (!UUID.test(id) || !(await deps.store.delete(clientId, id))) throw scheduleNotFound(id);
    },

    async trigger(clientId, id, idempotencyKey, requestId) {
      let job: Job | null = null;
      const schedule = await locked(clientId, id, async (current) => {
        const result = await deps.submitJob({
          clientId,
          idempotencyKey: triggerIdempotencyKey(current.id, idempotencyKey, deps.clock.now()),
          requestId,
          type: current.jobType,
          payload: current.payload,
          priority: current.priority,
          runAt: null,
          maxAttempts: current.maxAttempts,
        });
        job = result.job;
        return { lastJobId: result.job.id };
      });
      if (!job) throw new Error('trigger created no job');
      return { job, schedule };
    },
  };
}

export function specOf(s: Schedule): ScheduleSpec {
  return {
    cron: s.cron,
    timeZone: s.timeZone,
    jobType: s.jobType,
    payload: s.payload,
    priority: s.priority,
    maxAttempts: s.maxAttempts,
    overlapPolicy: s.overlapPolicy,
    catchUpPolicy: s.catchUpPolicy,
    catchUpWindowSeconds: s.catchUpWindowSeconds,
    jitterSeconds: s.jitterSeconds,
    startTime: s.startTime,
    endTime: s.endTime,
    description: s.description,
  };
}
