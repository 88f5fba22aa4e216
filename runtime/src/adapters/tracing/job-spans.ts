/**
 * The spans of a job's life (docs/observability.md): `jobplane.submit` (api, one per job row,
 * its context stored with the job), `jobplane.publish` (relay, one per queue message, its context
 * carried in the message), `jobplane.attempt` (worker, one per delivery). Each is a child of the
 * previous one, so one trace follows the job from the POST to its last attempt.
 */
import { context, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import type { AttemptTrace } from '../../ports/tracing.port.js';
import {
  contextFromTraceparent,
  failSpan,
  inSpan,
  SpanKind,
  SpanStatusCode,
  traceparentOf,
  tracer,
} from './tracing.js';

/** Attribute names of the job spans (and of the `job.*` attributes the use cases add). */
export const JOB_ATTR = {
  id: 'job.id',
  type: 'job.type',
  queue: 'job.queue',
  attempt: 'job.attempt',
  kind: 'job.message_kind',
  outcome: 'job.outcome',
  reason: 'job.outcome_reason',
} as const;

/** What the submit span needs of a job row. */
interface SubmittedJob {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
}

/** A job row with its own submit span and the `traceparent` stored with it. */
export type Traced<J> = J & { readonly traceparent: string | null; readonly submitSpan: Span };

/** Starts one `jobplane.submit` span per job (children of the request's context). */
export function startSubmitSpans<J extends SubmittedJob>(jobs: readonly J[]): Traced<J>[] {
  const parent = context.active();
  return jobs.map((job) => {
    const span = tracer().startSpan(
      'jobplane.submit',
      {
        kind: SpanKind.INTERNAL,
        attributes: { [JOB_ATTR.id]: job.id, [JOB_ATTR.type]: job.type, [JOB_ATTR.queue]: job.queue },
      },
      parent,
    );
    return { ...job, traceparent: traceparentOf(trace.setSpan(parent, span)), submitSpan: span };
  });
}

/** Ends submit spans once their rows committed (`created: false` is an idempotent replay) or failed. */
export function endSubmitSpans(
  jobs: readonly Traced<SubmittedJob>[],
  outcome: { created: (i: number) => boolean | undefined } | { error: unknown },
): void {
  jobs.forEach((job, i) => {
    if ('error' in outcome) failSpan(job.submitSpan, outcome.error);
    else job.submitSpan.setAttribute('job.created', outcome.created(i) ?? false);
    job.submitSpan.end();
  });
}

/**
 * Runs one group-committed statement: in its job's span when it carries one job, else in a
 * `jobplane.submit_batch` span linked to every job's submit span (each row still stores its own
 * request's context).
 */
export function inInsertBatch<T>(jobs: readonly Traced<SubmittedJob>[], fn: () => Promise<T>): Promise<T> {
  if (jobs.length === 1) return context.with(trace.setSpan(context.active(), jobs[0]!.submitSpan), fn);
  const links: Link[] = jobs.map((j) => ({ context: j.submitSpan.spanContext() }));
  return inSpan(
    'jobplane.submit_batch',
    { links, parent: context.active(), attributes: { 'jobplane.batch_size': jobs.length } },
    fn,
  );
}

/** What a publish span needs of a queue message. */
interface PublishedMessage {
  readonly jobId: string;
  readonly queue: string;
  readonly kind: string;
  readonly attempt: number;
  readonly traceparent?: string | null;
}

export interface PublishSpans {
  /** `traceparent` to put in the i-th message (the publish span's). */
  readonly traceparents: ReadonlyArray<string | null>;
  /** Runs the queue write in the publish span (one message) or a batch span linked to all. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** One `jobplane.publish` PRODUCER span per message, child of the context stored with the job. */
export function startPublishSpans(queue: string, messages: readonly PublishedMessage[]): PublishSpans {
  const spans = messages.map((m) =>
    tracer().startSpan(
      'jobplane.publish',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [JOB_ATTR.id]: m.jobId,
          [JOB_ATTR.queue]: queue,
          [JOB_ATTR.kind]: m.kind,
          [JOB_ATTR.attempt]: m.attempt,
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'send',
          'messaging.destination.name': queue,
        },
      },
      m.traceparent ? contextFromTraceparent(m.traceparent) : context.active(),
    ),
  );
  const traceparents = spans.map((s) => traceparentOf(trace.setSpan(context.active(), s)));
  const endAll = (err?: unknown) => {
    for (const s of spans) {
      if (err !== undefined) failSpan(s, err);
      s.end();
    }
  };
  return {
    traceparents,
    async run(fn) {
      try {
        const result =
          spans.length === 1
            ? await context.with(trace.setSpan(context.active(), spans[0]!), fn)
            : await inSpan(
                'jobplane.publish_batch',
                {
                  kind: SpanKind.PRODUCER,
                  links: spans.map((s) => ({ context: s.spanContext() })),
                  attributes: { [JOB_ATTR.queue]: queue, 'messaging.batch.message_count': spans.length },
                },
                fn,
              );
        endAll();
        return result;
      } catch (err) {
        endAll(err);
        throw err;
      }
    },
  };
}

/** The use cases' `AttemptTrace` port: names the active attempt span's job type and attempt. */
export const ATTEMPT_TRACE: AttemptTrace = {
  attemptStarted(type, attempt) {
    trace.getActiveSpan()?.setAttributes({ [JOB_ATTR.type]: type, [JOB_ATTR.attempt]: attempt });
  },
};

/** What an attempt span needs of a delivery. */
interface DeliveredMessage {
  readonly jobId: string;
  readonly kind: string;
  readonly attempt: number;
  readonly traceparent?: string | null;
}

/**
 * Runs one delivery in a `jobplane.attempt` CONSUMER span, child of the context carried in the
 * message. `outcomeOf` names the result (ack/retry/dead and why); the use case adds `job.type`
 * and `job.attempt` once it has read the job.
 */
export function inAttemptSpan<T>(
  queue: string,
  message: DeliveredMessage,
  delivery: number,
  outcomeOf: (result: T) => { action: string; reason: string },
  fn: () => Promise<T>,
): Promise<T> {
  const parent: Context = message.traceparent
    ? contextFromTraceparent(message.traceparent)
    : context.active();
  return inSpan(
    'jobplane.attempt',
    {
      kind: SpanKind.CONSUMER,
      parent,
      attributes: {
        [JOB_ATTR.id]: message.jobId,
        [JOB_ATTR.queue]: queue,
        [JOB_ATTR.kind]: message.kind,
        [JOB_ATTR.attempt]: message.attempt,
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue,
        'messaging.bullmq.delivery': delivery,
      },
    },
    async (span) => {
      const result = await fn();
      const outcome = outcomeOf(result);
      span.setAttributes({ [JOB_ATTR.outcome]: outcome.action, [JOB_ATTR.reason]: outcome.reason });
      if (outcome.action !== 'ack') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
      return result;
    },
  );
}
