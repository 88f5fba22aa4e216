/** The one mapping of a `jobs` row (snake_case columns) to the domain's Job. */
import type { ChildrenRollup, ExecutionMode, Job, JobError } from '../../domain/job.entity.js';
import { TERMINAL_STATES, type JobState } from '../../domain/job-state.js';

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
    ...(typeof r.attempt_base === 'number' && r.attempt_base > 0 ? { attemptBase: r.attempt_base } : {}),
    ...(r.children_rollup ? { children: toRollup(r.children_rollup as RollupRow[]) } : {}),
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

interface RollupRow {
  readonly state: JobState;
  readonly n: number;
  readonly pct: number;
}

const TERMINAL_SQL = TERMINAL_STATES.map((s) => `'${s}'`).join(',');

/**
 * The children of the parent row `parent` (an SQL expression), one JSON element per state with
 * its count and summed progress (terminal children count 100); null when it has none. Read with
 * `toJob` under the column name `children_rollup`.
 */
export function childrenRollupSql(parent: string): string {
  return `(SELECT json_agg(r) FROM (
             SELECT state, count(*)::int AS n,
                    sum(CASE WHEN state IN (${TERMINAL_SQL}) THEN 100 ELSE progress END)::float8 AS pct
               FROM jobs WHERE parent_id = ${parent} GROUP BY state) r)`;
}

export function toRollup(rows: readonly RollupRow[]): ChildrenRollup {
  const total = rows.reduce((s, r) => s + r.n, 0);
  const byState: Partial<Record<JobState, number>> = {};
  for (const r of rows) byState[r.state] = r.n;
  const sum = rows.reduce((s, r) => s + r.pct, 0);
  return { total, byState, percent: total === 0 ? 0 : Math.round((sum / total) * 10) / 10 };
}
