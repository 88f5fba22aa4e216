/** The shared ground of the PostgreSQL JobStore's parts (docs/runtime.md, "The store"). */
import type pg from 'pg';
import type { JobEvent } from '../../domain/job.entity.js';
import { ACTIVE_STATES, TERMINAL_STATES, type JobState } from '../../domain/job-state.js';
import { unavailable, withTransaction } from './pg-pool.js';

/** A SQL list of states, from the domain's constants (the state names are fixed identifiers). */
export const sqlStates = (states: readonly JobState[]): string =>
  `(${states.map((st) => `'${st}'`).join(',')})`;
export const TERMINAL_SQL = sqlStates(TERMINAL_STATES);
export const ACTIVE_SQL = sqlStates(ACTIVE_STATES);

export type Row = Record<string, unknown>;

export function toEvent(r: Row): JobEvent {
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

export const INSERT_EVENT = `INSERT INTO job_events (job_id, from_state, to_state, attempt, reason, details)`;

/**
 * What every part of the PostgreSQL store shares: the pool, the statement wrapper that turns "PostgreSQL
 * did not answer" into 503, and the fan-out completion check run after any child turns terminal.
 */
export abstract class PgStorePart {
  constructor(protected readonly pool: pg.Pool) {}

  /** One statement on the pool; "PostgreSQL did not answer" becomes 503 SERVICE.UNAVAILABLE. */
  protected async query(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(text, params);
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** After a child reached a terminal state: queue the parent's aggregate step when all are done. */
  protected async notifyParent(parentId: string): Promise<void> {
    await withTransaction(this.pool, (c) => this.enqueueAggregateIfDone(c, parentId));
  }

  protected async enqueueAggregateIfDone(c: pg.PoolClient, parentId: string): Promise<void> {
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
