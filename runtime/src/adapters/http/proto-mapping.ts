import { create, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ExecutionMode,
  JobEventSchema,
  JobSchema,
  JobErrorSchema,
  JobState as ProtoJobState,
  SubmitJobsResultSchema,
  type Job as ProtoJob,
  type SubmitJobsResult as ProtoSubmitJobsResult,
  type JobEvent as ProtoJobEvent,
} from '@jobplane/proto';
import type { SubmitJobsItemResult } from '../../application/submit-job.use-case.js';
import type { Job, JobEvent } from '../../domain/job.entity.js';
import type { JobState } from '../../domain/job-state.js';
import type { ListFilter } from '../../ports/job-store.port.js';

const STATE_TO_PROTO: Record<JobState, ProtoJobState> = {
  queued: ProtoJobState.QUEUED,
  running: ProtoJobState.RUNNING,
  succeeded: ProtoJobState.SUCCEEDED,
  failed: ProtoJobState.FAILED,
  dead_lettered: ProtoJobState.DEAD_LETTERED,
  cancelled: ProtoJobState.CANCELLED,
};

export function stateToProto(state: JobState): ProtoJobState {
  return STATE_TO_PROTO[state];
}

export function stateFromProto(state: ProtoJobState): JobState | undefined {
  return (Object.keys(STATE_TO_PROTO) as JobState[]).find((s) => STATE_TO_PROTO[s] === state);
}

/** Domain job → `jobprocessing.v1.Job`. */
export function jobToProto(job: Job): ProtoJob {
  return create(JobSchema, {
    id: job.id,
    type: job.type,
    payload: job.payload as Record<string, JsonValue>,
    state: stateToProto(job.state),
    priority: job.priority,
    runAt: timestampFromDate(job.runAt),
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    progress: { percent: job.progress, message: job.progressMessage ?? '' },
    ...(job.result ? { result: job.result as Record<string, JsonValue> } : {}),
    ...(job.error
      ? {
          error: {
            code: job.error.code,
            message: job.error.message,
            // A dead-lettered job gets no further attempt, whatever its last failure was (a
            // redrive starts a new one): never `retryable: true` there.
            retryable: job.error.retryable && job.state !== 'dead_lettered',
          },
        }
      : {}),
    mode:
      job.mode === 'container'
        ? ExecutionMode.CONTAINER
        : job.mode === 'isolated'
          ? ExecutionMode.ISOLATED
          : ExecutionMode.POOLED,
    queue: job.queue,
    idempotencyKey: job.idempotencyKey,
    parentId: job.parentId ?? '',
    createTime: timestampFromDate(job.createTime),
    updateTime: timestampFromDate(job.updateTime),
    ...(job.startTime ? { startTime: timestampFromDate(job.startTime) } : {}),
    ...(job.finishTime ? { finishTime: timestampFromDate(job.finishTime) } : {}),
    ...(job.children
      ? {
          children: {
            total: job.children.total,
            queued: job.children.byState.queued ?? 0,
            running: job.children.byState.running ?? 0,
            succeeded: job.children.byState.succeeded ?? 0,
            failed: job.children.byState.failed ?? 0,
            deadLettered: job.children.byState.dead_lettered ?? 0,
            cancelled: job.children.byState.cancelled ?? 0,
            percent: job.children.percent,
          },
        }
      : {}),
  });
}

/** ListJobs' filters (HTTP query and Connect alike); the use case validates them. */
export function listFilterFromProto(req: {
  readonly state: ProtoJobState;
  readonly type: string;
  readonly parentId: string;
}): ListFilter {
  const state = req.state === ProtoJobState.UNSPECIFIED ? undefined : stateFromProto(req.state);
  return {
    ...(state ? { state } : {}),
    ...(req.type ? { type: req.type } : {}),
    ...(req.parentId ? { parentId: req.parentId } : {}),
  };
}

export function eventToProto(ev: JobEvent): ProtoJobEvent {
  return create(JobEventSchema, {
    id: ev.id,
    jobId: ev.jobId,
    fromState: ev.fromState ? stateToProto(ev.fromState) : ProtoJobState.UNSPECIFIED,
    toState: stateToProto(ev.toState),
    attempt: ev.attempt,
    reason: ev.reason,
    ...(ev.details ? { details: ev.details as Record<string, JsonValue> } : {}),
    createTime: timestampFromDate(ev.createTime),
  });
}

export { toJson };

/** One entry's outcome of SubmitJobs → `jobprocessing.v1.SubmitJobsResult`. */
export function submitJobsResultToProto(r: SubmitJobsItemResult): ProtoSubmitJobsResult {
  return r.ok
    ? create(SubmitJobsResultSchema, { job: jobToProto(r.job), created: r.created })
    : create(SubmitJobsResultSchema, {
        error: create(JobErrorSchema, { code: r.error.code, message: r.error.message, retryable: false }),
      });
}
