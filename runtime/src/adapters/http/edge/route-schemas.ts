import type { DescEnum } from '@bufbuild/protobuf';
import {
  JobService,
  CancelJobResponseSchema,
  GetJobResponseSchema,
  ListJobEventsRequestSchema,
  ListJobEventsResponseSchema,
  ListJobsRequestSchema,
  ListJobsResponseSchema,
  SubmitJobRequestSchema,
  SubmitJobResponseSchema,
  SubmitJobsRequestSchema,
  SubmitJobsResponseSchema,
} from '@jobplane/proto';
import { messageJsonSchema, parametersJsonSchema, type JsonSchema } from './proto-json-schema.js';

/**
 * Route schemas of the JSON API, generated from the `jobprocessing.v1` descriptors (one source of
 * truth: the proto). Keyed by `METHOD url-pattern`; the OpenAPI plugin attaches them to the core
 * routes as they are registered, so the route files stay free of schema plumbing.
 */

/** RFC 9457 problem details as every error answers. */
export const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  title: 'Problem',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable machine-readable code, e.g. JOB.NOT_FOUND' },
    instance: { type: 'string' },
    problems: { type: 'array', items: { type: 'string' } },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
  additionalProperties: true,
};

/** `queued` for `JOB_STATE_QUEUED`: GET /v1/jobs accepts both spellings. */
const shortEnumNames = (desc: DescEnum, name: string): string[] =>
  desc.typeName === 'jobprocessing.v1.JobState' ? [name.replace(/^JOB_STATE_/, '').toLowerCase()] : [];

const errors = (...statuses: number[]): Record<string, JsonSchema> =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: 'problem+json', ...PROBLEM_SCHEMA }]));

const AUTH_ERRORS = [400, 401, 429, 503] as const;
const idParam = (name: string, description: string): JsonSchema => ({
  type: 'object',
  properties: { [name]: { type: 'string', description } },
  required: [name],
});

export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly body?: JsonSchema;
  readonly querystring?: JsonSchema;
  readonly params?: JsonSchema;
  readonly headers?: JsonSchema;
  readonly response: Record<string, JsonSchema>;
}

const bearer = [{ bearerAuth: [] }] as const;

export function jsonApiRouteSchemas(): Record<string, RouteDoc> {
  return {
    'POST /v1/jobs': {
      summary: 'Submit a job (SubmitJob)',
      description:
        'Answers 202 with the new job, or 200 with the existing one for a repeated Idempotency-Key.',
      tags: ['jobs'],
      security: bearer,
      headers: {
        type: 'object',
        properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } },
        required: ['idempotency-key'],
      },
      body: messageJsonSchema(SubmitJobRequestSchema),
      response: { '2xx': messageJsonSchema(SubmitJobResponseSchema), ...errors(...AUTH_ERRORS, 422) },
    },
    'POST /v1/jobs::batch': {
      summary: 'Submit up to 1,000 jobs in one transaction: POST /v1/jobs:batch (SubmitJobs)',
      description:
        'Each entry carries its own `idempotencyKey` (no Idempotency-Key header). Validation is all or ' +
        'nothing: one invalid entry answers 400 REQUEST.INVALID with a `problems` line per invalid ' +
        'entry (`jobs[i]: CODE: …`) and stores nothing. Otherwise one result per entry, in order: ' +
        '`job` and `created`, or `error` IDEMPOTENCY.KEY_REUSED for that entry alone. 202 when at ' +
        'least one job was created, 200 when every entry was a replay or refused.',
      tags: ['jobs'],
      security: bearer,
      body: messageJsonSchema(SubmitJobsRequestSchema),
      response: { '2xx': messageJsonSchema(SubmitJobsResponseSchema), ...errors(...AUTH_ERRORS, 413) },
    },
    'GET /v1/jobs': {
      summary: 'List jobs, newest first (ListJobs)',
      tags: ['jobs'],
      security: bearer,
      querystring: parametersJsonSchema(
        ListJobsRequestSchema,
        ['state', 'type', 'parentId', 'pageSize', 'pageToken'],
        {
          enumAliases: shortEnumNames,
        },
      ),
      response: { 200: messageJsonSchema(ListJobsResponseSchema), ...errors(...AUTH_ERRORS) },
    },
    'GET /v1/jobs/:id': {
      summary: 'Read a job (GetJob)',
      tags: ['jobs'],
      security: bearer,
      params: idParam('id', 'job id'),
      response: { 200: messageJsonSchema(GetJobResponseSchema), ...errors(...AUTH_ERRORS, 404) },
    },
    'POST /v1/jobs/:target': {
      summary: 'Cancel or retry a job: POST /v1/jobs/{id}:cancel | /v1/jobs/{id}:retry (CancelJob, RetryJob)',
      description: 'AIP-136 custom methods. :cancel answers 200, :retry 202; both return `{"job": …}`.',
      tags: ['jobs'],
      security: bearer,
      params: idParam('target', '`<job id>:cancel` or `<job id>:retry`'),
      response: { '2xx': messageJsonSchema(CancelJobResponseSchema), ...errors(...AUTH_ERRORS, 404, 409) },
    },
    'GET /v1/jobs/:id/events': {
      summary: "A job's state history, oldest first (ListJobEvents)",
      tags: ['jobs'],
      security: bearer,
      params: idParam('id', 'job id'),
      querystring: parametersJsonSchema(ListJobEventsRequestSchema, ['pageSize', 'pageToken']),
      response: { 200: messageJsonSchema(ListJobEventsResponseSchema), ...errors(...AUTH_ERRORS, 404) },
    },
    'GET /healthz': {
      summary: 'Liveness',
      tags: ['operations'],
      response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
    },
    'GET /readyz': {
      summary: 'Readiness (PostgreSQL and Redis answer)',
      tags: ['operations'],
      response: {
        200: {
          type: 'object',
          properties: { status: { type: 'string' }, checks: { type: 'array', items: { type: 'string' } } },
        },
        ...errors(503),
      },
    },
  };
}

/** Where the queue dashboard is mounted. */
export const ADMIN_PREFIX = '/admin/queues';

/** URL prefix of the Connect / gRPC service. */
export const CONNECT_PREFIX = `/${JobService.typeName}/`;

/**
 * `POST /jobprocessing.v1.JobService/<Method>` for each RPC, documented as a Connect unary call
 * with a JSON body (`Content-Type: application/json`; `application/proto` and gRPC work too).
 */
export function connectRouteSchemas(): Record<string, RouteDoc> {
  return Object.fromEntries(
    JobService.methods.map((m) => [
      `POST ${CONNECT_PREFIX}${m.name}`,
      {
        summary: `${m.name} over Connect / gRPC`,
        description:
          'Connect protocol (JSON or binary), gRPC-Web, and gRPC over HTTP/2. Errors carry the stable code ' +
          'in the `jobplane-error-code` response header / trailer.',
        tags: ['grpc'],
        security: bearer,
        body: messageJsonSchema(m.input),
        response: {
          200: messageJsonSchema(m.output),
          // Refused before the RPC runs (content type, failed-auth limit, rate limit, overload).
          ...errors(415, 429, 503),
          default: {
            description: 'Connect error',
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
        },
      } satisfies RouteDoc,
    ]),
  );
}
