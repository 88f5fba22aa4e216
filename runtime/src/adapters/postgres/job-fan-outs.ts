import type { JobError } from '../../domain/job.entity.js';
import type { JobState } from '../../domain/job-state.js';
import type { ChildRow, ChildSpec, JobFanOuts } from '../../ports/job-store.port.js';
import { withTransaction } from './pg-pool.js';
import { INSERT_EVENT, PgStorePart, type Row } from './store-part.js';
import { traceparentOf } from '../tracing/tracing.js';

/** Fan-out: a running parent's children, created idempotently; the aggregate step once all are done. */
export class PgJobFanOuts extends PgStorePart implements JobFanOuts {
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
}
