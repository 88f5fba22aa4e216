import type pg from 'pg';
import { DomainError, isDomainError } from '../../domain/errors.js';
import type { Job, JobError, JobEvent } from '../../domain/job.entity.js';
import { decideStart } from '../../domain/fencing.js';
import { ACTIVE_STATES, TERMINAL_STATES, type JobState } from '../../domain/job-state.js';
import type { QueueMessage } from '../../ports/job-queue.port.js';
import type {
  CancelResult,
  ChildRow,
  ChildSpec,
  InsertResult,
  JobStore,
  ListFilter,
  NewJob,
  OutboxBatch,
  Page,
  ReconcileCandidate,
  StartResult,
} from '../../ports/job-store.port.js';
import {
  BatchItemError,
  DEFAULT_GROUP_COMMIT,
  GroupCommitter,
  type GroupCommitOptions,
} from './group-commit.js';
import { checkout, isUnavailable, unavailable, withTransaction } from './pg-pool.js';
import { toJob } from './job-row.js';
import { endSubmitSpans, inInsertBatch, startSubmitSpans, type Traced } from '../tracing/job-spans.js';
import { traceparentOf } from '../tracing/tracing.js';

/** A SQL list of states, from the domain's constants (the state names are fixed identifiers). */
const sqlStates = (states: readonly JobState[]): string => `(${states.map((st) => `'${st}'`).join(',')})`;
const TERMINAL_SQL = sqlStates(TERMINAL_STATES);
const ACTIVE_SQL = sqlStates(ACTIVE_STATES);

type Row = Record<string, unknown>;

function toEvent(r: Row): JobEvent {
  return {
    id: String(r.id),
    jobId: r.job_id as string,
    fromState: (r.from_state as JobState | null) ?? null,
    toState: r.to_state as JobState,
    attempt: r.attempt as number,
    reason: r.reason as string,
    details: (r.details as Record<string, unknown> | null) ?? null,
    createTime: r.create_time as Date,
  };
}

function encodeCursor(createTime: string, id: string): string {
  return Buffer.from(JSON.stringify([createTime, id])).toString('base64url');
}

/** `create_time::text` as PostgreSQL prints it (ISO style), e.g. `2026-01-31 12:00:00.123456+00`. */
const CURSOR_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A time PostgreSQL accepts as timestamptz (checked here so a forged token is a 400, never a 500). */
function isCursorTime(text: string): boolean {
  const m = CURSOR_TIME.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s, tzh, tzm] = m.slice(1).map((v) => Number(v ?? 0)) as number[];
  const days = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  return (
    y! >= 1 &&
    mo! >= 1 &&
    mo! <= 12 &&
    d! >= 1 &&
    d! <= days &&
    h! <= 23 &&
    mi! <= 59 &&
    s! <= 59 &&
    tzh! <= 15 &&
    tzm! <= 59
  );
}

function decodeCursor(token: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      isCursorTime(v[0]) &&
      typeof v[1] === 'string' &&
      CURSOR_ID.test(v[1])
    ) {
      return [v[0], v[1]];
    }
  } catch {
    // fall through
  }
  throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
}

const INSERT_EVENT = `INSERT INTO job_events (job_id, from_state, to_state, attempt, reason, details)`;

/** Byte order of (client, key), the order PostgreSQL's unique index would lock them in any batch. */
function compareKeys(a: NewJob, b: NewJob): number {
  if (a.clientId !== b.clientId) return a.clientId < b.clientId ? -1 : 1;
  return a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0;
}

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

/** PostgreSQL implementation of the JobStore port. See migrations/ for the schema. */
export class PostgresJobStore implements JobStore {
  /** Concurrent `insert` calls, coalesced into one statement (group commit). */
  private readonly inserts: GroupCommitter<Traced<NewJob>, InsertResult>;
  /** Concurrent attempt starts (the `queued → running` fast path), one statement per batch. */
  private readonly starts: GroupCommitter<StartItem, Row | null>;
  /** Concurrent success writes, one statement per batch. */
  private readonly successes: GroupCommitter<SucceedItem, Row | null>;

  constructor(
    private readonly pool: pg.Pool,
    groupCommit: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
  ) {
    this.inserts = new GroupCommitter((items) => this.flushInserts(items), groupCommit);
    this.starts = new GroupCommitter((items) => this.flushStarts(items), groupCommit);
    this.successes = new GroupCommitter((items) => this.flushSuccesses(items), groupCommit);
  }

  /** Batches and items each group committer carried (tests, benchmarks). */
  groupCommitStats(): Record<'inserts' | 'starts' | 'successes', { batches: number; items: number }> {
    const of = (g: { batches: number; items: number }) => ({ batches: g.batches, items: g.items });
    return { inserts: of(this.inserts), starts: of(this.starts), successes: of(this.successes) };
  }

  /** One statement on the pool; "PostgreSQL did not answer" becomes 503 SERVICE.UNAVAILABLE. */
  private async query(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(text, params);
    } catch (err) {
      throw unavailable(err);
    }
  }

  /**
   * Job + creation event + outbox row. Concurrent calls share one statement (one commit); the
   * promise settles once the caller's own row has committed.
   */
  insert(job: NewJob): Promise<InsertResult> {
    // Its own submit span and stored trace context, whichever batch carries it (tracing).
    const traced = startSubmitSpans([job]);
    return this.inserts.submit(traced[0]!).then(
      (r) => (endSubmitSpans(traced, { created: () => r.created }), r),
      (err: unknown) => {
        endSubmitSpans(traced, { error: err });
        throw err;
      },
    );
  }

  /**
   * Many jobs in one statement (one transaction, one commit), one result per input in order. A
   * (client, key) given twice is inserted once; the later ones read as replays of the first.
   */
  async insertMany(jobs: readonly NewJob[]): Promise<InsertResult[]> {
    if (jobs.length === 0) return [];
    const traced = startSubmitSpans(jobs);
    try {
      const results = await inInsertBatch(traced, () => this.insertStatement(traced));
      endSubmitSpans(traced, { created: (i) => results[i]?.created });
      return results;
    } catch (err) {
      endSubmitSpans(traced, { error: err });
      throw err;
    }
  }

  private async flushInserts(
    items: readonly Traced<NewJob>[],
  ): Promise<Array<InsertResult | BatchItemError>> {
    try {
      return await inInsertBatch(items, () => this.insertStatement(items));
    } catch (err) {
      // PostgreSQL unreachable: every caller gets the 503. Refused: find which row it refused.
      if (items.length === 1 || isDomainError(err) || isUnavailable(err)) throw unavailable(err);
      return Promise.all(
        items.map((item) =>
          this.insertStatement([item]).then(
            (r) => r[0]!,
            (e: unknown) => new BatchItemError(unavailable(e)),
          ),
        ),
      );
    }
  }

  private async insertStatement(jobs: readonly Traced<NewJob>[]): Promise<InsertResult[]> {
    // Duplicates of a (client, key) inside the batch: only the first goes to PostgreSQL.
    const firstOf = new Map<string, number>();
    const unique: Traced<NewJob>[] = [];
    const slot = jobs.map((j) => {
      const k = `${j.clientId}\u0000${j.idempotencyKey}`;
      let at = firstOf.get(k);
      if (at === undefined) {
        at = unique.length;
        firstOf.set(k, at);
        unique.push(j);
      }
      return at;
    });
    // A fixed order of the unique index entries: two batches never wait on each other in a cycle.
    const order = unique.map((_, i) => i).sort((a, b) => compareKeys(unique[a]!, unique[b]!));
    const sorted = order.map((i) => unique[i]!);
    // One statement = one commit: job rows, creation events and outbox rows together.
    const res = await this.query(
      `WITH v AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                              $8::int[], $9::timestamptz[], $10::text[], $11::text[], $12::text[],
                              $13::text[])
                  WITH ORDINALITY AS v(id, client_id, idempotency_key, request_hash, type, payload, max_attempts,
                                       priority, run_at, mode, queue, request_id, traceparent, ord)),
       ins AS (
         INSERT INTO jobs (id, client_id, idempotency_key, request_hash, type, payload, state, max_attempts,
                           priority, run_at, mode, queue, request_id, traceparent)
         SELECT id, client_id, idempotency_key, request_hash, type, payload::jsonb, 'queued', max_attempts,
                priority, run_at, mode, queue, request_id, traceparent FROM v ORDER BY ord
         ON CONFLICT (client_id, idempotency_key) DO NOTHING
         RETURNING *),
       ev AS (${INSERT_EVENT} SELECT id, NULL, 'queued', 0, 'submitted', NULL FROM ins),
       ob AS (INSERT INTO outbox (job_id, queue, kind, attempt, priority, run_at, request_id, traceparent)
              SELECT id, queue, 'run', 0, priority, run_at, request_id, traceparent FROM ins)
       SELECT * FROM ins`,
      [
        sorted.map((j) => j.id),
        sorted.map((j) => j.clientId),
        sorted.map((j) => j.idempotencyKey),
        sorted.map((j) => j.requestHash),
        sorted.map((j) => j.type),
        sorted.map((j) => JSON.stringify(j.payload)),
        sorted.map((j) => j.maxAttempts),
        sorted.map((j) => j.priority),
        sorted.map((j) => j.runAt),
        sorted.map((j) => j.mode),
        sorted.map((j) => j.queue),
        sorted.map((j) => j.requestId),
        sorted.map((j) => j.traceparent),
      ],
    );
    const createdById = new Map<string, Row>();
    for (const r of res.rows as Row[]) createdById.set(r.id as string, r);
    const results: (InsertResult | undefined)[] = unique.map((j) => {
      const row = createdById.get(j.id);
      return row ? { job: toJob(row), created: true, requestHash: j.requestHash } : undefined;
    });
    const missing = unique.filter((_, i) => results[i] === undefined);
    if (missing.length > 0) {
      const existing = await this.query(
        `SELECT j.* FROM jobs j JOIN unnest($1::text[], $2::text[]) AS k(client_id, idempotency_key)
           ON j.client_id = k.client_id AND j.idempotency_key = k.idempotency_key`,
        [missing.map((j) => j.clientId), missing.map((j) => j.idempotencyKey)],
      );
      const byKey = new Map<string, Row>();
      for (const r of existing.rows as Row[])
        byKey.set(`${r.client_id as string}\u0000${r.idempotency_key as string}`, r);
      unique.forEach((j, i) => {
        if (results[i]) return;
        const row = byKey.get(`${j.clientId}\u0000${j.idempotencyKey}`);
        if (!row) throw new Error('idempotent insert found neither a new nor an existing row');
        results[i] = { job: toJob(row), created: false, requestHash: row.request_hash as string };
      });
    }
    const seen = new Set<number>();
    return slot.map((at) => {
      const r = results[at]!;
      if (seen.has(at)) return { job: r.job, created: false, requestHash: r.requestHash };
      seen.add(at);
      return r;
    });
  }

  async get(clientId: string, id: string): Promise<Job | null> {
    const res = await this.query('SELECT * FROM jobs WHERE id = $1 AND client_id = $2', [id, clientId]);
    return res.rows[0] ? toJob(res.rows[0] as Row) : null;
  }

  async getAny(id: string): Promise<Job | null> {
    const res = await this.query('SELECT * FROM jobs WHERE id = $1', [id]);
    return res.rows[0] ? toJob(res.rows[0] as Row) : null;
  }

  async list(
    clientId: string,
    filter: ListFilter,
    pageSize: number,
    cursor: string | null,
  ): Promise<Page<Job>> {
    const params: unknown[] = [clientId];
    const where = ['client_id = $1'];
    if (filter.state) {
      params.push(filter.state);
      where.push(`state = $${params.length}`);
    }
    if (filter.type) {
      params.push(filter.type);
      where.push(`type = $${params.length}`);
    }
    if (cursor) {
      const [t, id] = decodeCursor(cursor);
      params.push(t, id);
      where.push(`(create_time, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(pageSize + 1);
    const res = await this.query(
      `SELECT *, create_time::text AS create_time_text FROM jobs WHERE ${where.join(' AND ')}
       ORDER BY create_time DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const rows = res.rows as Row[];
    const more = rows.length > pageSize;
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      items: page.map(toJob),
      nextCursor: more && last ? encodeCursor(last.create_time_text as string, last.id as string) : null,
    };
  }

  async listEvents(jobId: string, pageSize: number, afterId: string | null): Promise<Page<JobEvent>> {
    const res = await this.query(
      'SELECT * FROM job_events WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [jobId, afterId ?? '0', pageSize + 1],
    );
    const rows = res.rows as Row[];
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return { items: page.map(toEvent), nextCursor: rows.length > pageSize && last ? String(last.id) : null };
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

  async deadLetterAbandoned(id: string, error: JobError): Promise<Job | null> {
    const res = await this.query(
      `WITH upd AS (
         UPDATE jobs SET state = 'dead_lettered', attempt_token = NULL, error = $2, finish_time = now(),
                update_time = now()
         WHERE id = $1 AND state = 'running' RETURNING *),
       ev AS (${INSERT_EVENT}
              SELECT id, 'running', 'failed', attempts, 'stalled', $2::jsonb FROM upd
              UNION ALL
              SELECT id, 'failed', 'dead_lettered', attempts, 'stall_limit', NULL FROM upd)
       SELECT * FROM upd`,
      [id, error],
    );
    const job = res.rows[0] ? toJob(res.rows[0] as Row) : null;
    if (job?.parentId) await this.notifyParent(job.parentId);
    return job;
  }

  async fanOut(id: string, token: string, children: readonly ChildSpec[]): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      const upd = await c.query(
        `UPDATE jobs SET fan_out_total = $3, progress_message = $4, update_time = now()
         WHERE id = $1 AND attempt_token = $2 AND state = 'running' RETURNING id`,
        [id, token, children.length, `waiting for ${children.length} child jobs`],
      );
      if (upd.rowCount !== 1) return false;
      if (children.length > 0) {
        // Children are keyed by (parent, index): re-running the parent never duplicates them.
        await c.query(
          `WITH p AS (SELECT client_id, request_id, priority FROM jobs WHERE id = $1),
           ins AS (
             INSERT INTO jobs (id, client_id, idempotency_key, request_hash, type, payload, state, max_attempts,
                               priority, run_at, mode, queue, parent_id, child_index, request_id, traceparent)
             SELECT ch.id, p.client_id, 'fan-out:' || $1::text || ':' || ch.idx, '', ch.type, ch.payload::jsonb,
                    'queued', ch.max_attempts, p.priority, now(), ch.mode, ch.queue, $1, ch.idx, p.request_id, $9
             FROM p, unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[])
                  AS ch(id, idx, type, payload, max_attempts, mode, queue)
             ON CONFLICT (client_id, idempotency_key) DO NOTHING
             RETURNING *),
           ev AS (${INSERT_EVENT} SELECT id, NULL, 'queued', 0, 'fanned_out', jsonb_build_object('parentId', parent_id) FROM ins)
           INSERT INTO outbox (job_id, queue, kind, attempt, priority, run_at, request_id, traceparent)
           SELECT id, queue, 'run', 0, priority, run_at, request_id, traceparent FROM ins`,
          [
            id,
            children.map((ch) => ch.id),
            children.map((ch) => ch.index),
            children.map((ch) => ch.type),
            children.map((ch) => JSON.stringify(ch.payload)),
            children.map((ch) => ch.maxAttempts),
            children.map((ch) => ch.mode),
            children.map((ch) => ch.queue),
            // Children join the trace of the parent's attempt that fanned them out.
            traceparentOf(),
          ],
        );
      }
      await this.enqueueAggregateIfDone(c, id);
      return true;
    });
  }

  async children(id: string): Promise<ChildRow[]> {
    const res = await this.query(
      'SELECT id, child_index, state, result, error FROM jobs WHERE parent_id = $1 ORDER BY child_index',
      [id],
    );
    return (res.rows as Row[]).map((r) => ({
      jobId: r.id as string,
      index: r.child_index as number,
      state: r.state as JobState,
      result: (r.result as Record<string, unknown> | null) ?? null,
      error: (r.error as JobError | null) ?? null,
    }));
  }

  async currentToken(id: string, attempt: number): Promise<string | null> {
    const res = await this.query(
      `SELECT attempt_token FROM jobs WHERE id = $1 AND state = 'running' AND attempts = $2
       AND fan_out_total IS NOT NULL`,
      [id, attempt],
    );
    return ((res.rows[0] as Row | undefined)?.attempt_token as string | undefined) ?? null;
  }

  async cancel(clientId: string, id: string): Promise<CancelResult | null> {
    const out = await withTransaction(this.pool, async (c) => {
      const cur = await c.query('SELECT * FROM jobs WHERE id = $1 AND client_id = $2 FOR UPDATE', [
        id,
        clientId,
      ]);
      const row = cur.rows[0] as Row | undefined;
      if (!row) return null;
      const from = row.state as JobState;
      if (from !== 'queued' && from !== 'running')
        return { job: toJob(row), changed: false, cancelledChildren: [] };
      const upd = await c.query(
        `UPDATE jobs SET state = 'cancelled', attempt_token = NULL, finish_time = now(), update_time = now()
         WHERE id = $1 RETURNING *`,
        [id],
      );
      await c.query(`${INSERT_EVENT} VALUES ($1, $2, 'cancelled', $3, 'cancel_requested', NULL)`, [
        id,
        from,
        row.attempts,
      ]);
      // Children of a cancelled fan-out are cancelled with it.
      const kids = await c.query(
        `WITH upd AS (
           UPDATE jobs c SET state = 'cancelled', attempt_token = NULL, finish_time = now(), update_time = now()
           FROM (SELECT id, state AS old_state FROM jobs WHERE parent_id = $1 AND state IN ${ACTIVE_SQL} FOR UPDATE) o
           WHERE c.id = o.id RETURNING c.id, o.old_state, c.attempts),
         ev AS (${INSERT_EVENT} SELECT id, old_state, 'cancelled', attempts, 'parent_cancelled', NULL FROM upd)
         SELECT id FROM upd`,
        [id],
      );
      return {
        job: toJob(upd.rows[0] as Row),
        changed: true,
        cancelledChildren: (kids.rows as Row[]).map((r) => r.id as string),
      };
    });
    if (out?.changed && out.job.parentId) await this.notifyParent(out.job.parentId);
    return out;
  }

  async retry(clientId: string, id: string): Promise<{ job: Job; changed: boolean } | null> {
    return withTransaction(this.pool, async (c) => {
      const cur = await c.query('SELECT * FROM jobs WHERE id = $1 AND client_id = $2 FOR UPDATE', [
        id,
        clientId,
      ]);
      const row = cur.rows[0] as Row | undefined;
      if (!row) return null;
      const from = row.state as JobState;
      if (from !== 'failed' && from !== 'dead_lettered' && from !== 'cancelled') {
        return { job: toJob(row), changed: false };
      }
      const upd = await c.query(
        `UPDATE jobs SET state = 'queued', attempts = 0, attempt_token = NULL, error = NULL, result = NULL,
                fan_out_total = NULL, progress = 0, progress_message = NULL, run_at = now(), finish_time = NULL,
                update_time = now()
         WHERE id = $1 RETURNING *`,
        [id],
      );
      const job = toJob(upd.rows[0] as Row);
      await c.query(`${INSERT_EVENT} VALUES ($1, $2, 'queued', 0, 'retry_requested', NULL)`, [id, from]);
      await c.query(
        `INSERT INTO outbox (job_id, queue, kind, attempt, priority, run_at, request_id, replace, traceparent)
         VALUES ($1, $2, 'run', 0, $3, now(), $4, true, $5)`,
        [id, job.queue, job.priority, job.requestId, row.traceparent ?? null],
      );
      return { job, changed: true };
    });
  }

  /**
   * Claims up to `limit` outbox rows in a transaction that stays open until `ack` (delete + commit)
   * or `release` (rollback). Two round trips per pass: `BEGIN` and the claim go together, and so do
   * the delete and the commit (simple-query protocol, no parameters: the limit is an integer and
   * the ids are PostgreSQL's own bigints, both checked).
   */
  async claimOutbox(limit: number): Promise<OutboxBatch> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`'limit' (${limit}) must be a positive integer`);
    const { client, release } = await checkout(this.pool);
    let done = false;
    const finish = async (sql: string) => {
      if (done) return;
      done = true;
      try {
        await client.query(sql);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        release();
      }
    };
    try {
      const out = (await client.query(
        `BEGIN; SELECT * FROM outbox ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
      )) as unknown as pg.QueryResult[];
      const rows = (out[1]?.rows ?? []) as Row[];
      const messages: QueueMessage[] = rows.map((r) => ({
        jobId: r.job_id as string,
        queue: r.queue as string,
        kind: r.kind as 'run' | 'aggregate',
        attempt: r.attempt as number,
        priority: r.priority as number,
        runAt: r.run_at as Date,
        requestId: (r.request_id as string | null) ?? null,
        replace: r.replace as boolean,
        traceparent: (r.traceparent as string | null) ?? null,
      }));
      const ids = rows.map((r) => String(r.id));
      if (!ids.every((id) => /^\d{1,19}$/.test(id))) throw new Error('outbox ids are not bigints');
      return {
        messages,
        ack: () =>
          finish(ids.length > 0 ? `DELETE FROM outbox WHERE id IN (${ids.join(',')}); COMMIT` : 'COMMIT'),
        release: () => finish('ROLLBACK'),
      };
    } catch (err) {
      await finish('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async countOutbox(): Promise<number> {
    const res = await this.query('SELECT count(*)::int AS n FROM outbox');
    return (res.rows[0] as { n: number }).n;
  }

  async reconcileCandidates(
    olderThanMs: number,
    afterId: string | null,
    limit: number,
  ): Promise<ReconcileCandidate[]> {
    const res = await this.query(
      `SELECT j.*,
              CASE WHEN j.state = 'running' AND j.fan_out_total IS NOT NULL THEN
                (SELECT count(*) FILTER (WHERE c.state IN ${TERMINAL_SQL}) >= j.fan_out_total FROM jobs c WHERE c.parent_id = j.id)
              END AS children_done
       FROM jobs j
       WHERE j.state IN ${ACTIVE_SQL} AND j.update_time < now() - make_interval(secs => $1::double precision / 1000)
         AND ($2::uuid IS NULL OR j.id > $2::uuid)
       ORDER BY j.id LIMIT $3`,
      [olderThanMs, afterId, limit],
    );
    return (res.rows as Row[]).map((r) => ({
      job: toJob(r),
      childrenDone: (r.children_done as boolean | null) ?? null,
      traceparent: (r.traceparent as string | null) ?? null,
    }));
  }

  /** After a child reached a terminal state: queue the parent's aggregate step when all are done. */
  private async notifyParent(parentId: string): Promise<void> {
    await withTransaction(this.pool, (c) => this.enqueueAggregateIfDone(c, parentId));
  }

  private async enqueueAggregateIfDone(c: pg.PoolClient, parentId: string): Promise<void> {
    // The parent row lock serializes children finishing at the same time, so exactly the last one
    // sees every sibling terminal (READ COMMITTED takes a fresh snapshot per statement).
    const p = await c.query(
      `SELECT id, queue, attempts, priority, request_id, fan_out_total, state, traceparent FROM jobs WHERE id = $1 FOR UPDATE`,
      [parentId],
    );
    const parent = p.rows[0] as Row | undefined;
    if (!parent || parent.state !== 'running' || parent.fan_out_total === null) return;
    const n = await c.query(
      `SELECT count(*) FILTER (WHERE state IN ${TERMINAL_SQL})::int AS done FROM jobs WHERE parent_id = $1`,
      [parentId],
    );
    if ((n.rows[0] as { done: number }).done < (parent.fan_out_total as number)) return;
    await c.query(
      `INSERT INTO outbox (job_id, queue, kind, attempt, priority, run_at, request_id, traceparent)
       VALUES ($1, $2, 'aggregate', $3, $4, now(), $5, $6)`,
      [parentId, parent.queue, parent.attempts, parent.priority, parent.request_id, parent.traceparent],
    );
    await c.query(
      `UPDATE jobs SET progress_message = 'aggregating child results', update_time = now() WHERE id = $1`,
      [parentId],
    );
  }
}
