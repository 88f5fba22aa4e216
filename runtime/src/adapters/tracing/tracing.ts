/**
 * The runtime's own spans over the OpenTelemetry API. Without a registered SDK (tracing off: see
 * otel-env.ts) every call here is the API's no-op: no span is recorded, `currentTraceparent()`
 * returns null, nothing is exported.
 *
 * Context flows with the job (docs/observability.md): the submit span's W3C `traceparent` is
 * written with the job and outbox rows in the same transaction, the relay's publish span is its
 * child and puts its own `traceparent` in the queue message, and each worker attempt is a child of
 * that.
 */
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';

export { SpanKind, SpanStatusCode, type Span };

/** Instrumentation scope of the runtime's own spans. */
export const TRACER_NAME = 'jobplane';

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** W3C `traceparent` of a context (the active one by default); null when it holds no sampled or unsampled span. */
export function traceparentOf(ctx: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? null;
}

/** The context a stored `traceparent` stands for (ROOT_CONTEXT when there is none). */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A link to the span a stored `traceparent` names, or null. */
export function linkFromTraceparent(traceparent: string | null | undefined): Link | null {
  const sc = trace.getSpanContext(contextFromTraceparent(traceparent));
  return sc && isSpanContextValid(sc) ? { context: sc } : null;
}

/** Trace and span id of the active span (for log lines and exemplars), or null outside any span. */
export function activeSpanIds(): { trace_id: string; span_id: string } | null {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || !isSpanContextValid(sc)) return null;
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/** Sets attributes on the active span, if any (a no-op when tracing is off). */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Ends a span with an ERROR status and the exception recorded. */
export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : new Error(String(err)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * Runs `fn` inside a new active span (child of `parent`, the active context by default) and ends
 * it when `fn` settles; a rejection marks the span as failed.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Runs `fn` with `span` as the active span. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

type Shutdown = () => Promise<void>;
const SHUTDOWN = Symbol.for('jobplane.tracing.shutdown');
type WithShutdown = typeof globalThis & { [SHUTDOWN]?: Shutdown };

/** Called by the instrumentation module once the SDK runs. */
export function setTracingShutdown(fn: Shutdown): void {
  (globalThis as WithShutdown)[SHUTDOWN] = fn;
}

/** True when this process runs the OpenTelemetry SDK (an OTLP endpoint was configured). */
export function tracingActive(): boolean {
  return (globalThis as WithShutdown)[SHUTDOWN] !== undefined;
}

/**
 * Flushes and stops the SDK (pending spans are exported); a no-op when tracing is off. Bounded by
 * `timeoutMs` so an unreachable collector never holds up an exit.
 */
export async function shutdownTracing(timeoutMs = 5000): Promise<void> {
  const fn = (globalThis as WithShutdown)[SHUTDOWN];
  if (!fn) return;
  delete (globalThis as WithShutdown)[SHUTDOWN];
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    fn().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
