import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError, type ErrorCode } from '../../domain/errors.js';

/** RFC 9457 problem details. `code` is the stable machine-readable code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  problems?: string[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  'JOB.NOT_FOUND': 404,
  'JOB.INVALID_STATE': 409,
  'JOB.UNKNOWN_TYPE': 400,
  'JOB.PAYLOAD_INVALID': 400,
  'JOB.NOT_SUBMITTABLE': 400,
  'IDEMPOTENCY.KEY_MISSING': 400,
  'IDEMPOTENCY.KEY_INVALID': 400,
  'IDEMPOTENCY.KEY_REUSED': 422,
  'REQUEST.INVALID': 400,
  'AUTH.UNAUTHENTICATED': 401,
  'SERVICE.UNAVAILABLE': 503,
  'QUEUE.FULL': 503,
  'RATE_LIMIT.EXCEEDED': 429,
  'WEBHOOK.SOURCE_NOT_FOUND': 404,
  'WEBHOOK.HEADERS_INVALID': 400,
  'WEBHOOK.TIMESTAMP_OUT_OF_RANGE': 401,
  'WEBHOOK.SIGNATURE_INVALID': 401,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Codes for errors Fastify raises before a handler runs. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST.TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST.INVALID',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST.INVALID',
  FST_ERR_VALIDATION: 'REQUEST.INVALID',
  FST_ERR_MAX_PARAM_LENGTH: 'REQUEST.URI_TOO_LONG',
  FST_ERR_BAD_URL: 'REQUEST.INVALID',
};

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: `/problems/${code.toLowerCase().replace(/[._]/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

/** Maps any thrown error to problem+json. 5xx bodies never carry internals. */
export function toProblem(err: unknown, request: FastifyRequest): Problem {
  if (isDomainError(err)) {
    const status = STATUS_BY_CODE[err.code as ErrorCode] ?? 400;
    const problems = err.details?.problems;
    return problem(status, err.code, err.message, {
      instance: request.url,
      ...(Array.isArray(problems) ? { problems: problems as string[] } : {}),
    });
  }
  const fe = err as Partial<FastifyError> & { status?: number };
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code =
      (fe.code && FASTIFY_CODES[fe.code]) ??
      (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? 'REQUEST.MALFORMED_JSON'
        : 'REQUEST.INVALID');
    const detail = status === 413 ? 'the request body exceeds the size limit' : (fe.message ?? 'bad request');
    return problem(status, code, detail, { instance: request.url });
  }
  return problem(
    status >= 500 && status < 600 ? status : 500,
    'INTERNAL',
    'the server could not handle the request; it was logged with the request id',
    {
      instance: request.url,
    },
  );
}

/**
 * Fastify `clientErrorHandler`: requests the HTTP parser refuses (control characters in a header,
 * oversized headers, timeouts) get problem+json like every other error, instead of Fastify's
 * default `application/json` body. Written straight to the socket: no request object exists.
 */
export function writeClientErrorProblem(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail]: [number, string, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'REQUEST.HEADERS_TOO_LARGE', 'the request headers exceed the size limit']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST.TIMEOUT', 'the request did not arrive in time']
        : [400, 'REQUEST.MALFORMED', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify(problem(status, code, detail));
  socket.end(
    `HTTP/1.1 ${status} ${TITLES[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
