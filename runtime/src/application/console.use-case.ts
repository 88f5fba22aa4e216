import type { ResultView } from '@jobplane/sdk';
import { DomainError, invalidRequest, jobNotFound } from '../domain/errors.js';
import type { Job, JobEvent } from '../domain/job.entity.js';
import { isJobState, RETRYABLE_BY_CLIENT, type JobState } from '../domain/job-state.js';
import type {
  ChildrenSummary,
  ConsoleJobFilter,
  ConsoleQueueRow,
  ConsoleRead,
  ConsoleScope,
} from '../ports/console-read.port.js';
import type { JobStore, Page } from '../ports/job-store.port.js';
import type { ResultViews } from '../ports/result-views.port.js';
import type { JobControls } from './control-job.use-case.js';
import { isJobId, TYPE_FILTER_MAX_LENGTH } from './query-jobs.use-case.js';

export const CONSOLE_PAGE_SIZE = { default: 50, max: 200 } as const;
/** Jobs one redrive request may name. */
export const REDRIVE_MAX_IDS = 200;
/** Children a result view reads at most (a sweep's grid is bounded far below this). */
export const VIEW_MAX_CHILDREN = 10_000;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The query string of the console's job list, as received (strings), before validation. */
export type RawJobFilter = Partial<
  Record<'state' | 'type' | 'queue' | 'parent' | 'client' | 'from' | 'to' | 'q', string>
>;

function text(name: string, value: string, max: number): string {
  if (value.length > max || CONTROL.test(value) || /\p{Cs}/u.test(value))
    throw invalidRequest(`'${name}' must be at most ${max} printable characters (no control characters)`);
  return value;
}

function time(name: string, value: string): Date {
  // RFC 3339 with a zone, or a plain date (midnight UTC).
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value);
  const d = new Date(value);
  if (!ok || Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999)
    throw invalidRequest(
      `'${name}' (${value}) must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z, or a date`,
    );
  return d;
}

/** Validates the list filter; every problem is a 400 REQUEST.INVALID naming the parameter. */
export function parseJobFilter(scope: ConsoleScope, raw: RawJobFilter): ConsoleJobFilter {
  const f: { -readonly [K in keyof ConsoleJobFilter]: ConsoleJobFilter[K] } = {};
  if (raw.state !== undefined && raw.state !== '') {
    const s = raw.state.toLowerCase().replace(/^job_state_/, '');
    if (!isJobState(s))
      throw invalidRequest(
        `'state' (${raw.state}) must be one of queued, running, succeeded, failed, dead_lettered, cancelled`,
      );
    f.state = s;
  }
  if (raw.type) f.type = text('type', raw.type, TYPE_FILTER_MAX_LENGTH);
  if (raw.queue) f.queue = text('queue', raw.queue, 63);
  if (raw.parent) {
    if (!isJobId(raw.parent)) throw invalidRequest(`'parent' (${raw.parent}) must be a job id (UUID)`);
    f.parentId = raw.parent.toLowerCase();
  }
  if (raw.client) {
    if (scope.kind !== 'admin')
      throw invalidRequest(`'client' is for the admin key only (a client sees its own jobs)`);
    f.clientId = text('client', raw.client, 255);
  }
  if (raw.from) f.createdFrom = time('from', raw.from);
  if (raw.to) f.createdTo = time('to', raw.to);
  if (f.createdFrom && f.createdTo && f.createdFrom >= f.createdTo)
    throw invalidRequest(`'from' (${raw.from}) must be before 'to' (${raw.to})`);
  if (raw.q) f.search = text('q', raw.q.trim(), 255);
  return f;
}

function size(value: string | undefined): number {
  if (value === undefined || value === '') return CONSOLE_PAGE_SIZE.default;
  const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > CONSOLE_PAGE_SIZE.max)
    throw invalidRequest(`'pageSize' (${value}) must be an integer from 1 to ${CONSOLE_PAGE_SIZE.max}`);
  return n;
}

export interface JobDetail {
  readonly job: Job;
  /** Rolled-up children of a fan-out parent; null for a job without children. */
  readonly children: ChildrenSummary | null;
  /** Whether the job's type declares a result view (shown once the job succeeded). */
  readonly hasView: boolean;
}

export interface RedriveOutcome {
  readonly redriven: readonly string[];
  readonly refused: readonly { readonly id: string; readonly code: string; readonly detail: string }[];
}

export interface Console {
  listJobs(scope: ConsoleScope, raw: RawJobFilter, pageSize?: string, pageToken?: string): Promise<Page<Job>>;
  detail(scope: ConsoleScope, id: string): Promise<JobDetail>;
  events(scope: ConsoleScope, id: string, pageToken?: string): Promise<Page<JobEvent>>;
  children(scope: ConsoleScope, id: string, pageToken?: string): Promise<Page<Job>>;
  view(scope: ConsoleScope, id: string): Promise<ResultView>;
  cancel(scope: ConsoleScope, id: string): Promise<Job>;
  retry(scope: ConsoleScope, id: string): Promise<Job>;
  /** Retries each dead-lettered job named; the others are reported, not retried. */
  redrive(scope: ConsoleScope, ids: readonly unknown[]): Promise<RedriveOutcome>;
  queues(scope: ConsoleScope): Promise<ConsoleQueueRow[]>;
}

export interface ConsoleDeps {
  readonly read: ConsoleRead;
  readonly store: Pick<JobStore, 'listEvents'>;
  readonly controls: JobControls;
  readonly views: ResultViews;
  /** The catalog's queue names (shown even when empty). */
  readonly queueNames: readonly string[];
}

/** The console's use cases: the job list and detail, controls, dead-letter redrive, queues. */
export function createConsole(deps: ConsoleDeps): Console {
  const find = async (scope: ConsoleScope, id: string): Promise<Job> => {
    const job = isJobId(id) ? await deps.read.getJob(scope, id.toLowerCase()) : null;
    if (!job) throw jobNotFound(id);
    return job;
  };
  return {
    async listJobs(scope, raw, pageSize, pageToken) {
      const filter = parseJobFilter(scope, raw);
      return deps.read.listJobs(scope, filter, size(pageSize), pageToken ? pageToken : null);
    },
    async detail(scope, id) {
      const job = await find(scope, id);
      const children = job.fanOutTotal !== null ? await deps.read.childrenSummary(job.id) : null;
      return { job, children, hasView: deps.views.has(job.type) };
    },
    async events(scope, id, pageToken) {
      const job = await find(scope, id);
      if (pageToken && !/^[1-9][0-9]{0,17}$/.test(pageToken))
        throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
      return deps.store.listEvents(job.id, 500, pageToken ? pageToken : null);
    },
    async children(scope, id, pageToken) {
      const job = await find(scope, id);
      if (pageToken && !/^[0-9]{1,9}$/.test(pageToken))
        throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
      return deps.read.listChildren(job.id, 100, pageToken ? Number(pageToken) : null);
    },
    async view(scope, id) {
      const job = await find(scope, id);
      if (!deps.views.has(job.type))
        throw new DomainError('JOB.NO_RESULT_VIEW', `job type '${job.type}' declares no result view`);
      if (job.state !== 'succeeded' || !job.result)
        throw new DomainError(
          'JOB.NO_RESULT_VIEW',
          `job '${job.id}' is ${job.state}: a result view needs a result`,
        );
      const children =
        job.fanOutTotal !== null ? await deps.read.childOutcomes(job.id, VIEW_MAX_CHILDREN) : [];
      return deps.views.build(job.type, {
        type: job.type,
        payload: job.payload,
        result: job.result,
        children,
      });
    },
    async cancel(scope, id) {
      const job = await find(scope, id);
      return deps.controls.cancel(job.clientId, job.id);
    },
    async retry(scope, id) {
      const job = await find(scope, id);
      return deps.controls.retry(job.clientId, job.id);
    },
    async redrive(scope, ids) {
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > REDRIVE_MAX_IDS)
        throw invalidRequest(`'ids' must be an array of 1 to ${REDRIVE_MAX_IDS} job ids`);
      const unique = [...new Set(ids)];
      for (const id of unique)
        if (typeof id !== 'string' || !isJobId(id))
          throw invalidRequest(`'ids' must hold job ids (UUIDs); got ${JSON.stringify(id)?.slice(0, 80)}`);
      const redriven: string[] = [];
      const refused: { id: string; code: string; detail: string }[] = [];
      for (const id of unique as string[]) {
        try {
          const job = await find(scope, id);
          if (job.state !== 'dead_lettered') {
            refused.push({
              id,
              code: 'JOB.INVALID_STATE',
              detail: `job '${id}' is ${job.state}; redrive is for dead-lettered jobs`,
            });
            continue;
          }
          await deps.controls.retry(job.clientId, job.id);
          redriven.push(job.id);
        } catch (err) {
          if (!(err instanceof DomainError) || err.code === 'SERVICE.UNAVAILABLE') throw err;
          refused.push({ id, code: err.code, detail: err.message });
        }
      }
      return { redriven, refused };
    },
    async queues(scope) {
      return deps.read.queues(scope, deps.queueNames);
    },
  };
}

/** States the console's retry button offers (RetryJob's). */
export const CONSOLE_RETRYABLE: readonly JobState[] = RETRYABLE_BY_CLIENT;
