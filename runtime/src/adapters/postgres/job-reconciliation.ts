import type { Job, JobError } from '../../domain/job.entity.js';
import type { ReconcileCandidate, JobReconciliation } from '../../ports/job-store.port.js';
import { toJob } from './job-row.js';
import { ACTIVE_SQL, INSERT_EVENT, PgStorePart, type Row, TERMINAL_SQL } from './store-part.js';

/** What the reconciler walks (stale non-terminal jobs) and repairs (jobs the queue gave up on). */
export class PgJobReconciliation extends PgStorePart implements JobReconciliation {
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
}
