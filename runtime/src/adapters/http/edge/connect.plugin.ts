import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type ConnectRouter,
  type HandlerContext,
} from '@connectrpc/connect';
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from '@connectrpc/connect-node';
import * as protoConnect from '@connectrpc/connect/protocol-connect';
import * as protoGrpc from '@connectrpc/connect/protocol-grpc';
import * as protoGrpcWeb from '@connectrpc/connect/protocol-grpc-web';
import { JobService } from '@jobplane/proto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DomainError, isDomainError, type ErrorCode } from '../../../domain/errors.js';
import type { AppDeps } from '../app.js';
import { singleHeader, truncateValues } from '../input.js';
import { problem, sendProblem } from '../problem.js';
import { eventToProto, jobToProto, listFilterFromProto, submitJobsResultToProto } from '../proto-mapping.js';
import { submitFields } from '../routes/jobs.routes.js';
import { emptyMessage, rpcFormat, screenRpcBody, type RpcBodyProblem } from './connect-screen.js';

/** Metadata key (response header / trailer) carrying the stable error code, e.g. `JOB.NOT_FOUND`. */
export const ERROR_CODE_METADATA = 'jobplane-error-code';

/** Domain codes → Connect/gRPC status codes. */
export const CONNECT_CODE_BY_ERROR: Record<ErrorCode, Code> = {
  'JOB.NOT_FOUND': Code.NotFound,
  'SCHEDULE.NOT_FOUND': Code.NotFound,
  'SUBSCRIPTION.NOT_FOUND': Code.NotFound,
  'SUBSCRIPTION.URL_REFUSED': Code.InvalidArgument,
  'SUBSCRIPTION.LIMIT_REACHED': Code.ResourceExhausted,
  'JOB.INVALID_STATE': Code.FailedPrecondition,
  'JOB.UNKNOWN_TYPE': Code.InvalidArgument,
  'JOB.PAYLOAD_INVALID': Code.InvalidArgument,
  'JOB.NOT_SUBMITTABLE': Code.InvalidArgument,
  'JOB.PAYLOAD_TOO_LARGE': Code.InvalidArgument,
  'LAUNCHER.NOT_LEADER': Code.Unavailable,
  'JOB.NO_RESULT_VIEW': Code.NotFound,
  'IDEMPOTENCY.KEY_MISSING': Code.InvalidArgument,
  'IDEMPOTENCY.KEY_INVALID': Code.InvalidArgument,
  'IDEMPOTENCY.KEY_REUSED': Code.AlreadyExists,
  'REQUEST.INVALID': Code.InvalidArgument,
  'REQUEST.MALFORMED_JSON': Code.InvalidArgument,
  'REQUEST.MALFORMED': Code.InvalidArgument,
  'REQUEST.TOO_LARGE': Code.ResourceExhausted,
  'REQUEST.URI_TOO_LONG': Code.InvalidArgument,
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': Code.InvalidArgument,
  'REQUEST.HEADERS_TOO_LARGE': Code.InvalidArgument,
  'REQUEST.TIMEOUT': Code.DeadlineExceeded,
  'ROUTE.NOT_FOUND': Code.Unimplemented,
  'AUTH.UNAUTHENTICATED': Code.Unauthenticated,
  'AUTH.FORBIDDEN': Code.PermissionDenied,
  'SERVICE.UNAVAILABLE': Code.Unavailable,
  'SERVICE.OVERLOADED': Code.Unavailable,
  'SERVICE.INTERNAL': Code.Internal,
  'METRICS.DISABLED': Code.NotFound,
  'QUEUE.FULL': Code.ResourceExhausted,
  'RATE_LIMIT.EXCEEDED': Code.ResourceExhausted,
  'WEBHOOK.SOURCE_NOT_FOUND': Code.NotFound,
  'WEBHOOK.HEADERS_INVALID': Code.InvalidArgument,
  'WEBHOOK.TIMESTAMP_OUT_OF_RANGE': Code.Unauthenticated,
  'WEBHOOK.SIGNATURE_INVALID': Code.Unauthenticated,
};

function connectError(code: Code, stable: ErrorCode, message: string): ConnectError {
  return new ConnectError(truncateValues(message), code, { [ERROR_CODE_METADATA]: stable });
}

/** Any thrown error → ConnectError with the stable code in metadata; internals never leak. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isDomainError(err)) {
    return connectError(CONNECT_CODE_BY_ERROR[err.code] ?? Code.InvalidArgument, err.code, err.message);
  }
  return connectError(
    Code.Internal,
    'SERVICE.INTERNAL',
    'the server could not handle the request; it was logged',
  );
}

const kRequest = createContextKey<FastifyRequest | null>(null, { description: 'the Fastify request' });
const kBodyProblem = createContextKey<RpcBodyProblem | null>(null, {
  description: 'why the request body was refused before Connect parsed it',
});

/** Reads the whole body, keeping at most `max` bytes (the rest is read and dropped). */
async function readBody(request: FastifyRequest, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    if (kept > max) continue;
    chunks.push(chunk);
    kept += chunk.length;
  }
  return Buffer.concat(chunks);
}

/**
 * `jobprocessing.v1.JobService` over Connect, gRPC-Web and gRPC, at
 * `/jobprocessing.v1.JobService/<Method>` on the same Fastify app and with the same use cases as
 * the JSON API: `Authorization: Bearer <key>` (header or gRPC metadata), `Idempotency-Key` for
 * SubmitJob, the same validation, errors mapped to Connect codes with the stable code in the
 * `jobplane-error-code` metadata. Plain gRPC needs HTTP/2 (see docs/api.md).
 */
export function connectPlugin(): FastifyPluginAsync<{ deps: AppDeps }> {
  return async (app, { deps }) => {
    /** The caller, set by the auth plugin before the body was read; then the body's problem, if any. */
    const client = (ctx: HandlerContext): string => {
      const request = ctx.values.get(kRequest);
      if (!request?.clientId)
        throw connectError(
          Code.Unauthenticated,
          request?.authFailed ?? 'AUTH.UNAUTHENTICATED',
          'send Authorization: Bearer <api key>',
        );
      const bodyProblem = ctx.values.get(kBodyProblem);
      if (bodyProblem)
        throw connectError(CONNECT_CODE_BY_ERROR[bodyProblem.code], bodyProblem.code, bodyProblem.message);
      return request.clientId;
    };
    const guard =
      <I, O>(fn: (req: I, ctx: HandlerContext, clientId: string) => Promise<O>) =>
      async (req: I, ctx: HandlerContext): Promise<O> => {
        try {
          return await fn(req, ctx, client(ctx));
        } catch (err) {
          const mapped = toConnectError(err);
          // Messages are echoed in a percent-encoded trailer: no unpaired surrogate may reach it.
          const ce = new ConnectError(truncateValues(mapped.rawMessage), mapped.code, mapped.metadata);
          const log = ctx.values.get(kRequest)?.log;
          if (ce.code === Code.Internal) log?.error({ err }, 'rpc failed');
          else
            log?.info({ code: ce.metadata.get(ERROR_CODE_METADATA), rpcCode: Code[ce.code] }, 'rpc refused');
          throw ce;
        }
      };
    const routes = (router: ConnectRouter) =>
      router.service(JobService, {
        submitJob: guard(async (req, ctx, clientId) => {
          const raw = ctx.values.get(kRequest)?.raw.rawHeaders ?? [];
          const key = singleHeader(
            raw,
            'idempotency-key',
            () => new DomainError('IDEMPOTENCY.KEY_INVALID', 'send exactly one Idempotency-Key header'),
          );
          const result = await deps.submitJob({
            clientId,
            idempotencyKey: key ?? undefined,
            requestId: ctx.values.get(kRequest)?.id ?? null,
            ...submitFields(req),
          });
          return { job: jobToProto(result.job) };
        }),
        submitJobs: guard(async (req, ctx, clientId) => {
          const results = await deps.submitJobs({
            clientId,
            requestId: ctx.values.get(kRequest)?.id ?? null,
            jobs: req.jobs.map((e) => ({ idempotencyKey: e.idempotencyKey, ...submitFields(e.job) })),
          });
          return { results: results.map(submitJobsResultToProto) };
        }),
        getJob: guard(async (req, _ctx, clientId) => ({
          job: jobToProto(await deps.queries.get(clientId, req.id)),
        })),
        listJobs: guard(async (req, _ctx, clientId) => {
          const page = await deps.queries.list(
            clientId,
            listFilterFromProto(req),
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
    // Connect's router, mounted here rather than with @connectrpc/connect-fastify so that each body
    // is screened first (see connect-screen.ts) and transport failures reach the request log.
    // Unknown JSON fields are refused, as on the JSON API.
    const router = createConnectRouter({
      readMaxBytes: deps.bodyLimit,
      jsonOptions: { ignoreUnknownFields: false },
      acceptCompression: [compressionGzip, compressionBrotli],
    });
    routes(router);
    // Connect reads the raw bodies; these parsers only stop Fastify from reading them.
    const noop = (_req: unknown, _payload: unknown, done: (err: null, body?: undefined) => void) =>
      done(null, undefined);
    app.addContentTypeParser(
      [
        protoConnect.contentTypeUnaryJson,
        protoConnect.contentTypeStreamJson,
        protoGrpcWeb.contentTypeProto,
        protoGrpcWeb.contentTypeJson,
        protoGrpc.contentTypeProto,
        protoGrpc.contentTypeJson,
      ],
      noop,
    );
    app.addContentTypeParser(protoGrpc.contentTypeRegExp, noop);
    app.addContentTypeParser(protoGrpcWeb.contentTypeRegExp, noop);
    app.addContentTypeParser(protoConnect.contentTypeRegExp, noop);
    for (const handler of router.handlers) {
      app.all(handler.requestPath, async (request, reply) => {
        const values = createContextValues().set(kRequest, request);
        const uReq = universalRequestFromNodeRequest(request.raw, reply.raw, undefined, values);
        const format = rpcFormat(uReq.header);
        if (!format) {
          return sendProblem(
            reply,
            problem(
              415,
              'REQUEST.UNSUPPORTED_MEDIA_TYPE',
              `content type '${uReq.header.get('content-type') ?? ''}' is not a unary Connect, gRPC or gRPC-Web type`,
              { instance: request.url },
            ),
          );
        }
        let body: Uint8Array = new Uint8Array(0);
        if (request.clientId) {
          // Only an authenticated caller's body is read and decoded.
          const screened = screenRpcBody(
            handler.method.input,
            format,
            await readBody(request, deps.bodyLimit + 5),
            deps.bodyLimit,
          );
          body = screened.body;
          if (screened.problem) {
            values.set(kBodyProblem, screened.problem);
            request.log.info(
              { code: screened.problem.code, detail: screened.problem.message },
              'rpc body refused',
            );
          }
        } else {
          body = emptyMessage(format);
        }
        if (values.get(kBodyProblem) || !request.clientId) {
          uReq.header.delete('content-encoding');
          uReq.header.delete('grpc-encoding');
        }
        if (body.length !== Number(uReq.header.get('content-length') ?? body.length)) {
          uReq.header.set('content-length', String(body.length));
        }
        try {
          const uRes = await handler({
            ...uReq,
            body: (async function* () {
              yield body;
            })(),
          });
          // Fastify keeps response headers (helmet, x-request-id) on the reply until send.
          for (const [k, v] of Object.entries(reply.getHeaders()))
            if (v !== undefined) reply.raw.setHeader(k, v);
          await universalResponseToNodeResponse(uRes, reply.raw);
        } catch (err) {
          if (ConnectError.from(err).code === Code.Aborted) return reply;
          request.log.error({ err, rpc: handler.method.name }, 'rpc transport failed');
          if (!reply.raw.headersSent) {
            return sendProblem(
              reply,
              problem(500, 'SERVICE.INTERNAL', 'the server could not handle the request; it was logged', {
                instance: request.url,
              }),
            );
          }
          reply.raw.destroy();
        }
        return reply;
      });
    }
  };
}
