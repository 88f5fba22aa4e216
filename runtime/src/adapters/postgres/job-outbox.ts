import type pg from 'pg';
import type { QueueMessage } from '../../ports/job-queue.port.js';
import type { OutboxBatch, JobOutbox } from '../../ports/job-store.port.js';
import { checkout } from './pg-pool.js';
import { PgStorePart, type Row } from './store-part.js';

/**
 * The queue message of an outbox row (or of a job row and its new outbox row: the submission's
 * own), with the job's type, client and flow slot set, which flow control reads from the message.
 */
export function outboxMessage(
  r: Row,
  m: { kind: 'run' | 'aggregate'; attempt: number; replace: boolean; type: unknown; clientId: unknown },
): QueueMessage {
  return {
    jobId: r.job_id as string,
    queue: r.queue as string,
    kind: m.kind,
    attempt: m.attempt,
    priority: r.priority as number,
    runAt: r.run_at as Date,
    requestId: (r.request_id as string | null) ?? null,
    replace: m.replace,
    traceparent: (r.traceparent as string | null) ?? null,
    ...(typeof m.type === 'string' ? { type: m.type } : {}),
    ...(typeof m.clientId === 'string' ? { clientId: m.clientId } : {}),
    ...(typeof r.flow_key === 'string' ? { flowKey: r.flow_key } : {}),
    ...(typeof r.flow_limit === 'number' ? { flowLimit: r.flow_limit } : {}),
  };
}

/** The transactional outbox the relay drains. */
export class PgJobOutbox extends PgStorePart implements JobOutbox {
  /**
   * Claims up to `limit` outbox rows in a transaction that stays open until `ack` (delete + commit)
   * or `release` (rollback). Two round trips per pass: `BEGIN` and the claim go together, and so do
   * the delete and the commit (simple-query protocol, no parameters: the limit is an integer and
   * the ids are PostgreSQL's own bigints, both checked). The delete's commit is asynchronous
   * (`synchronous_commit = off`): a commit lost in a crash only brings the rows back, and their
   * re-publish is a no-op (same BullMQ job id; a delivery of a job no longer queued is dropped).
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
        `BEGIN; SET LOCAL synchronous_commit = off; SELECT o.*, j.type AS job_type, j.client_id AS job_client_id, j.flow_key, j.flow_limit
         FROM outbox o LEFT JOIN jobs j ON j.id = o.job_id
         ORDER BY o.id LIMIT ${limit} FOR UPDATE OF o SKIP LOCKED`,
      )) as unknown as pg.QueryResult[];
      const rows = (out[2]?.rows ?? []) as Row[];
      const messages: QueueMessage[] = rows.map((r) =>
        outboxMessage(r, {
          kind: r.kind as 'run' | 'aggregate',
          attempt: r.attempt as number,
          replace: r.replace as boolean,
          type: r.job_type,
          clientId: r.job_client_id,
        }),
      );
      const claimed = rows.map((r) => String(r.id));
      if (!claimed.every((id) => /^\d{1,19}$/.test(id))) throw new Error('outbox ids are not bigints');
      return {
        messages,
        ack: () =>
          finish(
            claimed.length > 0 ? `DELETE FROM outbox WHERE id IN (${claimed.join(',')}); COMMIT` : 'COMMIT',
          ),
        release: () => finish('ROLLBACK'),
      };
    } catch (err) {
      await finish('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async deleteOutbox(ids: readonly string[]): Promise<void> {
    if (!ids.every((id) => /^\d{1,19}$/.test(id)))
      throw new Error(`'ids' must be outbox row ids (bigints); got ${JSON.stringify(ids.slice(0, 3))}…`);
    if (ids.length === 0) return;
    // Asynchronous commit, as the relay's delete (claimOutbox): a lost commit is a re-publish.
    // set_config inside the statement: the setting holds for this statement's own transaction.
    await this.query(
      `WITH cfg AS (SELECT set_config('synchronous_commit', 'off', true))
       DELETE FROM outbox WHERE id = ANY($1::bigint[]) AND EXISTS (SELECT 1 FROM cfg)`,
      [ids],
    );
  }

  async wakeRelay(): Promise<void> {
    // The payload the outbox trigger sends: the schema (relays listen for their own only).
    await this.query(`SELECT pg_notify('jobplane_outbox', current_schema())`);
  }

  async countOutbox(): Promise<number> {
    const res = await this.query('SELECT count(*)::int AS n FROM outbox');
    return (res.rows[0] as { n: number }).n;
  }
}
