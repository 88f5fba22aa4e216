import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, isDomainError, type ErrorCode } from '../../domain/errors.js';
import { truncateValues } from './input.js';

/** RFC 9457 problem details. `code` is the stable machine-readable code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  problems?: string[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

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
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST.TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST.INVALID',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST.INVALID',
  FST_ERR_VALIDATION: 'REQUEST.INVALID',
  FST_ERR_MAX_PARAM_LENGTH: 'REQUEST.URI_TOO_LONG',
  FST_ERR_BAD_URL: 'REQUEST.INVALID',
};

/** Longest `instance` (the request URL) echoed back. */
const MAX_INSTANCE = 512;

/**
 * A problem+json body. `detail` and `problems` have long quoted values cut (see `truncateValues`),
 * so a 100 kB input is never echoed back whole.
 */
export function problem(
  status: number,
  code: ErrorCode,
  detail: string,
  extra: Partial<Omit<Problem, 'code'>> = {},
): Problem {
  const { problems, instance, ...rest } = extra;
  return {
    type: `/problems/${code.toLowerCase().replace(/[._]/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail: truncateValues(detail),
    code,
    ...rest,
    ...(instance !== undefined
      ? { instance: instance.length > MAX_INSTANCE ? `${instance.slice(0, MAX_INSTANCE)}…` : instance }
      : {}),
    ...(problems ? { problems: problems.slice(0, 50).map(truncateValues) } : {}),
  };
}

/** The code's registered status (docs/api.md). */
export const statusOf = (code: ErrorCode): number => ERROR_CODES[code].status;

/** Which IDEMPOTENCY.* code an OpenAPI validation error of the Idempotency-Key header is. */
function idempotencyHeaderCode(fe: Partial<FastifyError> & { validationContext?: string }): ErrorCode | null {
  if (fe.code !== 'FST_ERR_VALIDATION' || fe.validationContext !== 'headers') return null;
  for (const v of fe.validation ?? []) {
    const missing = (v.params as { missingProperty?: unknown } | undefined)?.missingProperty;
    if (missing === 'idempotency-key') return 'IDEMPOTENCY.KEY_MISSING';
    if (v.instancePath === '/idempotency-key') return 'IDEMPOTENCY.KEY_INVALID';
  }
  return null;
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

/** Maps any thrown error to problem+json. 5xx bodies never carry internals. */
export function toProblem(err: unknown, request: FastifyRequest): Problem {
  if (isDomainError(err)) {
    const status = statusOf(err.code);
    const problems = err.details?.problems;
    return problem(status, err.code, err.message, {
      instance: request.url,
      ...(Array.isArray(problems) ? { problems: problems as string[] } : {}),
    });
  }
  const fe = err as Partial<FastifyError> & { status?: number; validationContext?: string };
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code: ErrorCode =
      idempotencyHeaderCode(fe) ??
      (fe.code ? FASTIFY_CODES[fe.code] : undefined) ??
      (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? 'REQUEST.MALFORMED_JSON'
        : 'REQUEST.INVALID');
    const detail = status === 413 ? 'the request body exceeds the size limit' : (fe.message ?? 'bad request');
    return problem(status, code, detail, { instance: request.url });
  }
  return problem(
    status >= 500 && status < 600 ? status : 500,
    'SERVICE.INTERNAL',
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
  const [status, code, detail]: [number, ErrorCode, string] =
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
