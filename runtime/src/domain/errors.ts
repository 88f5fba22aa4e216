/**
 * Domain errors with stable codes. The HTTP error handler maps codes to status codes; messages
 * are safe to show to clients (they never carry secrets or internals).
 */
export interface ErrorCodeInfo {
  /** The HTTP status the API answers with. */
  readonly status: number;
  /** What it means, as docs/api.md lists it. */
  readonly meaning: string;
}

/**
 * The one registry of API error codes (`AREA.REASON`): every problem+json `code` and every
 * `jobplane-error-code` of a Connect/gRPC error is one of these, and docs/api.md lists each of them
 * (a test compares the two). Job failure codes (`job.error.code`) are a separate vocabulary.
 */
export const ERROR_CODES = {
  'REQUEST.INVALID': { status: 400, meaning: 'a field, query parameter, header or page token is invalid' },
  'REQUEST.MALFORMED_JSON': { status: 400, meaning: 'the body is not JSON' },
  'REQUEST.MALFORMED': {
    status: 400,
    meaning: 'the request is not valid HTTP/1.1 (e.g. a control character in a header)',
  },
  'REQUEST.TOO_LARGE': { status: 413, meaning: 'the body exceeds BODY_LIMIT_BYTES' },
  'REQUEST.URI_TOO_LONG': { status: 414, meaning: 'a path segment is longer than 100 characters' },
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': { status: 415, meaning: 'the content type is not one the route reads' },
  'REQUEST.HEADERS_TOO_LARGE': { status: 431, meaning: 'the request headers exceed the size limit' },
  'REQUEST.TIMEOUT': { status: 408, meaning: 'the request did not arrive in time' },
  'ROUTE.NOT_FOUND': { status: 404, meaning: 'no such route or custom method' },
  'AUTH.UNAUTHENTICATED': { status: 401, meaning: 'no valid API key (or admin key)' },
  'AUTH.FORBIDDEN': { status: 403, meaning: 'the key may not use this route (admin dashboard)' },
  'JOB.NOT_FOUND': { status: 404, meaning: "no such job for this client (another client's job included)" },
  'JOB.INVALID_STATE': { status: 409, meaning: 'the job is not in a state the action allows' },
  'JOB.UNKNOWN_TYPE': { status: 400, meaning: 'the job type does not exist or is not submittable' },
  'JOB.PAYLOAD_INVALID': {
    status: 400,
    meaning: 'the payload does not match the job type (with `problems`)',
  },
  'JOB.PAYLOAD_TOO_LARGE': {
    status: 400,
    meaning: "the payload's JSON exceeds the container job type's maxPayloadBytes",
  },
  'LAUNCHER.NOT_LEADER': {
    status: 503,
    meaning: 'a standby launcher was asked to reconcile; the leader replica does',
  },
  'JOB.NOT_SUBMITTABLE': { status: 400, meaning: 'the job type is created by its parent only' },
  'SCHEDULE.NOT_FOUND': {
    status: 404,
    meaning: "no such schedule for this client (another client's included)",
  },
  'SUBSCRIPTION.NOT_FOUND': {
    status: 404,
    meaning: "no such webhook subscription for this client (another client's included)",
  },
  'SUBSCRIPTION.URL_REFUSED': {
    status: 400,
    meaning:
      'the subscription URL is not http(s), or it (or what its host resolves to) is in a refused address range',
  },
  'SUBSCRIPTION.LIMIT_REACHED': { status: 409, meaning: 'the client already has 100 webhook subscriptions' },
  'JOB.NO_RESULT_VIEW': {
    status: 404,
    meaning: 'the job type declares no result view, or the job has no result yet (console)',
  },
  'IDEMPOTENCY.KEY_MISSING': { status: 400, meaning: 'submit without an Idempotency-Key' },
  'IDEMPOTENCY.KEY_INVALID': {
    status: 400,
    meaning: 'Idempotency-Key empty, over 255 characters, with control characters, or sent twice',
  },
  'IDEMPOTENCY.KEY_REUSED': { status: 422, meaning: 'the key was used before with a different request' },
  'RATE_LIMIT.EXCEEDED': {
    status: 429,
    meaning: 'over the per-minute budget (requests, failed authentications, streams)',
  },
  'QUEUE.FULL': { status: 503, meaning: "the job type's queue backlog is above QUEUE_MAX_DEPTH" },
  'SERVICE.UNAVAILABLE': { status: 503, meaning: 'a dependency (PostgreSQL, Redis) does not answer' },
  'SERVICE.OVERLOADED': { status: 503, meaning: 'the event loop is overloaded; retry after Retry-After' },
  'SERVICE.INTERNAL': {
    status: 500,
    meaning: 'a defect; the body carries no internals, the log has the request id',
  },
  'METRICS.DISABLED': { status: 404, meaning: 'this process exports no metrics' },
  'WEBHOOK.SOURCE_NOT_FOUND': { status: 404, meaning: 'no such webhook source' },
  'WEBHOOK.HEADERS_INVALID': { status: 400, meaning: 'signature headers missing or malformed' },
  'WEBHOOK.TIMESTAMP_OUT_OF_RANGE': {
    status: 401,
    meaning: 'the delivery timestamp is more than 5 minutes off',
  },
  'WEBHOOK.SIGNATURE_INVALID': { status: 401, meaning: 'bad signature, wrong secret or tampered body' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

export const jobNotFound = (id: string): DomainError =>
  new DomainError('JOB.NOT_FOUND', `job '${id}' not found`);

export const invalidState = (
  id: string,
  state: string,
  action: string,
  allowed: readonly string[],
): DomainError =>
  new DomainError(
    'JOB.INVALID_STATE',
    `job '${id}' is ${state}; ${action} is allowed only from ${allowed.join(', ')}`,
    { state },
  );

export const invalidRequest = (message: string, problems?: string[]): DomainError =>
  new DomainError('REQUEST.INVALID', message, problems ? { problems } : undefined);
