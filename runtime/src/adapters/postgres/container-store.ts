import type pg from 'pg';
import type { JobError } from '../../domain/job.entity.js';
import type { JobState } from '../../domain/job-state.js';
import type {
  AttemptRef,
  ContainerJobRow,
  ContainerStore,
  RunningContainerJob,
  StartContainerResult,
} from '../../ports/container.port.js';
import type { JobStore } from '../../ports/job-store.port.js';
import { unavailable } from './pg-pool.js';

const INSERT_EVENT = `INSERT INTO job_events (job_id, from_state, to_state, attempt, reason, details)`;

type Row = Record<string, unknown>;

function toRow(r: Row): ContainerJobRow {
  return {
    id: r.id as string,
    type: r.type as string,
    state: r.state as JobState,
    mode: r.mode as string,
    attempts: r.attempts as number,
    maxAttempts: r.max_attempts as number,
    token: (r.attempt_token as string | null) ?? null,
    payload: r.payload as Record<string, unknown>,
  };
}

/**
 * The launcher's PostgreSQL queries (same tables as the job store). Success and dead-letter writes
 * go through the JobStore (which also completes a fan-out parent); a retry adds an outbox row
 * because a container job's queue message completed when its Kubernetes Job was created.
 */
export class PostgresContainerStore implements ContainerStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly jobs: JobStore,
  ) {}

  private async query(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(text, params);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async get(id: string): Promise<ContainerJobRow | null> {
    const res = await this.query('SELECT * FROM jobs WHERE id = $1', [id]);
    return res.rows[0] ? toRow(res.rows[0] as Row) : null;
  }

  async start(id: string, token: string, worker: string): Promise<StartContainerResult> {
    const res = await this.query(
      `WITH upd AS (
         UPDATE jobs SET state = 'running', attempts = attempts + 1, attempt_token = $2, worker = $3,
                start_time = now(), update_time = now(), progress = 0, progress_message = NULL
         WHERE id = $1 AND state = 'queued' AND mode = 'container' RETURNING *),
       ev AS (${INSERT_EVENT} SELECT id, 'queued', 'running', attempts, 'attempt_started',
              jsonb_build_object('worker', $3::text) FROM upd)
       SELECT * FROM upd`,
      [id, token, worker],
    );
    const row = res.rows[0] as Row | undefined;
    if (!row) return { status: 'skipped', reason: 'not queued' };
    const job = toRow(row);
    return { status: 'started', attempt: job.attempts, token, job };
  }

  async recordEvent(ref: AttemptRef, reason: string, details: Record<string, unknown>): Promise<boolean> {
    const key = typeof details.key === 'string' ? details.key : '';
    const res = await this.query(
      `${INSERT_EVENT}
       SELECT j.id, j.state, j.state, j.attempts, $4, $5::jsonb FROM jobs j
       WHERE j.id = $1 AND j.attempt_token = $2 AND j.state = 'running' AND j.attempts = $3
         AND NOT EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id AND e.attempt = j.attempts
                         AND e.reason = $4 AND coalesce(e.details ->> 'key', '') = $6)
       RETURNING id`,
      [ref.jobId, ref.token, ref.attempt, reason, details, key],
    );
    return res.rowCount === 1;
  }

  async succeed(ref: AttemptRef, result: Record<string, unknown>): Promise<boolean> {
    return (await this.jobs.succeed(ref.jobId, ref.token, result)) !== null;
  }

  async failAndRetry(ref: AttemptRef, error: JobError, runAt: Date): Promise<boolean> {
    const res = await this.query(
      `WITH upd AS (
         UPDATE jobs SET state = 'queued', attempt_token = NULL, error = $3, run_at = $4, update_time = now()
         WHERE id = $1 AND attempt_token = $2 AND state = 'running' RETURNING *),
       ev AS (${INSERT_EVENT}
              SELECT id, 'running', 'failed', attempts, 'attempt_failed', $3::jsonb FROM upd
              UNION ALL
              SELECT id, 'failed', 'queued', attempts, 'retry_scheduled', jsonb_build_object('runAt', $4::timestamptz) FROM upd),
       ob AS (INSERT INTO outbox (job_id, queue, kind, attempt, priority, run_at, request_id, replace, traceparent)
              SELECT id, queue, 'run', attempts, priority, run_at, request_id, true, traceparent FROM upd)
       SELECT id FROM upd`,
      [ref.jobId, ref.token, error, runAt],
    );
    return res.rowCount === 1;
  }

  async failAndDeadLetter(ref: AttemptRef, error: JobError): Promise<boolean> {
    return (await this.jobs.failAndDeadLetter(ref.jobId, ref.token, error)) !== null;
  }

  async running(startedBeforeMs: number): Promise<readonly RunningContainerJob[]> {
    const res = await this.query(
      `SELECT id, type, attempts, max_attempts, attempt_token, start_time FROM jobs
       WHERE mode = 'container' AND state = 'running' AND attempt_token IS NOT NULL
         AND start_time < now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY id LIMIT 5000`,
      [startedBeforeMs],
    );
    return (res.rows as Row[]).map((r) => ({
      id: r.id as string,
      type: r.type as string,
      attempts: r.attempts as number,
      maxAttempts: r.max_attempts as number,
      token: r.attempt_token as string,
      startTime: r.start_time as Date,
    }));
  }

  async activeTokens(jobIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    if (jobIds.length === 0) return new Map();
    const res = await this.query(
      `SELECT id, attempt_token FROM jobs WHERE id = ANY($1::uuid[]) AND state = 'running' AND attempt_token IS NOT NULL`,
      [jobIds],
    );
    return new Map((res.rows as Row[]).map((r) => [r.id as string, r.attempt_token as string]));
  }
}
