import type pg from 'pg';
import type { QueueMessage } from '../../ports/job-queue.port.js';
import type { OutboxBatch, JobOutbox } from '../../ports/job-store.port.js';
import { checkout } from './pg-pool.js';
import { PgStorePart, type Row } from './store-part.js';

/** The transactional outbox the relay drains. */
export class PgJobOutbox extends PgStorePart implements JobOutbox {
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
        // The job's type, client and slot set ride along (flow control reads them from the message).
        `BEGIN; SELECT o.*, j.type AS job_type, j.client_id AS job_client_id, j.flow_key, j.flow_limit
         FROM outbox o LEFT JOIN jobs j ON j.id = o.job_id
         ORDER BY o.id LIMIT ${limit} FOR UPDATE OF o SKIP LOCKED`,
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
        ...(typeof r.job_type === 'string' ? { type: r.job_type } : {}),
        ...(typeof r.job_client_id === 'string' ? { clientId: r.job_client_id } : {}),
        ...(typeof r.flow_key === 'string' ? { flowKey: r.flow_key } : {}),
        ...(typeof r.flow_limit === 'number' ? { flowLimit: r.flow_limit } : {}),
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
}
