/**
 * Domain errors with stable codes. The HTTP error handler maps codes to status codes; messages
 * are safe to show to clients (they never carry secrets or internals).
 */
export type ErrorCode =
  | 'JOB.NOT_FOUND'
  | 'JOB.INVALID_STATE'
  | 'JOB.UNKNOWN_TYPE'
  | 'JOB.PAYLOAD_INVALID'
  | 'JOB.NOT_SUBMITTABLE'
  | 'IDEMPOTENCY.KEY_MISSING'
  | 'IDEMPOTENCY.KEY_INVALID'
  | 'IDEMPOTENCY.KEY_REUSED'
  | 'REQUEST.INVALID'
  | 'AUTH.UNAUTHENTICATED'
  | 'SERVICE.UNAVAILABLE'
  | 'QUEUE.FULL'
  | 'RATE_LIMIT.EXCEEDED'
  | 'WEBHOOK.SOURCE_NOT_FOUND'
  | 'WEBHOOK.HEADERS_INVALID'
  | 'WEBHOOK.TIMESTAMP_OUT_OF_RANGE'
  | 'WEBHOOK.SIGNATURE_INVALID';

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
