import type pg from 'pg';
import { isDomainError } from '../../domain/errors.js';
import type { InsertResult, NewJob, JobSubmissions } from '../../ports/job-store.port.js';
import {
  BatchItemError,
  DEFAULT_GROUP_COMMIT,
  GroupCommitter,
  type GroupCommitOptions,
} from './group-commit.js';
import { isUnavailable, unavailable } from './pg-pool.js';
import { toJob } from './job-row.js';
import { outboxMessage } from './job-outbox.js';
import { INSERT_EVENT, PgStorePart, type Row } from './store-part.js';
import { endSubmitSpans, inInsertBatch, startSubmitSpans, type Traced } from '../tracing/job-spans.js';

/** Byte order of (client, key), the order PostgreSQL's unique index would lock them in any batch. */
function compareKeys(a: NewJob, b: NewJob): number {
  if (a.clientId !== b.clientId) return a.clientId < b.clientId ? -1 : 1;
  return a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0;
}

/** Submission: jobs, their creation events and outbox rows, idempotent per (client, key). */
export class PgJobSubmissions extends PgStorePart implements JobSubmissions {
  /** Concurrent `insert` calls, coalesced into one statement (group commit). */
  private readonly inserts: GroupCommitter<Traced<NewJob>, InsertResult>;

  /**
   * `eagerPublish`: the caller publishes the outbox rows of its submissions itself (the results'
   * `outbox` entries, then deleteOutbox), so their inserts do not wake the relays (the NOTIFY trigger is told
   * so for the transaction); rows it fails to publish are found by the relays' polling or a
   * `wakeRelay`.
   */
  constructor(
    pool: pg.Pool,
    groupCommit: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
    private readonly eagerPublish = false,
  ) {
    super(pool);
    this.inserts = new GroupCommitter((items) => this.flushInserts(items), groupCommit);
  }

  /** Batches and items the insert committer carried (tests, benchmarks). */
  stats(): { batches: number; items: number } {
    return { batches: this.inserts.batches, items: this.inserts.items };
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
                              $13::text[], $14::int[], $15::text[], $16::int[], $17::text[])
                  WITH ORDINALITY AS v(id, client_id, idempotency_key, request_hash, type, payload, max_attempts,
                                       priority, run_at, mode, queue, request_id, concurrency_key,
                                       concurrency_limit, flow_key, flow_limit, traceparent, ord)),
       ins AS (
         INSERT INTO jobs (id, client_id, idempotency_key, request_hash, type, payload, state, max_attempts,
                           priority, run_at, mode, queue, request_id, concurrency_key, concurrency_limit,
                           flow_key, flow_limit, traceparent)
         SELECT id, client_id, idempotency_key, request_hash, type, payload::jsonb, 'queued', max_attempts,
                priority, run_at, mode, queue, request_id, concurrency_key, concurrency_limit, flow_key,
                flow_limit, traceparent FROM v ORDER BY ord
         ON CONFLICT (client_id, idempotency_key) DO NOTHING
         RETURNING *),
       ev AS (${INSERT_EVENT} SELECT id, NULL, 'queued', 0, 'submitted', NULL FROM ins),
       ${
         // Evaluated while the statement runs, before its AFTER STATEMENT trigger fires.
         this.eagerPublish ? `quiet AS (SELECT set_config('jobplane.outbox_notify', 'off', true) AS q),` : ''
       }
       ob AS (INSERT INTO outbox (job_id, queue, kind, attempt, priority, run_at, request_id, traceparent)
              SELECT id, queue, 'run', 0, priority, run_at, request_id, traceparent
              FROM ins${this.eagerPublish ? ', quiet' : ''}
              RETURNING id AS outbox_id, job_id)
       SELECT ins.*, ob.outbox_id FROM ins LEFT JOIN ob ON ob.job_id = ins.id`,
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
        sorted.map((j) => j.concurrencyKey ?? null),
        sorted.map((j) => j.concurrencyLimit ?? null),
        sorted.map((j) => j.flowKey ?? null),
        sorted.map((j) => j.flowLimit ?? null),
        sorted.map((j) => j.traceparent),
      ],
    );
    const createdById = new Map<string, Row>();
    for (const r of res.rows as Row[]) createdById.set(r.id as string, r);
    const results: (InsertResult | undefined)[] = unique.map((j) => {
      const row = createdById.get(j.id);
      if (!row) return undefined;
      const message = outboxMessage(
        { ...row, job_id: row.id },
        { kind: 'run', attempt: 0, replace: false, type: row.type, clientId: row.client_id },
      );
      return {
        job: toJob(row),
        created: true,
        requestHash: j.requestHash,
        outbox: { id: String(row.outbox_id), message },
      };
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
}
