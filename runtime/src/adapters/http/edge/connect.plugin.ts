import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  Code,
  ConnectError,
  createContextKey,
  createContextValues,
  type ConnectRouter,
  type HandlerContext,
} from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { JobService, JobState as ProtoJobState } from '@jobplane/proto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isDomainError, type ErrorCode } from '../../../domain/errors.js';
import type { AppDeps } from '../app.js';
import { eventToProto, jobToProto, stateFromProto } from '../proto-mapping.js';

/** Metadata key (response header / trailer) carrying the stable error code, e.g. `JOB.NOT_FOUND`. */
export const ERROR_CODE_METADATA = 'jobplane-error-code';

/** Domain codes → Connect/gRPC status codes. */
export const CONNECT_CODE_BY_ERROR: Record<ErrorCode, Code> = {
  'JOB.NOT_FOUND': Code.NotFound,
  'JOB.INVALID_STATE': Code.FailedPrecondition,
  'JOB.UNKNOWN_TYPE': Code.InvalidArgument,
  'JOB.PAYLOAD_INVALID': Code.InvalidArgument,
  'JOB.NOT_SUBMITTABLE': Code.InvalidArgument,
  'IDEMPOTENCY.KEY_MISSING': Code.InvalidArgument,
  'IDEMPOTENCY.KEY_INVALID': Code.InvalidArgument,
  'IDEMPOTENCY.KEY_REUSED': Code.AlreadyExists,
  'REQUEST.INVALID': Code.InvalidArgument,
  'AUTH.UNAUTHENTICATED': Code.Unauthenticated,
  'SERVICE.UNAVAILABLE': Code.Unavailable,
  'QUEUE.FULL': Code.ResourceExhausted,
  'RATE_LIMIT.EXCEEDED': Code.ResourceExhausted,
  'WEBHOOK.SOURCE_NOT_FOUND': Code.NotFound,
  'WEBHOOK.HEADERS_INVALID': Code.InvalidArgument,
  'WEBHOOK.TIMESTAMP_OUT_OF_RANGE': Code.Unauthenticated,
  'WEBHOOK.SIGNATURE_INVALID': Code.Unauthenticated,
};

function connectError(code: Code, stable: string, message: string): ConnectError {
  return new ConnectError(message, code, { [ERROR_CODE_METADATA]: stable });
}

/** Any thrown error → ConnectError with the stable code in metadata; internals never leak. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isDomainError(err)) {
    return connectError(CONNECT_CODE_BY_ERROR[err.code] ?? Code.InvalidArgument, err.code, err.message);
  }
  return connectError(Code.Internal, 'INTERNAL', 'the server could not handle the request; it was logged');
}

const kRequest = createContextKey<FastifyRequest | null>(null, { description: 'the Fastify request' });

/**
 * `jobprocessing.v1.JobService` over Connect, gRPC-Web and gRPC, at
 * `/jobprocessing.v1.JobService/<Method>` on the same Fastify app and with the same use cases as
 * the JSON API: `Authorization: Bearer <key>` (header or gRPC metadata), `Idempotency-Key` for
 * SubmitJob, the same validation, errors mapped to Connect codes with the stable code in the
 * `jobplane-error-code` metadata. Plain gRPC needs HTTP/2 (see docs/api.md).
 */
export function connectPlugin(): FastifyPluginAsync<{ deps: AppDeps }> {
  return async (app, { deps }) => {
    const client = (ctx: HandlerContext): string => {
      const id = deps.authenticate(ctx.requestHeader.get('authorization') ?? undefined);
      if (!id)
        throw connectError(
          Code.Unauthenticated,
          'AUTH.UNAUTHENTICATED',
          'send Authorization: Bearer <api key>',
        );
      return id;
    };
    const guard =
      <I, O>(fn: (req: I, ctx: HandlerContext, clientId: string) => Promise<O>) =>
      async (req: I, ctx: HandlerContext): Promise<O> => {
        try {
          return await fn(req, ctx, client(ctx));
        } catch (err) {
          const ce = toConnectError(err);
          if (ce.code === Code.Internal) ctx.values.get(kRequest)?.log.error({ err }, 'rpc failed');
          throw ce;
        }
      };
    const routes = (router: ConnectRouter) =>
      router.service(JobService, {
        submitJob: guard(async (req, ctx, clientId) => {
          const key = ctx.requestHeader.get('idempotency-key');
          const result = await deps.submitJob({
            clientId,
            idempotencyKey: key ?? undefined,
            requestId: ctx.values.get(kRequest)?.id ?? null,
            type: req.type,
            payload: (req.payload ?? {}) as Record<string, unknown>,
            priority: req.priority,
            runAt: req.runAt ? timestampDate(req.runAt) : null,
            maxAttempts: req.maxAttempts,
          });
          return { job: jobToProto(result.job) };
        }),
        getJob: guard(async (req, _ctx, clientId) => ({
          job: jobToProto(await deps.queries.get(clientId, req.id)),
        })),
        listJobs: guard(async (req, _ctx, clientId) => {
          const state = req.state === ProtoJobState.UNSPECIFIED ? undefined : stateFromProto(req.state);
          const page = await deps.queries.list(
            clientId,
            { ...(state ? { state } : {}), ...(req.type ? { type: req.type } : {}) },
            req.pageSize,
            req.pageToken,
          );
          return { jobs: page.items.map(jobToProto), nextPageToken: page.nextCursor ?? '' };
        }),
        cancelJob: guard(async (req, _ctx, clientId) => ({
          job: jobToProto(await deps.controls.cancel(clientId, req.id)),
        })),
        retryJob: guard(async (req, _ctx, clientId) => ({
          job: jobToProto(await deps.controls.retry(clientId, req.id)),
        })),
        listJobEvents: guard(async (req, _ctx, clientId) => {
          const page = await deps.queries.events(clientId, req.jobId, req.pageSize, req.pageToken);
          return { events: page.items.map(eventToProto), nextPageToken: page.nextCursor ?? '' };
        }),
      });
    await app.register(fastifyConnectPlugin, {
      routes,
      readMaxBytes: deps.bodyLimit,
      contextValues: (request) => createContextValues().set(kRequest, request as FastifyRequest),
    });
  };
}
