import { DomainError, invalidRequest, jobNotFound } from '../domain/errors.js';
import type { Job, JobEvent } from '../domain/job.entity.js';
import type { JobReads, ListFilter, Page } from '../ports/job-store.port.js';

export const LIST_PAGE_SIZE = { default: 50, max: 200 } as const;
export const EVENTS_PAGE_SIZE = { default: 100, max: 500 } as const;

/** Largest `job_events.id` (bigint): a larger events page token is not one this API issued. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;
/** Longest job type a list filter may name (job type names are far shorter). */
export const TYPE_FILTER_MAX_LENGTH = 128;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isJobId(id: string): boolean {
  return UUID.test(id);
}

function pageSize(value: number, limits: { default: number; max: number }, name: string): number {
  if (value === 0) return limits.default;
  if (!Number.isInteger(value) || value < 1 || value > limits.max) {
    throw invalidRequest(`'${name}' (${value}) must be an integer from 1 to ${limits.max}`);
  }
  return value;
}

export interface JobQueries {
  get(clientId: string, id: string): Promise<Job>;
  list(clientId: string, filter: ListFilter, pageSize: number, pageToken: string): Promise<Page<Job>>;
  events(clientId: string, id: string, pageSize: number, pageToken: string): Promise<Page<JobEvent>>;
}

/** Read side: every read is scoped to the calling client (another client's job is "not found"). */
export function createJobQueries(store: JobReads): JobQueries {
  const get = async (clientId: string, id: string): Promise<Job> => {
    const job = isJobId(id) ? await store.get(clientId, id) : null;
    if (!job) throw jobNotFound(id);
    return job;
  };
  return {
    get,
    async list(clientId, filter, size, token) {
      // The filter reaches SQL: a NUL byte or a lone surrogate would make PostgreSQL fail.
      if (filter.type !== undefined) {
        if (
          filter.type.length > TYPE_FILTER_MAX_LENGTH ||
          CONTROL.test(filter.type) ||
          /\p{Cs}/u.test(filter.type)
        )
          throw invalidRequest(
            `'type' must be at most ${TYPE_FILTER_MAX_LENGTH} printable characters (no control characters)`,
          );
      }
      if (filter.parentId !== undefined && !isJobId(filter.parentId))
        throw invalidRequest(`'parentId' (${filter.parentId}) must be a job id (UUID)`);
      return store.list(
        clientId,
        filter.parentId === undefined ? filter : { ...filter, parentId: filter.parentId.toLowerCase() },
        pageSize(size, LIST_PAGE_SIZE, 'pageSize'),
        token === '' ? null : token,
      );
    },
    async events(clientId, id, size, token) {
      await get(clientId, id);
      if (token !== '' && (!/^[1-9][0-9]{0,18}$/.test(token) || BigInt(token) > MAX_EVENT_ID)) {
        throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
      }
      return store.listEvents(id, pageSize(size, EVENTS_PAGE_SIZE, 'pageSize'), token === '' ? null : token);
    },
  };
}
