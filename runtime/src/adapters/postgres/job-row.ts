/** The one mapping of a `jobs` row (snake_case columns) to the domain's Job. */
import type { ExecutionMode, Job, JobError } from '../../domain/job.entity.js';
import type { JobState } from '../../domain/job-state.js';

export type JobRow = Record<string, unknown>;

export function toJob(r: JobRow): Job {
  return {
    id: r.id as string,
    clientId: r.client_id as string,
    type: r.type as string,
    payload: r.payload as Record<string, unknown>,
    state: r.state as JobState,
    priority: r.priority as number,
    runAt: r.run_at as Date,
    attempts: r.attempts as number,
    maxAttempts: r.max_attempts as number,
    progress: r.progress as number,
    progressMessage: (r.progress_message as string | null) ?? null,
    result: (r.result as Record<string, unknown> | null) ?? null,
    error: (r.error as JobError | null) ?? null,
    mode: r.mode as ExecutionMode,
    queue: r.queue as string,
    idempotencyKey: r.idempotency_key as string,
    parentId: (r.parent_id as string | null) ?? null,
    childIndex: (r.child_index as number | null) ?? null,
    fanOutTotal: (r.fan_out_total as number | null) ?? null,
    requestId: (r.request_id as string | null) ?? null,
    ...(typeof r.concurrency_key === 'string' ? { concurrencyKey: r.concurrency_key } : {}),
    ...(typeof r.concurrency_limit === 'number' ? { concurrencyLimit: r.concurrency_limit } : {}),
    ...(typeof r.flow_key === 'string' ? { flowKey: r.flow_key } : {}),
    ...(typeof r.flow_limit === 'number' ? { flowLimit: r.flow_limit } : {}),
    createTime: r.create_time as Date,
    updateTime: r.update_time as Date,
    startTime: (r.start_time as Date | null) ?? null,
    finishTime: (r.finish_time as Date | null) ?? null,
  };
}
