import { create, toJson } from '@bufbuild/protobuf';
import { GetJobResponseSchema } from '@jobplane/proto';
import type { FastifyPluginAsync } from 'fastify';
import type { Job } from '../../../domain/job.entity.js';
import type { AppDeps } from '../app.js';
import { jobToProto } from '../proto-mapping.js';
import { problem } from '../problem.js';
import { serveJobStream, SSE_MAX_STREAMS_PER_CLIENT, StreamSlots } from './job-stream.js';

export interface SseOptions {
  /** How often each stream reads the job. Default 500 ms. */
  readonly pollMs?: number;
  /** Comment line sent when nothing changed for this long, so proxies keep the stream open. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Streams end after this long even if the job is still running (clients reconnect). Default 1 h. */
  readonly maxStreamMs?: number;
  /** The replica's stream slots, shared with the console's stream (one cap per client). */
  readonly slots?: StreamSlots;
}

export { SSE_MAX_STREAMS_PER_CLIENT };

/** States after which nothing changes unless a client retries the job. */
const TERMINAL = new Set<Job['state']>(['succeeded', 'dead_lettered', 'cancelled']);

/** What a client can observe; a new event is sent only when this changes. */
const fingerprint = (j: Job): string =>
  `${j.state}|${j.attempts}|${j.progress}|${j.progressMessage ?? ''}|${j.updateTime.getTime()}`;

/**
 * `GET /v1/jobs/{id}/stream`: Server-Sent Events with the job (`GetJobResponse` JSON) each time its
 * state, attempt or progress changes, until it is terminal (then an `end` event, and the stream
 * closes). Same Bearer auth and per-client scoping as `GET /v1/jobs/{id}`; the open streams of a
 * client are capped together with its console streams (`StreamSlots`).
 *
 * Source: the stream polls PostgreSQL (a primary-key read every `pollMs`). Chosen over LISTEN/NOTIFY
 * (a trigger on `jobs` and one listening connection per API replica, a schema change owned by the
 * core) and Redis pub/sub (the worker would have to publish every progress write): polling needs
 * nothing from the write path, works behind any number of API replicas, and sees exactly what
 * `GET /v1/jobs/{id}` sees. The cost is up to `pollMs` of latency and one indexed read per open
 * stream per `pollMs`.
 */
export function ssePlugin(opts: SseOptions = {}): FastifyPluginAsync<{ deps: AppDeps }> {
  const pollMs = opts.pollMs ?? 500;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxStreamMs = opts.maxStreamMs ?? 3_600_000;
  const slots = opts.slots ?? new StreamSlots();
  return async (app, { deps }) => {
    app.addHook('preClose', async () => slots.endAll());
    app.get(
      '/v1/jobs/:id/stream',
      {
        schema: {
          summary: 'Live job state and progress (Server-Sent Events)',
          description:
            'Events: `job` (data: GetJobResponse JSON) on every change of state, attempt or progress; `end` when ' +
            'the job is terminal. Lines starting with `:` are heartbeats.',
          tags: ['jobs'],
          security: [{ bearerAuth: [] }],
          params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
          produces: ['text/event-stream'],
        },
      },
      async (request, reply) => {
        // Authenticated by the auth plugin (policy `client`).
        const clientId = request.clientId;
        const id = (request.params as { id: string }).id;
        return serveJobStream(request, reply, slots, {
          client: clientId,
          read: () => deps.queries.get(clientId, id),
          fingerprint,
          data: (job) => toJson(GetJobResponseSchema, create(GetJobResponseSchema, { job: jobToProto(job) })),
          ended: (job) =>
            TERMINAL.has(job.state) ? { state: `JOB_STATE_${job.state.toUpperCase()}` } : null,
          // The same problem+json body as any other error, as the data of an `error` event.
          readFailed: () =>
            problem(503, 'SERVICE.UNAVAILABLE', 'the job could not be read; reconnect to resume', {
              instance: request.url,
            }),
          eventIds: true,
          pollMs,
          heartbeatMs,
          maxStreamMs,
          what: 'job stream read failed',
        });
      },
    );
  };
}
