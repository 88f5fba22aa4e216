import { pino, type Logger as PinoLogger } from 'pino';
import { activeSpanIds } from '../tracing/tracing.js';

/** Fields never written to logs. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'authorization',
  'password',
  'secret',
  '*.password',
  '*.secret',
  'DATABASE_URL',
  'REDIS_URL',
  'JOBPLANE_API_KEYS',
  'JOBPLANE_ADMIN_KEY',
  'JOBPLANE_WEBHOOKS',
];

/**
 * JSON logs on stdout (pretty printing is left to the reader: `| npx pino-pretty`). A line written
 * inside a span carries its `trace_id` and `span_id` (docs/observability.md).
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): PinoLogger {
  return pino({
    level,
    base: { service: 'jobplane', ...bindings },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // A new object each call: pino merges the line's own fields into it.
    mixin: () => activeSpanIds() ?? {},
  });
}
