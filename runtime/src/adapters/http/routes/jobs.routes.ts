import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  CancelJobResponseSchema,
  GetJobResponseSchema,
  ListJobEventsRequestSchema,
  ListJobEventsResponseSchema,
  ListJobsRequestSchema,
  ListJobsResponseSchema,
  RetryJobResponseSchema,
  SubmitJobRequestSchema,
  SubmitJobResponseSchema,
  SubmitJobsRequestSchema,
  SubmitJobsResponseSchema,
  type SubmitJobRequest,
} from '@jobplane/proto';
import type { FastifyPluginAsync } from 'fastify';
import { DomainError, invalidRequest } from '../../../domain/errors.js';
import type { AppDeps } from '../app-deps.js';
import { eventToProto, jobToProto, listFilterFromProto, submitJobsResultToProto } from '../proto-mapping.js';
import { singleHeader } from '../input.js';
import { problem, sendProblem } from '../problem.js';
import { idOf, parse } from './proto-input.js';

/** Parses untrusted JSON into a proto message; unknown fields and wrong types are 400s. */

/** Accepts `JOB_STATE_QUEUED` and the short `queued`. */
function normalizeQuery(query: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(query)) {
    if (typeof v !== 'string') throw invalidRequest(`query parameter '${k}' must appear once`);
    out[k] = k === 'state' && /^[a-z_]+$/.test(v) ? `JOB_STATE_${v.toUpperCase()}` : v;
  }
  return out;
}

/** The use-case fields of a SubmitJobRequest (single or batch entry). */
export function submitFields(body: SubmitJobRequest | undefined) {
  return {
    type: body?.type ?? '',
    payload: (body?.payload ?? {}) as Record<string, unknown>,
    priority: body?.priority ?? 0,
    runAt: body?.runAt ? timestampDate(body.runAt) : null,
    maxAttempts: body?.maxAttempts ?? 0,
    ...(body?.concurrencyKey !== undefined ? { concurrencyKey: body.concurrencyKey } : {}),
    ...(body?.concurrencyLimit !== undefined ? { concurrencyLimit: body.concurrencyLimit } : {}),
  };
}

/**
 * /v1/jobs: submit, read, list, cancel, retry, events. Bodies are the proto3 JSON form of the
 * `jobprocessing.v1` messages. Every route is scoped to the authenticated client (`request.clientId`,
 * set by the auth plugin).
 */
export const jobRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.post('/jobs', async (request, reply) => {
    if (request.body === null || typeof request.body !== 'object' || Array.isArray(request.body)) {
      throw invalidRequest('the body must be a JSON object (SubmitJobRequest)');
    }
    const body = parse('body is not a valid SubmitJobRequest', () =>
      fromJson(SubmitJobRequestSchema, request.body as JsonValue),
    );
    const key = singleHeader(
      request.raw.rawHeaders,
      'idempotency-key',
      () => new DomainError('IDEMPOTENCY.KEY_INVALID', 'send exactly one Idempotency-Key header'),
    );
    const result = await deps.submitJob({
      clientId: request.clientId,
      idempotencyKey: key,
      requestId: request.id,
      ...submitFields(body),
    });
    reply.header('location', `/v1/jobs/${result.job.id}`);
    return reply
      .status(result.created ? 202 : 200)
      .send(
        toJson(SubmitJobResponseSchema, create(SubmitJobResponseSchema, { job: jobToProto(result.job) })),
      );
  });

  // `POST /v1/jobs:batch` (SubmitJobs). `::` is a literal colon for find-my-way.
  app.post('/jobs::batch', async (request, reply) => {
    if (request.body === null || typeof request.body !== 'object' || Array.isArray(request.body)) {
      throw invalidRequest('the body must be a JSON object (SubmitJobsRequest)');
    }
    const body = parse('body is not a valid SubmitJobsRequest', () =>
      fromJson(SubmitJobsRequestSchema, request.body as JsonValue),
    );
    const results = await deps.submitJobs({
      clientId: request.clientId,
      requestId: request.id,
      jobs: body.jobs.map((e) => ({ idempotencyKey: e.idempotencyKey, ...submitFields(e.job) })),
    });
    return reply
      .status(results.some((r) => r.ok && r.created) ? 202 : 200)
      .send(
        toJson(
          SubmitJobsResponseSchema,
          create(SubmitJobsResponseSchema, { results: results.map(submitJobsResultToProto) }),
        ),
      );
  });

  app.get('/jobs', async (request) => {
    const req = parse('invalid query', () =>
      fromJson(ListJobsRequestSchema, normalizeQuery(request.query as Record<string, unknown>)),
    );
    const page = await deps.queries.list(
      request.clientId,
      listFilterFromProto(req),
      req.pageSize,
      req.pageToken,
    );
    return toJson(
      ListJobsResponseSchema,
      create(ListJobsResponseSchema, {
        jobs: page.items.map(jobToProto),
        nextPageToken: page.nextCursor ?? '',
      }),
    );
  });

  app.get('/jobs/:id', async (request) => {
    const job = await deps.queries.get(request.clientId, idOf(request));
    return toJson(GetJobResponseSchema, create(GetJobResponseSchema, { job: jobToProto(job) }));
  });

  // Custom methods (AIP-136) `POST /v1/jobs/{id}:cancel|retry`. find-my-way cannot put a static
  // suffix after a parameter in one segment, so one route takes `<id>:<verb>` and dispatches.
  app.post('/jobs/:target', async (request, reply) => {
    const target = (request.params as { target: string }).target;
    const sep = target.lastIndexOf(':');
    const id = sep > 0 ? target.slice(0, sep) : target;
    const verb = sep > 0 ? target.slice(sep + 1) : '';
    if (verb === 'cancel') {
      const job = await deps.controls.cancel(request.clientId, id);
      return toJson(CancelJobResponseSchema, create(CancelJobResponseSchema, { job: jobToProto(job) }));
    }
    if (verb === 'retry') {
      const job = await deps.controls.retry(request.clientId, id);
      return reply
        .status(202)
        .send(toJson(RetryJobResponseSchema, create(RetryJobResponseSchema, { job: jobToProto(job) })));
    }
    return sendProblem(
      reply,
      problem(404, 'ROUTE.NOT_FOUND', `unknown custom method ':${verb}' (known: :cancel, :retry)`),
    );
  });

  app.get('/jobs/:id/events', async (request) => {
    const q = normalizeQuery(request.query as Record<string, unknown>);
    const req = parse('invalid query', () => fromJson(ListJobEventsRequestSchema, q));
    const page = await deps.queries.events(request.clientId, idOf(request), req.pageSize, req.pageToken);
    return toJson(
      ListJobEventsResponseSchema,
      create(ListJobEventsResponseSchema, {
        events: page.items.map(eventToProto),
        nextPageToken: page.nextCursor ?? '',
      }),
    );
  });
};
