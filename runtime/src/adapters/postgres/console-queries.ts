import type pg from 'pg';
import { DomainError } from '../../domain/errors.js';
import type { Job } from '../../domain/job.entity.js';
import type { JobState } from '../../domain/job-state.js';
import type {
  ChildOutcomeRow,
  ChildrenSummary,
  ConsoleJobFilter,
  ConsoleQueueRow,
  ConsoleRead,
  ConsoleScope,
} from '../../ports/console-read.port.js';
import type { Page } from '../../ports/job-store.port.js';
import { unavailable } from './pg-pool.js';
import { childrenRollupSql, toJob, toRollup } from './job-row.js';

type Row = Record<string, unknown>;

/** Columns the console reads (never the attempt token or the request hash). */
const COLUMNS = `id, client_id, type, payload, state, priority, run_at, attempts, max_attempts, progress,
  progress_message, result, error, mode, queue, idempotency_key, parent_id, child_index, fan_out_total,
  request_id, create_time, update_time, start_time, finish_time`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Microseconds since the epoch: PostgreSQL's timestamptz resolution, so the keyset is exact. */
const MICROS = /^-?[0-9]{1,17}$/;

/** A page token: `<create_time in µs since the epoch>.<id>`, base64url. */
export function encodeConsoleCursor(micros: string, id: string): string {
  return Buffer.from(`${micros}.${id}`).toString('base64url');
}

/** The token's parts, or REQUEST.INVALID for anything this API did not issue (never a 500). */
export function decodeConsoleCursor(token: string): [string, string] {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const dot = text.indexOf('.');
  const micros = text.slice(0, dot);
  const id = text.slice(dot + 1);
  if (dot > 0 && MICROS.test(micros) && UUID.test(id)) return [micros, id];
  throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
}

/** Epoch microseconds of create_time, as text (extract() is numeric: exact, no float rounding). */
const CREATE_MICROS = `(extract(epoch from create_time) * 1000000)::bigint::text`;

/**
 * The console's reads. Every list is a keyset page ordered by (create_time, id) newest first,
 * served by an index for each filter the console offers (see migrations/*_console.sql and
 * docs/console.md): a client's jobs use the per-client indexes, the admin scope the global ones.
 */
export class PostgresConsoleRead implements ConsoleRead {
  constructor(private readonly pool: pg.Pool) {}

  private async query(text: string, params: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(text, params);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async listJobs(
    scope: ConsoleScope,
    filter: ConsoleJobFilter,
    pageSize: number,
    cursor: string | null,
  ): Promise<Page<Job>> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (scope.kind === 'client') add((p) => `client_id = ${p}`, scope.clientId);
    else if (filter.clientId !== undefined) add((p) => `client_id = ${p}`, filter.clientId);
    if (filter.state) add((p) => `state = ${p}`, filter.state);
    if (filter.type) add((p) => `type = ${p}`, filter.type);
    if (filter.queue) add((p) => `queue = ${p}`, filter.queue);
    if (filter.parentId) add((p) => `parent_id = ${p}::uuid`, filter.parentId);
    if (filter.createdFrom) add((p) => `create_time >= ${p}`, filter.createdFrom);
    if (filter.createdTo) add((p) => `create_time < ${p}`, filter.createdTo);
    if (filter.search !== undefined) {
      // An id (primary key) or an idempotency key (unique per client).
      if (UUID.test(filter.search))
        add((p) => `(id = ${p}::uuid OR idempotency_key = ${p}::text)`, filter.search.toLowerCase());
      else add((p) => `idempotency_key = ${p}`, filter.search);
    }
    if (cursor) {
      const [micros, id] = decodeConsoleCursor(cursor);
      params.push(micros, id);
      where.push(
        `(create_time, id) < ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`,
      );
    }
    params.push(pageSize + 1);
    const res = await this.query(
      `SELECT ${COLUMNS}, ${CREATE_MICROS} AS create_micros FROM jobs
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY create_time DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const rows = res.rows as Row[];
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      items: page.map(toJob),
      nextCursor:
        rows.length > pageSize && last
          ? encodeConsoleCursor(last.create_micros as string, last.id as string)
          : null,
    };
  }

  async getJob(scope: ConsoleScope, id: string): Promise<Job | null> {
    const res =
      scope.kind === 'client'
        ? await this.query(`SELECT ${COLUMNS} FROM jobs WHERE id = $1 AND client_id = $2`, [
            id,
            scope.clientId,
          ])
        : await this.query(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id]);
    return res.rows[0] ? toJob(res.rows[0] as Row) : null;
  }

  async childrenSummary(parentId: string): Promise<ChildrenSummary | null> {
    const res = await this.query(`SELECT ${childrenRollupSql('$1::uuid')} AS rollup`, [parentId]);
    const rows = (res.rows[0] as { rollup: Parameters<typeof toRollup>[0] | null } | undefined)?.rollup;
    return rows ? toRollup(rows) : null;
  }

  async listChildren(parentId: string, pageSize: number, afterIndex: number | null): Promise<Page<Job>> {
    const res = await this.query(
      `SELECT ${COLUMNS} FROM jobs WHERE parent_id = $1 AND child_index > $2 ORDER BY child_index LIMIT $3`,
      [parentId, afterIndex ?? -1, pageSize + 1],
    );
    const rows = res.rows as Row[];
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      items: page.map(toJob),
      nextCursor: rows.length > pageSize && last ? String(last.child_index) : null,
    };
  }

  async childOutcomes(parentId: string, limit: number): Promise<ChildOutcomeRow[]> {
    const res = await this.query(
      `SELECT child_index, state, result FROM jobs WHERE parent_id = $1 ORDER BY child_index LIMIT $2`,
      [parentId, limit],
    );
    return (res.rows as Row[]).map((r) => ({
      index: r.child_index as number,
      state: r.state as JobState,
      result: (r.result as Record<string, unknown> | null) ?? null,
    }));
  }

  async queues(scope: ConsoleScope, queueNames: readonly string[]): Promise<ConsoleQueueRow[]> {
    const client = scope.kind === 'client' ? scope.clientId : null;
    // Active rows only (the jobs_active partial index); the last hour from job_events (BRIN on time).
    const [depth, outcomes] = await Promise.all([
      this.query(
        `SELECT queue,
                count(*) FILTER (WHERE state = 'queued' AND run_at <= now())::int AS ready,
                count(*) FILTER (WHERE state = 'queued' AND run_at > now())::int AS scheduled,
                count(*) FILTER (WHERE state = 'running')::int AS running,
                EXTRACT(EPOCH FROM (now() - min(run_at) FILTER (WHERE state = 'queued' AND run_at <= now())))::float8 AS oldest
           FROM jobs
          WHERE state IN ('queued','running') AND ($1::text IS NULL OR client_id = $1)
          GROUP BY queue`,
        [client],
      ),
      this.query(
        `SELECT j.queue, e.to_state, count(*)::int AS n
           FROM job_events e JOIN jobs j ON j.id = e.job_id
          WHERE e.create_time > now() - interval '1 hour'
            AND e.to_state IN ('succeeded','failed','dead_lettered','cancelled')
            AND ($1::text IS NULL OR j.client_id = $1)
          GROUP BY j.queue, e.to_state`,
        [client],
      ),
    ]);
    const names = [...new Set([...queueNames, ...depth.rows.map((r: Row) => r.queue as string)])].sort();
    const byQueue = new Map((depth.rows as Row[]).map((r) => [r.queue as string, r]));
    const hour = new Map<string, Record<string, number>>();
    for (const r of outcomes.rows as Row[]) {
      const q = r.queue as string;
      hour.set(q, { ...hour.get(q), [r.to_state as string]: r.n as number });
    }
    return names.map((queue) => {
      const d = byQueue.get(queue);
      const h = hour.get(queue) ?? {};
      return {
        queue,
        ready: (d?.ready as number | undefined) ?? 0,
        scheduled: (d?.scheduled as number | undefined) ?? 0,
        running: (d?.running as number | undefined) ?? 0,
        oldestWaitingSeconds: d?.oldest == null ? null : Math.max(0, d.oldest as number),
        lastHour: {
          succeeded: h.succeeded ?? 0,
          failed: h.failed ?? 0,
          deadLettered: h.dead_lettered ?? 0,
          cancelled: h.cancelled ?? 0,
        },
      };
    });
  }
}
