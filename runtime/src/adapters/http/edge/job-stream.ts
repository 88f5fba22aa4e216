import type { FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem, type Problem } from '../problem.js';

/** Default cap of open job streams per API client and replica, /v1 and console together. */
export const SSE_MAX_STREAMS_PER_CLIENT = 20;

/**
 * The open job streams of one API replica, counted per client across every route that streams a
 * job (`/v1/jobs/{id}/stream` and the console's `/console/api/jobs/{id}/stream`), so one client
 * cannot hold the cap on each. The admin key counts as one client.
 */
export class StreamSlots {
  private readonly perClient = new Map<string, number>();
  private readonly open = new Set<() => void>();

  constructor(readonly maxPerClient: number = SSE_MAX_STREAMS_PER_CLIENT) {
    if (!Number.isInteger(maxPerClient) || maxPerClient < 1)
      throw new Error(`StreamSlots: 'maxPerClient' must be a positive integer, got ${maxPerClient}`);
  }

  /** Open streams of `client` now. */
  held(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  /** A slot for `client`, or null at the cap. The returned function frees it (once). */
  take(client: string): (() => void) | null {
    const n = this.held(client);
    if (n >= this.maxPerClient) return null;
    this.perClient.set(client, n + 1);
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const left = this.held(client) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    };
  }

  /** Ends every open stream (the server is closing). */
  endAll(): void {
    for (const end of [...this.open]) end();
  }

  /** @internal */
  track(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }
}

export interface JobStreamSpec<T> {
  /** The client the slot is counted for. */
  readonly client: string;
  /** Reads the job (and whatever the stream shows with it); its error before the stream is the answer. */
  readonly read: () => Promise<T>;
  /** What a client can observe: an event is sent only when this changes. */
  readonly fingerprint: (t: T) => string;
  /** The `job` event's data. */
  readonly data: (t: T) => unknown;
  /** The `end` event's data once nothing will change any more; null while it still can. */
  readonly ended: (t: T) => unknown;
  /** The problem+json sent as an `error` event when a later read fails (then the stream ends). */
  readonly readFailed: (err: unknown) => Problem;
  /** Number the `job` events (`id:` lines). */
  readonly eventIds?: boolean;
  readonly pollMs: number;
  readonly heartbeatMs: number;
  readonly maxStreamMs: number;
  /** Log message when a later read fails. */
  readonly what: string;
}

/**
 * Serves one job stream (Server-Sent Events): 429 problem+json at the client's cap, the first
 * read's error as the answer (e.g. 404) before any byte, then a `job` event on every change, a
 * heartbeat comment when quiet for `heartbeatMs`, `end` once terminal, and the stream closed after
 * `maxStreamMs` (clients reconnect). The source is a poll every `pollMs`.
 */
export async function serveJobStream<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  slots: StreamSlots,
  spec: JobStreamSpec<T>,
): Promise<FastifyReply> {
  const free = slots.take(spec.client);
  if (!free) {
    request.log.info({ open: slots.maxPerClient }, 'job stream refused: too many open streams');
    reply.header('retry-after', '5');
    return sendProblem(
      reply,
      problem(
        429,
        'RATE_LIMIT.EXCEEDED',
        `this client already holds ${slots.maxPerClient} open job streams; close one or retry later`,
        { instance: request.url },
      ),
    );
  }
  let current: T;
  try {
    current = await spec.read();
  } catch (err) {
    free();
    throw err;
  }
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
  const started = Date.now();
  const write = (chunk: string) => {
    lastWrite = Date.now();
    res.write(chunk);
  };
  const end = () => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    untrack();
    free();
    res.end();
  };
  const untrack = slots.track(end);
  request.raw.on('close', end);
  write(`retry: ${Math.max(1000, spec.pollMs)}\n\n`);
  const tick = async (first: boolean) => {
    if (done) return;
    if (!first) {
      try {
        current = await spec.read();
      } catch (err) {
        request.log.warn({ err }, spec.what);
        write(`event: error\ndata: ${JSON.stringify(spec.readFailed(err))}\n\n`);
        return end();
      }
    }
    const fp = spec.fingerprint(current);
    if (fp !== last) {
      last = fp;
      const id = spec.eventIds ? `id: ${++seq}\n` : '';
      write(`${id}event: job\ndata: ${JSON.stringify(spec.data(current))}\n\n`);
    } else if (Date.now() - lastWrite >= spec.heartbeatMs) {
      write(`: keepalive\n\n`);
    }
    const ended = spec.ended(current);
    if (ended !== null) {
      write(`event: end\ndata: ${JSON.stringify(ended)}\n\n`);
      return end();
    }
    if (Date.now() - started >= spec.maxStreamMs) return end();
    timer = setTimeout(() => void tick(false), spec.pollMs);
  };
  await tick(true);
  return reply;
}
