import { create, toJson } from '@bufbuild/protobuf';
import { GetJobResponseSchema } from '@jobplane/proto';
import type { FastifyPluginAsync } from 'fastify';
import type { Job } from '../../../domain/job.entity.js';
import type { AppDeps } from '../app.js';
import { jobToProto } from '../proto-mapping.js';
import { problem, sendProblem } from '../problem.js';

export interface SseOptions {
  /** How often each stream reads the job. Default 500 ms. */
  readonly pollMs?: number;
  /** Comment line sent when nothing changed for this long, so proxies keep the stream open. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Streams end after this long even if the job is still running (clients reconnect). Default 1 h. */
  readonly maxStreamMs?: number;
  /** Open streams one API client may hold on this replica; more get 429. Default 20. */
  readonly maxStreamsPerClient?: number;
}

/** Default cap of open streams per API client and replica (docs/api.md, Limits). */
export const SSE_MAX_STREAMS_PER_CLIENT = 20;

/** States after which nothing changes unless a client retries the job. */
const TERMINAL = new Set<Job['state']>(['succeeded', 'dead_lettered', 'cancelled']);

/** What a client can observe; a new event is sent only when this changes. */
const fingerprint = (j: Job): string =>
  `${j.state}|${j.attempts}|${j.progress}|${j.progressMessage ?? ''}|${j.updateTime.getTime()}`;

/**
 * `GET /v1/jobs/{id}/stream`: Server-Sent Events with the job (`GetJobResponse` JSON) each time its
 * state, attempt or progress changes, until it is terminal (then an `end` event, and the stream
 * closes). Same Bearer auth and per-client scoping as `GET /v1/jobs/{id}`.
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
  const maxPerClient = opts.maxStreamsPerClient ?? SSE_MAX_STREAMS_PER_CLIENT;
  if (!Number.isInteger(maxPerClient) || maxPerClient < 1)
    throw new Error(`ssePlugin: 'maxStreamsPerClient' must be a positive integer, got ${maxPerClient}`);
  return async (app, { deps }) => {
    const open = new Set<() => void>();
    /** Open streams per client id. */
    const perClient = new Map<string, number>();
    app.addHook('preClose', async () => {
      for (const end of open) end();
    });
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
        if ((perClient.get(clientId) ?? 0) >= maxPerClient) {
          request.log.info({ clientId, open: maxPerClient }, 'job stream refused: too many open streams');
          reply.header('retry-after', '5');
          return sendProblem(
            reply,
            problem(
              429,
              'RATE_LIMIT.EXCEEDED',
              `this client already holds ${maxPerClient} open job streams; close one or retry later`,
              { instance: request.url },
            ),
          );
        }
        const id = (request.params as { id: string }).id;
        // 404 (problem+json) before any byte of the stream if the job is not this client's.
        let job = await deps.queries.get(clientId, id);
        perClient.set(clientId, (perClient.get(clientId) ?? 0) + 1);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no',
          'x-request-id': request.id,
        });
        let seq = 0;
        let last = '';
        let lastWrite = Date.now();
        let timer: NodeJS.Timeout | null = null;
        let done = false;
        const write = (chunk: string) => {
          lastWrite = Date.now();
          res.write(chunk);
        };
        const end = () => {
          if (done) return;
          done = true;
          if (timer) clearTimeout(timer);
          open.delete(end);
          const left = (perClient.get(clientId) ?? 1) - 1;
          if (left > 0) perClient.set(clientId, left);
          else perClient.delete(clientId);
          res.end();
        };
        open.add(end);
        request.raw.on('close', end);
        const started = Date.now();
        write(`retry: ${Math.max(1000, pollMs)}\n\n`);
        const tick = async () => {
          if (done) return;
          try {
            job = await deps.queries.get(clientId, id);
          } catch (err) {
            request.log.warn({ err, jobId: id }, 'job stream read failed');
            // The same problem+json body as any other error, as the data of an `error` event.
            const p = problem(503, 'SERVICE.UNAVAILABLE', 'the job could not be read; reconnect to resume', {
              instance: request.url,
            });
            write(`event: error\ndata: ${JSON.stringify(p)}\n\n`);
            return end();
          }
          const fp = fingerprint(job);
          if (fp !== last) {
            last = fp;
            const data = toJson(GetJobResponseSchema, create(GetJobResponseSchema, { job: jobToProto(job) }));
            write(`id: ${++seq}\nevent: job\ndata: ${JSON.stringify(data)}\n\n`);
          } else if (Date.now() - lastWrite >= heartbeatMs) {
            write(`: keepalive\n\n`);
          }
          if (TERMINAL.has(job.state)) {
            write(
              `event: end\ndata: ${JSON.stringify({ state: `JOB_STATE_${job.state.toUpperCase()}` })}\n\n`,
            );
            return end();
          }
          if (Date.now() - started >= maxStreamMs) return end();
          timer = setTimeout(() => void tick(), pollMs);
        };
        await tick();
        return reply;
      },
    );
  };
}
