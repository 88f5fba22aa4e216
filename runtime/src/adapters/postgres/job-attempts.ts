import type pg from 'pg';
import type { Job, JobError } from '../../domain/job.entity.js';
import { decideStart } from '../../domain/fencing.js';
import type { JobState } from '../../domain/job-state.js';
import type { StartResult, JobAttempts } from '../../ports/job-store.port.js';
import {
  BatchItemError,
  DEFAULT_GROUP_COMMIT,
  GroupCommitter,
  type GroupCommitOptions,
} from './group-commit.js';
import { isUnavailable, unavailable, withTransaction } from './pg-pool.js';
import { toJob } from './job-row.js';
import { INSERT_EVENT, PgStorePart, type Row } from './store-part.js';

interface StartItem {
  readonly id: string;
  readonly token: string;
  readonly worker: string;
}

interface SucceedItem {
  readonly id: string;
  readonly token: string;
  readonly result: Record<string, unknown>;
}

/**
 * Splits a batch so no id appears twice in one statement (an UPDATE … FROM touches a row once):
 * the first occurrence of each id goes in `batch`, the others in `rest` (run one by one after).
 */
function splitDuplicates<T extends { id: string }>(items: readonly T[]): { batch: number[]; rest: number[] } {
  const seen = new Set<string>();
  const batch: number[] = [];
  const rest: number[] = [];
  items.forEach((it, i) => {
    if (seen.has(it.id)) rest.push(i);
    else {
      seen.add(it.id);
      batch.push(i);
    }
  });
  return { batch, rest };
}

/** One attempt on a worker: start (or take over), progress, outcome, every write fenced by its token. */
export class PgJobAttempts extends PgStorePart implements JobAttempts {
  /** Concurrent attempt starts (the `queued → running` fast path), one statement per batch. */
  private readonly starts: GroupCommitter<StartItem, Row | null>;
  /** Concurrent success writes, one statement per batch. */
  private readonly successes: GroupCommitter<SucceedItem, Row | null>;

  constructor(pool: pg.Pool, groupCommit: GroupCommitOptions = DEFAULT_GROUP_COMMIT) {
    super(pool);
    this.starts = new GroupCommitter((items) => this.flushStarts(items), groupCommit);
    this.successes = new GroupCommitter((items) => this.flushSuccesses(items), groupCommit);
  }

  /** Batches and items the start and success committers carried (tests, benchmarks). */
  stats(): Record<'starts' | 'successes', { batches: number; items: number }> {
    const of = (g: { batches: number; items: number }) => ({ batches: g.batches, items: g.items });
    return { starts: of(this.starts), successes: of(this.successes) };
  }

  async startAttempt(id: string, token: string, worker: string): Promise<StartResult> {
    // Hot path: queued → running in one statement (one commit), shared by concurrent starts.
    const fast = await this.starts.submit({ id, token, worker });
    if (fast) return { status: 'started', job: toJob(fast), token, tookOver: false };

    const outcome = await withTransaction(this.pool, async (c) => {
      const cur = await c.query('SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      const row = cur.rows[0] as Row | undefined;
      const view = row
        ? {
            state: row.state as JobState,
            attemptToken: row.attempt_token as string | null,
            attempts: row.attempts as number,
            maxAttempts: row.max_attempts as number,
          }
        : null;
      const decision = decideStart(view);
      if (!row || decision.action === 'skip') {
        return {
          status: 'skipped',
          reason: decision.action === 'skip' ? decision.reason : 'missing',
        } as const;
      }
      if (decision.action === 'start') {
        // Lost the race with the fast path's snapshot; start here under the row lock.
        const upd = await c.query(
          `UPDATE jobs SET state = 'running', attempts = attempts + 1, attempt_token = $2, worker = $3,
                  start_time = now(), update_time = now(), progress = 0, progress_message = NULL
           WHERE id = $1 RETURNING *`,
          [id, token, worker],
        );
        const job = toJob(upd.rows[0] as Row);
        await c.query(`${INSERT_EVENT} VALUES ($1, 'queued', 'running', $2, 'attempt_started', $3)`, [
          id,
          job.attempts,
          { worker },
        ]);
        return { status: 'started', job, token, tookOver: false } as const;
      }
      const lost: JobError = {
        code: 'WORKER.LOST',
        message:
          'the previous attempt ended without recording its outcome (its worker died, froze past its lock, or could not write to PostgreSQL)',
        retryable: true,
      };
      const prev = row.attempts as number;
      if (decision.action === 'dead_letter') {
        const upd = await c.query(
          `UPDATE jobs SET state = 'dead_lettered', attempt_token = NULL, error = $2, finish_time = now(),
                  update_time = now() WHERE id = $1 RETURNING *`,
          [id, lost],
        );
        await c.query(
          `${INSERT_EVENT} VALUES ($1, 'running', 'failed', $2, 'worker_lost', $3),
                                  ($1, 'failed', 'dead_lettered', $2, 'attempts_exhausted', NULL)`,
          [id, prev, lost],
        );
        return { status: 'dead_lettered', job: toJob(upd.rows[0] as Row) } as const;
      }
      const upd = await c.query(
        `UPDATE jobs SET attempts = attempts + 1, attempt_token = $2, worker = $3, error = $4,
                start_time = now(), update_time = now() WHERE id = $1 RETURNING *`,
        [id, token, worker, lost],
      );
      const job = toJob(upd.rows[0] as Row);
      await c.query(
        `${INSERT_EVENT} VALUES ($1, 'running', 'failed', $2, 'worker_lost', $4),
                                ($1, 'failed', 'queued', $2, 'retry_scheduled', NULL),
                                ($1, 'queued', 'running', $3, 'attempt_started', $5)`,
        [id, prev, job.attempts, lost, { worker, tookOver: true }],
      );
      return { status: 'started', job, token, tookOver: true } as const;
    });
    if (outcome.status === 'dead_lettered' && outcome.job.parentId)
      await this.notifyParent(outcome.job.parentId);
    return outcome;
  }

  async reportProgress(id: string, token: string, percent: number, message: string | null): Promise<boolean> {
    const res = await this.query(
      `UPDATE jobs SET progress = $3, progress_message = $4, update_time = now()
       WHERE id = $1 AND attempt_token = $2 AND state = 'running'`,
      [id, token, percent, message],
    );
    return res.rowCount === 1;
  }

  async succeed(id: string, token: string, result: Record<string, unknown>): Promise<Job | null> {
    // Fenced running → succeeded; concurrent successes share one statement (one commit).
    const row = await this.successes.submit({ id, token, result });
    const job = row ? toJob(row) : null;
    if (job?.parentId) await this.notifyParent(job.parentId);
    return job;
  }

  /**
   * Runs `statement` for the items whose id is unique in the batch and `single` for the rest, one
   * by one after it; a refused multi-row statement is retried item by item so only the item
   * PostgreSQL refuses fails.
   */
  private async perItem<T extends { id: string }>(
    items: readonly T[],
    statement: (items: readonly T[]) => Promise<Map<string, Row>>,
  ): Promise<Array<Row | null | BatchItemError>> {
    const { batch, rest } = splitDuplicates(items);
    const out: Array<Row | null | BatchItemError> = new Array<Row | null | BatchItemError>(items.length);
    const first = batch.map((i) => items[i]!);
    let rows: Map<string, Row> | null = null;
    try {
      rows = await statement(first);
    } catch (err) {
      if (first.length === 1 || isUnavailable(err)) throw unavailable(err);
    }
    if (rows) {
      for (const i of batch) out[i] = rows.get(items[i]!.id) ?? null;
    } else {
      for (const i of batch) {
        out[i] = await statement([items[i]!]).then(
          (m) => m.get(items[i]!.id) ?? null,
          (e: unknown) => new BatchItemError(unavailable(e)),
        );
      }
    }
    for (const i of rest) {
      out[i] = await statement([items[i]!]).then(
        (m) => m.get(items[i]!.id) ?? null,
        (e: unknown) => new BatchItemError(unavailable(e)),
      );
    }
    return out;
  }

  private flushStarts(items: readonly StartItem[]): Promise<Array<Row | null | BatchItemError>> {
    return this.perItem(items, async (batch) => {
      const sorted = [...batch].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const res = await this.pool.query(
        `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS v(id, token, worker)),
         upd AS (
           UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, attempt_token = v.token,
                  worker = v.worker, start_time = now(), update_time = now(), progress = 0,
                  progress_message = NULL
           FROM v WHERE j.id = v.id AND j.state = 'queued' RETURNING j.*),
         ev AS (${INSERT_EVENT} SELECT id, 'queued', 'running', attempts, 'attempt_started',
                jsonb_build_object('worker', worker) FROM upd)
         SELECT * FROM upd`,
        [sorted.map((b) => b.id), sorted.map((b) => b.token), sorted.map((b) => b.worker)],
      );
      return new Map((res.rows as Row[]).map((r) => [r.id as string, r]));
    });
  }

  private flushSuccesses(items: readonly SucceedItem[]): Promise<Array<Row | null | BatchItemError>> {
    return this.perItem(items, async (batch) => {
      const sorted = [...batch].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const res = await this.pool.query(
        `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS v(id, token, result)),
         upd AS (
           UPDATE jobs j SET state = 'succeeded', result = v.result::jsonb, error = NULL, progress = 100,
                  finish_time = now(), update_time = now()
           FROM v WHERE j.id = v.id AND j.attempt_token = v.token AND j.state = 'running' RETURNING j.*),
         ev AS (${INSERT_EVENT} SELECT id, 'running', 'succeeded', attempts, 'handler_succeeded', NULL FROM upd)
         SELECT * FROM upd`,
        [sorted.map((b) => b.id), sorted.map((b) => b.token), sorted.map((b) => JSON.stringify(b.result))],
      );
      return new Map((res.rows as Row[]).map((r) => [r.id as string, r]));
    });
  }

  async failAndRetry(id: string, token: string, error: JobError, runAt: Date): Promise<Job | null> {
    const res = await this.query(
      `WITH upd AS (
         UPDATE jobs SET state = 'queued', error = $3, run_at = $4, fan_out_total = NULL, update_time = now()
         WHERE id = $1 AND attempt_token = $2 AND state = 'running' RETURNING *),
       ev AS (${INSERT_EVENT}
              SELECT id, 'running', 'failed', attempts, 'attempt_failed', $3::jsonb FROM upd
              UNION ALL
              SELECT id, 'failed', 'queued', attempts, 'retry_scheduled', jsonb_build_object('runAt', $4::timestamptz) FROM upd)
       SELECT * FROM upd`,
      [id, token, error, runAt],
    );
    return res.rows[0] ? toJob(res.rows[0] as Row) : null;
  }

  async deferUnknownType(
    id: string,
    token: string,
    error: JobError,
    runAt: Date,
    release: boolean,
  ): Promise<boolean> {
    const details = { ...error, runAt: runAt.toISOString() };
    const res = release
      ? await this.pool.query(
          `WITH upd AS (
             UPDATE jobs SET state = 'queued', attempts = attempts - 1, attempt_token = NULL, run_at = $3,
                    update_time = now()
             WHERE id = $1 AND attempt_token = $2 AND state = 'running' RETURNING *),
           ev AS (${INSERT_EVENT}
                  SELECT id, 'running', 'queued', attempts, 'unknown_type_deferred', $4::jsonb FROM upd)
           SELECT id FROM upd`,
          [id, token, runAt, details],
        )
      : await this.pool.query(
          `${INSERT_EVENT} SELECT id, state, state, attempts, 'unknown_type_deferred', $3::jsonb
           FROM jobs WHERE id = $1 AND attempt_token = $2 AND state = 'running' RETURNING job_id`,
          [id, token, details],
        );
    return res.rowCount === 1;
  }

  async unknownTypeDeferrals(id: string): Promise<number> {
    const res = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM job_events WHERE job_id = $1 AND reason = 'unknown_type_deferred'`,
      [id],
    );
    return Number(res.rows[0]?.n ?? 0);
  }

  async failAndDeadLetter(id: string, token: string, error: JobError): Promise<Job | null> {
    const res = await this.query(
      `WITH upd AS (
         UPDATE jobs SET state = 'dead_lettered', error = $3, finish_time = now(), update_time = now()
         WHERE id = $1 AND attempt_token = $2 AND state = 'running' RETURNING *),
       ev AS (${INSERT_EVENT}
              SELECT id, 'running', 'failed', attempts, 'attempt_failed', $3::jsonb FROM upd
              UNION ALL
              SELECT id, 'failed', 'dead_lettered', attempts,
                     CASE WHEN ($3::jsonb ->> 'retryable')::boolean THEN 'attempts_exhausted' ELSE 'unrecoverable' END,
                     NULL FROM upd)
       SELECT * FROM upd`,
      [id, token, error],
    );
    const job = res.rows[0] ? toJob(res.rows[0] as Row) : null;
    if (job?.parentId) await this.notifyParent(job.parentId);
    return job;
  }

  async currentToken(id: string, attempt: number): Promise<string | null> {
    const res = await this.query(
      `SELECT attempt_token FROM jobs WHERE id = $1 AND state = 'running' AND attempts = $2
       AND fan_out_total IS NOT NULL`,
      [id, attempt],
    );
    return ((res.rows[0] as Row | undefined)?.attempt_token as string | undefined) ?? null;
  }
}
