import { DomainError } from '../../domain/errors.js';
import type { Job, JobEvent } from '../../domain/job.entity.js';
import type { ListFilter, Page, JobReads } from '../../ports/job-store.port.js';
import { childrenRollupSql, toJob } from './job-row.js';
import { PgStorePart, type Row, toEvent } from './store-part.js';

function encodeCursor(createTime: string, id: string): string {
  return Buffer.from(JSON.stringify([createTime, id])).toString('base64url');
}

/** `create_time::text` as PostgreSQL prints it (ISO style), e.g. `2026-01-31 12:00:00.123456+00`. */
const CURSOR_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A time PostgreSQL accepts as timestamptz (checked here so a forged token is a 400, never a 500). */
function isCursorTime(text: string): boolean {
  const m = CURSOR_TIME.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s, tzh, tzm] = m.slice(1).map((v) => Number(v ?? 0)) as number[];
  const days = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  return (
    y! >= 1 &&
    mo! >= 1 &&
    mo! <= 12 &&
    d! >= 1 &&
    d! <= days &&
    h! <= 23 &&
    mi! <= 59 &&
    s! <= 59 &&
    tzh! <= 15 &&
    tzm! <= 59
  );
}

function decodeCursor(token: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      isCursorTime(v[0]) &&
      typeof v[1] === 'string' &&
      CURSOR_ID.test(v[1])
    ) {
      return [v[0], v[1]];
    }
  } catch {
    // fall through
  }
  throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
}

/** Reads: one job (a fan-out parent with its children rolled up), keyset lists, event history. */
export class PgJobReads extends PgStorePart implements JobReads {
  async get(clientId: string, id: string): Promise<Job | null> {
    // A fan-out parent comes with its children rolled up (one statement; others skip the subquery).
    const res = await this.query(
      `SELECT j.*, CASE WHEN j.fan_out_total IS NOT NULL THEN ${childrenRollupSql('j.id')} END AS children_rollup
         FROM jobs j WHERE j.id = $1 AND j.client_id = $2`,
      [id, clientId],
    );
    return res.rows[0] ? toJob(res.rows[0] as Row) : null;
  }

  async getAny(id: string): Promise<Job | null> {
    const res = await this.query('SELECT * FROM jobs WHERE id = $1', [id]);
    return res.rows[0] ? toJob(res.rows[0] as Row) : null;
  }

  async list(
    clientId: string,
    filter: ListFilter,
    pageSize: number,
    cursor: string | null,
  ): Promise<Page<Job>> {
    const params: unknown[] = [clientId];
    const where = ['client_id = $1'];
    if (filter.state) {
      params.push(filter.state);
      where.push(`state = $${params.length}`);
    }
    if (filter.type) {
      params.push(filter.type);
      where.push(`type = $${params.length}`);
    }
    if (filter.parentId) {
      params.push(filter.parentId);
      where.push(`parent_id = $${params.length}::uuid`);
    }
    if (cursor) {
      const [t, id] = decodeCursor(cursor);
      params.push(t, id);
      where.push(`(create_time, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(pageSize + 1);
    const res = await this.query(
      `SELECT *, create_time::text AS create_time_text FROM jobs WHERE ${where.join(' AND ')}
       ORDER BY create_time DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const rows = res.rows as Row[];
    const more = rows.length > pageSize;
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      items: page.map(toJob),
      nextCursor: more && last ? encodeCursor(last.create_time_text as string, last.id as string) : null,
    };
  }

  async listEvents(jobId: string, pageSize: number, afterId: string | null): Promise<Page<JobEvent>> {
    const res = await this.query(
      'SELECT * FROM job_events WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [jobId, afterId ?? '0', pageSize + 1],
    );
    const rows = res.rows as Row[];
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return { items: page.map(toEvent), nextCursor: rows.length > pageSize && last ? String(last.id) : null };
  }
}
