import type { Job } from '../../domain/job.entity.js';
import type { JobState } from '../../domain/job-state.js';
import type { CancelResult, JobCommands } from '../../ports/job-store.port.js';
import { withTransaction } from './pg-pool.js';
import { toJob } from './job-row.js';
import { ACTIVE_SQL, INSERT_EVENT, PgStorePart, type Row } from './store-part.js';

/** What a client may do to its own job: cancel (with a fan-out's children) and redrive. */
export class PgJobCommands extends PgStorePart implements JobCommands {
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
        // Attempt numbers keep counting: the redrive grants the job's budget again on top of the
        // attempts already used (every right-hand side reads the row as it was).
        `UPDATE jobs SET state = 'queued', attempt_base = attempts,
                max_attempts = attempts + (max_attempts - attempt_base), attempt_token = NULL,
                error = NULL, result = NULL, fan_out_total = NULL, progress = 0, progress_message = NULL,
                run_at = now(), finish_time = NULL, update_time = now()
         WHERE id = $1 RETURNING *`,
        [id],
      );
      const job = toJob(upd.rows[0] as Row);
      await c.query(`${INSERT_EVENT} VALUES ($1, $2, 'queued', $3, 'retry_requested', $4)`, [
        id,
        from,
        job.attempts,
        { maxAttempts: job.maxAttempts },
      ]);
      await c.query(
        `INSERT INTO outbox (job_id, queue, kind, attempt, priority, run_at, request_id, replace, traceparent)
         VALUES ($1, $2, 'run', $3, $4, now(), $5, true, $6)`,
        [id, job.queue, job.attempts, job.priority, job.requestId, row.traceparent ?? null],
      );
      return { job, changed: true };
    });
  }
}
