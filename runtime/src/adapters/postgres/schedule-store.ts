import type pg from 'pg';
import { DomainError } from '../../domain/errors.js';
import type { CatchUpPolicy, OverlapPolicy, Schedule, ScheduleSpec } from '../../domain/schedule.js';
import type { Page } from '../../ports/job-store.port.js';
import type {
  FireOutcome,
  FireRecord,
  NewSchedule,
  ScheduleChange,
  ScheduleStore,
} from '../../ports/schedule-store.port.js';
import { unavailable, withTransaction } from './pg-pool.js';

type Row = Record<string, unknown>;

const ts = (v: unknown): Date | null => (v === null || v === undefined ? null : (v as Date));

function toSchedule(r: Row): Schedule {
  return {
    id: r.id as string,
    clientId: r.client_id as string,
    cron: r.cron as string,
    timeZone: r.time_zone as string,
    jobType: r.job_type as string,
    payload: r.payload as Record<string, unknown>,
    priority: r.priority as number,
    maxAttempts: r.max_attempts as number,
    overlapPolicy: r.overlap_policy as OverlapPolicy,
    catchUpPolicy: r.catch_up_policy as CatchUpPolicy,
    catchUpWindowSeconds: r.catch_up_window_seconds as number,
    jitterSeconds: r.jitter_seconds as number,
    startTime: ts(r.start_time),
    endTime: ts(r.end_time),
    description: r.description as string,
    paused: r.paused as boolean,
    nextFireTime: ts(r.next_fire_time),
    bufferedFireTime: ts(r.buffered_fire_time),
    lastFireTime: ts(r.last_fire_time),
    lastJobId: (r.last_job_id as string | null) ?? null,
    createTime: r.create_time as Date,
    updateTime: r.update_time as Date,
  };
}

const SPEC_COLUMNS: readonly [keyof ScheduleSpec, string][] = [
  ['cron', 'cron'],
  ['timeZone', 'time_zone'],
  ['jobType', 'job_type'],
  ['payload', 'payload'],
  ['priority', 'priority'],
  ['maxAttempts', 'max_attempts'],
  ['overlapPolicy', 'overlap_policy'],
  ['catchUpPolicy', 'catch_up_policy'],
  ['catchUpWindowSeconds', 'catch_up_window_seconds'],
  ['jitterSeconds', 'jitter_seconds'],
  ['startTime', 'start_time'],
  ['endTime', 'end_time'],
  ['description', 'description'],
];

const STATE_COLUMNS: readonly [keyof ScheduleChange, string][] = [
  ['paused', 'paused'],
  ['nextFireTime', 'next_fire_time'],
  ['bufferedFireTime', 'buffered_fire_time'],
  ['lastFireTime', 'last_fire_time'],
  ['lastJobId', 'last_job_id'],
];

/** Page token: creation time in microseconds since the epoch and the id, as PostgreSQL orders them. */
function encodeCursor(micros: string, id: string): string {
  return Buffer.from(JSON.stringify([micros, id])).toString('base64url');
}

function decodeCursor(token: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      /^-?\d{1,18}$/.test(v[0]) &&
      typeof v[1] === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v[1])
    ) {
      return [v[0], v[1]];
    }
  } catch {
    // fall through
  }
  throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
}

const MICROS = `(extract(epoch FROM create_time) * 1000000)::bigint`;

async function writeChange(c: pg.PoolClient, id: string, change: ScheduleChange): Promise<Row> {
  const sets: string[] = [];
  const params: unknown[] = [id];
  const set = (column: string, value: unknown) => {
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  };
  if (change.spec) for (const [k, col] of SPEC_COLUMNS) set(col, change.spec[k]);
  for (const [k, col] of STATE_COLUMNS) if (change[k] !== undefined) set(col, change[k]);
  sets.push('update_time = now()');
  const res = await c.query(`UPDATE schedules SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
  for (const f of change.fires ?? []) {
    await c.query(
      `INSERT INTO schedule_fires (schedule_id, fire_time, outcome, job_id, detail) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (schedule_id, fire_time) DO UPDATE
         SET outcome = EXCLUDED.outcome, job_id = EXCLUDED.job_id, detail = EXCLUDED.detail, create_time = now()`,
      [id, f.fireTime, f.outcome, f.jobId, f.detail],
    );
  }
  return res.rows[0] as Row;
}

/** PostgreSQL implementation of the ScheduleStore port (migrations/*_schedules.sql). */
export class PostgresScheduleStore implements ScheduleStore {
  constructor(private readonly pool: pg.Pool) {}

  private async query(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(text, params);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async create(s: NewSchedule): Promise<Schedule> {
    const res = await this.query(
      `INSERT INTO schedules (id, client_id, cron, time_zone, job_type, payload, priority, max_attempts,
         overlap_policy, catch_up_policy, catch_up_window_seconds, jitter_seconds, start_time, end_time,
         description, next_fire_time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
      [
        s.id,
        s.clientId,
        s.cron,
        s.timeZone,
        s.jobType,
        s.payload,
        s.priority,
        s.maxAttempts,
        s.overlapPolicy,
        s.catchUpPolicy,
        s.catchUpWindowSeconds,
        s.jitterSeconds,
        s.startTime,
        s.endTime,
        s.description,
        s.nextFireTime,
      ],
    );
    return toSchedule(res.rows[0] as Row);
  }

  async get(clientId: string, id: string): Promise<Schedule | null> {
    const res = await this.query('SELECT * FROM schedules WHERE id = $1 AND client_id = $2', [id, clientId]);
    return res.rows[0] ? toSchedule(res.rows[0] as Row) : null;
  }

  async list(clientId: string, pageSize: number, cursor: string | null): Promise<Page<Schedule>> {
    const params: unknown[] = [clientId];
    let where = 'client_id = $1';
    if (cursor) {
      const [micros, id] = decodeCursor(cursor);
      params.push(micros, id);
      where += ` AND (${MICROS}, id) < ($2::bigint, $3::uuid)`;
    }
    params.push(pageSize + 1);
    const res = await this.query(
      `SELECT *, ${MICROS}::text AS cursor_micros FROM schedules WHERE ${where}
       ORDER BY ${MICROS} DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const rows = res.rows as Row[];
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      items: page.map(toSchedule),
      nextCursor:
        rows.length > pageSize && last ? encodeCursor(last.cursor_micros as string, last.id as string) : null,
    };
  }

  async update(
    clientId: string,
    id: string,
    fn: (current: Schedule) => Promise<ScheduleChange | null>,
  ): Promise<Schedule | null> {
    return withTransaction(this.pool, async (c) => {
      const res = await c.query('SELECT * FROM schedules WHERE id = $1 AND client_id = $2 FOR UPDATE', [
        id,
        clientId,
      ]);
      const row = res.rows[0] as Row | undefined;
      if (!row) return null;
      const current = toSchedule(row);
      const change = await fn(current);
      return change ? toSchedule(await writeChange(c, id, change)) : current;
    });
  }

  async delete(clientId: string, id: string): Promise<boolean> {
    const res = await this.query('DELETE FROM schedules WHERE id = $1 AND client_id = $2', [id, clientId]);
    return (res.rowCount ?? 0) > 0;
  }

  async processDue(
    now: Date,
    limit: number,
    fn: (schedule: Schedule) => Promise<ScheduleChange>,
  ): Promise<number> {
    const seen: string[] = [];
    while (seen.length < limit) {
      // One schedule per transaction: its row lock is held while its fires create their jobs, so
      // another scheduler skips it (SKIP LOCKED) instead of firing it too.
      const done = await withTransaction(this.pool, async (c) => {
        const res = await c.query(
          `SELECT * FROM schedules
            WHERE NOT paused AND id <> ALL($2::uuid[])
              AND ((next_fire_time IS NOT NULL AND next_fire_time <= $1) OR buffered_fire_time IS NOT NULL)
            ORDER BY next_fire_time NULLS LAST
            LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [now, seen],
        );
        const row = res.rows[0] as Row | undefined;
        if (!row) return false;
        const schedule = toSchedule(row);
        seen.push(schedule.id);
        await writeChange(c, schedule.id, await fn(schedule));
        return true;
      });
      if (!done) break;
    }
    return seen.length;
  }

  async countOverdue(before: Date): Promise<number> {
    const res = await this.query(
      'SELECT count(*)::int AS n FROM schedules WHERE NOT paused AND next_fire_time < $1',
      [before],
    );
    return (res.rows[0] as { n: number }).n;
  }

  async fires(scheduleId: string, limit: number): Promise<FireRecord[]> {
    const res = await this.query(
      'SELECT * FROM schedule_fires WHERE schedule_id = $1 ORDER BY fire_time DESC LIMIT $2',
      [scheduleId, limit],
    );
    return (res.rows as Row[]).map((r) => ({
      fireTime: r.fire_time as Date,
      outcome: r.outcome as FireOutcome,
      jobId: (r.job_id as string | null) ?? null,
      detail: (r.detail as string | null) ?? null,
    }));
  }
}
