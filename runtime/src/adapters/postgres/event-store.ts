import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type {
  ClaimedDelivery,
  DeliveryAttemptRecord,
  DeliveryLogEntry,
  NewSubscription,
  OutboxEvent,
  Subscription,
} from '../../domain/events.js';

type Row = Record<string, unknown>;

function toSubscription(r: Row): Subscription {
  return {
    id: r.id as string,
    clientId: r.client_id as string,
    url: r.url as string,
    eventTypes: r.event_types as string[],
    description: r.description as string,
    enabled: r.enabled as boolean,
    disabledReason: (r.disabled_reason as string | null) ?? null,
    disabledTime: (r.disabled_time as Date | null) ?? null,
    createTime: r.create_time as Date,
    updateTime: r.update_time as Date,
  };
}

/** Lock key of the NATS publisher: one publishing pass at a time keeps per-job order. */
const NATS_LOCK = "hashtext('jobplane:event-outbox:nats')";

/**
 * The event outbox, webhook subscriptions and their deliveries (migration
 * 1764800100000_event_outbox.sql). Events themselves are written by the `job_events_emit` trigger.
 */
export class PostgresEventStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Whether the trigger keeps events for NATS; disabling drops the pending ones. */
  async setNatsSink(enabled: boolean): Promise<void> {
    await this.pool.query(
      `WITH s AS (INSERT INTO event_sinks (name, enabled) VALUES ('nats', $1)
                  ON CONFLICT (name) DO UPDATE SET enabled = $1, update_time = now())
       DELETE FROM event_outbox WHERE NOT $1`,
      [enabled],
    );
  }

  /**
   * One NATS publishing pass: under a transaction-level advisory lock (another relay's pass holds
   * it: returns 0 at once), reads up to `limit` events in id order and hands them to `publish`,
   * which answers the ids it published and the failure that stopped it, if any; the published
   * events are deleted, the failure is rethrown.
   */
  async publishNatsBatch(
    limit: number,
    publish: (events: OutboxEvent[]) => Promise<{ published: string[]; failure: unknown }>,
  ): Promise<number> {
    const client = await this.pool.connect();
    let outcome: { published: string[]; failure: unknown };
    try {
      await client.query('BEGIN');
      const lock = await client.query(`SELECT pg_try_advisory_xact_lock(${NATS_LOCK}) AS ok`);
      if (!(lock.rows[0] as Row).ok) {
        await client.query('ROLLBACK');
        return 0;
      }
      const res = await client.query(
        'SELECT id, event_id, topic, event FROM event_outbox ORDER BY id LIMIT $1',
        [limit],
      );
      outcome = await publish(
        (res.rows as Row[]).map((r) => ({
          id: String(r.id),
          eventId: r.event_id as string,
          topic: r.topic as string,
          event: r.event as Record<string, unknown>,
        })),
      );
      if (outcome.published.length > 0)
        await client.query('DELETE FROM event_outbox WHERE id = ANY($1::bigint[])', [outcome.published]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    if (outcome.failure) throw outcome.failure;
    return outcome.published.length;
  }

  async natsBacklog(): Promise<number> {
    const res = await this.pool.query('SELECT count(*)::int AS n FROM event_outbox');
    return (res.rows[0] as Row).n as number;
  }

  // --- subscriptions -------------------------------------------------------------------------

  async countSubscriptions(clientId: string): Promise<number> {
    const res = await this.pool.query(
      'SELECT count(*)::int AS n FROM webhook_subscriptions WHERE client_id = $1',
      [clientId],
    );
    return (res.rows[0] as Row).n as number;
  }

  async createSubscription(s: NewSubscription): Promise<Subscription> {
    const res = await this.pool.query(
      `INSERT INTO webhook_subscriptions (id, client_id, url, event_types, secret, description)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [randomUUID(), s.clientId, s.url, s.eventTypes, s.secret, s.description],
    );
    return toSubscription(res.rows[0] as Row);
  }

  async getSubscription(clientId: string, id: string): Promise<Subscription | null> {
    const res = await this.pool.query(
      'SELECT * FROM webhook_subscriptions WHERE id = $1 AND client_id = $2',
      [id, clientId],
    );
    return res.rows[0] ? toSubscription(res.rows[0] as Row) : null;
  }

  async listSubscriptions(clientId: string): Promise<Subscription[]> {
    const res = await this.pool.query(
      'SELECT * FROM webhook_subscriptions WHERE client_id = $1 ORDER BY create_time DESC, id DESC',
      [clientId],
    );
    return (res.rows as Row[]).map(toSubscription);
  }

  async deleteSubscription(clientId: string, id: string): Promise<boolean> {
    const res = await this.pool.query('DELETE FROM webhook_subscriptions WHERE id = $1 AND client_id = $2', [
      id,
      clientId,
    ]);
    return res.rowCount === 1;
  }

  /** Re-enables a subscription; its pending deliveries are due at once. */
  async enableSubscription(clientId: string, id: string): Promise<Subscription | null> {
    const res = await this.pool.query(
      `WITH upd AS (UPDATE webhook_subscriptions SET enabled = true, disabled_reason = NULL, disabled_time = NULL,
                           update_time = now()
                     WHERE id = $1 AND client_id = $2 RETURNING *),
            due AS (UPDATE webhook_deliveries d SET next_attempt_time = now()
                      FROM upd WHERE d.subscription_id = upd.id AND d.state = 'pending')
       SELECT * FROM upd`,
      [id, clientId],
    );
    return res.rows[0] ? toSubscription(res.rows[0] as Row) : null;
  }

  /** The delivery log, newest first; `beforeId` pages. */
  async listDeliveryLog(
    subscriptionId: string,
    limit: number,
    beforeId: string | null,
  ): Promise<DeliveryLogEntry[]> {
    const res = await this.pool.query(
      `SELECT * FROM webhook_delivery_attempts
        WHERE subscription_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY id DESC LIMIT $3`,
      [subscriptionId, beforeId, limit],
    );
    return (res.rows as Row[]).map((r) => ({
      id: String(r.id),
      eventId: r.event_id as string,
      eventType: r.event_type as string,
      attempt: r.attempt as number,
      outcome: r.outcome as 'succeeded' | 'failed',
      responseCode: (r.response_code as number | null) ?? null,
      durationMs: r.duration_ms as number,
      error: (r.error as string | null) ?? null,
      time: r.create_time as Date,
    }));
  }

  // --- deliveries ----------------------------------------------------------------------------

  /**
   * Leases up to `limit` due deliveries of enabled subscriptions for `leaseMs` (a crashed relay's
   * lease runs out and another retries). A delivery waits while an earlier one of the same
   * subscription and subject (job) is still pending: per-job order.
   */
  async leaseDeliveries(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const res = await this.pool.query(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d
           JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
          WHERE d.state = 'pending' AND d.next_attempt_time <= now()
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                             WHERE e.subscription_id = d.subscription_id AND e.subject = d.subject
                               AND e.state = 'pending' AND e.id < d.id)
          ORDER BY d.next_attempt_time, d.id
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1,
              first_attempt_time = coalesce(d.first_attempt_time, now()),
              next_attempt_time = now() + make_interval(secs => $2::double precision / 1000)
         FROM due, webhook_subscriptions s
        WHERE d.id = due.id AND s.id = d.subscription_id
       RETURNING d.*, s.url, s.secret, s.client_id`,
      [limit, leaseMs],
    );
    return (res.rows as Row[])
      .map((r) => ({
        id: String(r.id),
        subscriptionId: r.subscription_id as string,
        clientId: r.client_id as string,
        url: r.url as string,
        secret: r.secret as string,
        eventId: r.event_id as string,
        eventType: r.event_type as string,
        event: r.event as Record<string, unknown>,
        attempt: r.attempts as number,
        firstAttemptTime: r.first_attempt_time as Date,
      }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  /**
   * Records one attempt in the delivery log and moves the delivery on: delivered, retried at
   * `retryAt`, or (retryAt null) given up, which disables the subscription and emits a
   * `subscription.disabled` event, all in one transaction.
   */
  async recordAttempt(d: ClaimedDelivery, a: DeliveryAttemptRecord, retryAt: Date | null): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO webhook_delivery_attempts
           (delivery_id, subscription_id, event_id, event_type, attempt, outcome, response_code, duration_ms, error)
         SELECT id, subscription_id, event_id, event_type, $2, $3, $4, $5, $6 FROM webhook_deliveries WHERE id = $1`,
        [d.id, d.attempt, a.ok ? 'succeeded' : 'failed', a.responseCode, a.durationMs, a.error],
      );
      if (a.ok) {
        await client.query(
          `UPDATE webhook_deliveries SET state = 'succeeded', finish_time = now(), last_response_code = $2,
                  last_error = NULL WHERE id = $1 AND state = 'pending'`,
          [d.id, a.responseCode],
        );
      } else if (retryAt) {
        await client.query(
          `UPDATE webhook_deliveries SET next_attempt_time = $2, last_response_code = $3, last_error = $4
            WHERE id = $1 AND state = 'pending'`,
          [d.id, retryAt, a.responseCode, a.error],
        );
      } else {
        await client.query(
          `UPDATE webhook_deliveries SET state = 'failed', finish_time = now(), last_response_code = $2,
                  last_error = $3 WHERE id = $1 AND state = 'pending'`,
          [d.id, a.responseCode, a.error],
        );
        const reason = `delivery of event ${d.eventId} failed for longer than the retry window: ${a.error ?? `HTTP ${a.responseCode}`}`;
        const upd = await client.query(
          `UPDATE webhook_subscriptions SET enabled = false, disabled_reason = $2, disabled_time = now(),
                  update_time = now() WHERE id = $1 AND enabled RETURNING *`,
          [d.subscriptionId, reason.slice(0, 1000)],
        );
        if (upd.rowCount === 1) {
          const s = toSubscription(upd.rows[0] as Row);
          const event = {
            specversion: '1.0',
            id: randomUUID(),
            source: `/jobplane/${await currentSchema(client)}`,
            type: 'dev.jobplane.subscription.disabled',
            subject: s.id,
            time: new Date().toISOString(),
            datacontenttype: 'application/json',
            data: { subscriptionId: s.id, clientId: s.clientId, url: s.url, reason: s.disabledReason },
          };
          await client.query(
            `SELECT jobplane_emit_event($1, 'subscription.disabled', $2, 'subscription.disabled', $3)`,
            [s.clientId, s.id, event],
          );
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Drops finished deliveries (and their log) older than `days`. */
  async pruneDeliveries(days: number): Promise<number> {
    const res = await this.pool.query(
      `DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finish_time < now() - make_interval(days => $1)`,
      [days],
    );
    return res.rowCount ?? 0;
  }
}

async function currentSchema(client: pg.PoolClient): Promise<string> {
  const res = await client.query('SELECT current_schema() AS s');
  return (res.rows[0] as Row).s as string;
}
