import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Console, JobDetail } from '../../../application/console.use-case.js';
import { DomainError, invalidRequest } from '../../../domain/errors.js';
import type { Job, JobEvent } from '../../../domain/job.entity.js';
import { isTerminal } from '../../../domain/job-state.js';
import type { ConsoleScope } from '../../../ports/console-read.port.js';
import { problem } from '../problem.js';
import { serveJobStream, StreamSlots } from '../edge/job-stream.js';

/** Prefix of the console's JSON API; the UI itself is served under `/console` (console-static.routes.ts). */
export const CONSOLE_API_PREFIX = '/console/api';

/** A job type as the console's submit form and result views need it. */
export interface ConsoleJobType {
  readonly type: string;
  readonly queue: string;
  readonly mode: 'pooled' | 'isolated' | 'container';
  readonly submittable: boolean;
  readonly hasView: boolean;
  readonly description?: string;
  readonly example?: unknown;
}

/** A firing alert as Prometheus reports it (`/api/v1/alerts`). */
export interface ConsoleAlert {
  readonly name: string;
  readonly state: string;
  readonly severity: string | null;
  readonly summary: string | null;
  readonly activeAt: string | null;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ConsoleAlerts {
  /** Null: no Prometheus configured (PROMETHEUS_URL unset). */
  readonly firing: (() => Promise<ConsoleAlert[]>) | null;
  readonly grafana: readonly { readonly title: string; readonly url: string }[];
}

export interface ConsoleRoutesOptions {
  readonly console: Console;
  readonly jobTypes: readonly ConsoleJobType[];
  readonly alerts: ConsoleAlerts;
  /** How often a stream reads the job (default 500 ms). */
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
  readonly maxStreamMs?: number;
  /** The replica's stream slots, shared with `/v1/jobs/{id}/stream` (one cap per client). */
  readonly slots?: StreamSlots;
}

/** The JSON form of a job in the console's API (dates as RFC 3339, states in lowercase). */
export function consoleJob(j: Job): Record<string, unknown> {
  return {
    id: j.id,
    clientId: j.clientId,
    type: j.type,
    state: j.state,
    queue: j.queue,
    mode: j.mode,
    priority: j.priority,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    progress: { percent: j.progress, message: j.progressMessage },
    payload: j.payload,
    result: j.result,
    error: j.error,
    idempotencyKey: j.idempotencyKey,
    parentId: j.parentId,
    childIndex: j.childIndex,
    fanOutTotal: j.fanOutTotal,
    requestId: j.requestId,
    runAt: j.runAt.toISOString(),
    createTime: j.createTime.toISOString(),
    updateTime: j.updateTime.toISOString(),
    startTime: j.startTime?.toISOString() ?? null,
    finishTime: j.finishTime?.toISOString() ?? null,
  };
}

function consoleEvent(e: JobEvent): Record<string, unknown> {
  return {
    id: e.id,
    fromState: e.fromState,
    toState: e.toState,
    attempt: e.attempt,
    reason: e.reason,
    details: e.details,
    createTime: e.createTime.toISOString(),
  };
}

function detailJson(d: JobDetail): Record<string, unknown> {
  return { job: consoleJob(d.job), children: d.children, hasView: d.hasView };
}

function scopeOf(request: FastifyRequest): ConsoleScope {
  return request.consoleAdmin ? { kind: 'admin' } : { kind: 'client', clientId: request.clientId };
}

/** Query parameters as single strings (a repeated one is a 400). */
function query(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.query as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalidRequest(`query parameter '${k}' must appear once`);
    out[k] = v;
  }
  return out;
}

const LIST_PARAMS = new Set([
  'state',
  'type',
  'queue',
  'parent',
  'client',
  'from',
  'to',
  'q',
  'pageSize',
  'pageToken',
]);

const doc = (summary: string, description?: string) => ({
  schema: {
    summary,
    ...(description ? { description } : {}),
    tags: ['console'],
    security: [{ bearerAuth: [] }],
  },
  config: { auth: 'console' as const },
});

const idParam = (request: FastifyRequest) => (request.params as { id: string }).id;

/**
 * The console's JSON API under `/console/api`: the same data as `/v1`, shaped for the UI, with the
 * filters, roll-ups and operator actions the console needs. Auth policy `console`: a client key
 * sees its own jobs, the admin key every client's.
 */
export function consoleRoutes(opts: ConsoleRoutesOptions): FastifyPluginAsync {
  const pollMs = opts.pollMs ?? 500;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxStreamMs = opts.maxStreamMs ?? 3_600_000;
  const slots = opts.slots ?? new StreamSlots();
  const c = opts.console;
  return async (app) => {
    app.get('/session', doc('Who is signed in, and the catalog the console shows'), async (request) => {
      const scope = scopeOf(request);
      return {
        scope: scope.kind,
        clientId: scope.kind === 'client' ? scope.clientId : null,
        jobTypes: opts.jobTypes,
        alertsConfigured: opts.alerts.firing !== null,
        grafana: opts.alerts.grafana,
      };
    });

    app.get(
      '/jobs',
      doc(
        'List jobs (newest first, keyset pages)',
        'Filters: state, type, queue, parent (job id), client (admin key only), from/to (RFC 3339 create time), ' +
          'q (job id or idempotency key); pageSize (1–200), pageToken.',
      ),
      async (request) => {
        const q = query(request);
        for (const k of Object.keys(q))
          if (!LIST_PARAMS.has(k))
            throw invalidRequest(`unknown query parameter '${k}' (known: ${[...LIST_PARAMS].join(', ')})`);
        const page = await c.listJobs(scopeOf(request), q, q.pageSize, q.pageToken);
        return { jobs: page.items.map(consoleJob), nextPageToken: page.nextCursor };
      },
    );

    app.get('/jobs/:id', doc('A job with its rolled-up fan-out children'), async (request) =>
      detailJson(await c.detail(scopeOf(request), idParam(request))),
    );

    app.get('/jobs/:id/events', doc("A job's event timeline (oldest first)"), async (request) => {
      const page = await c.events(scopeOf(request), idParam(request), query(request).pageToken);
      return { events: page.items.map(consoleEvent), nextPageToken: page.nextCursor };
    });

    app.get('/jobs/:id/children', doc("A fan-out parent's children by index"), async (request) => {
      const page = await c.children(scopeOf(request), idParam(request), query(request).pageToken);
      return { jobs: page.items.map(consoleJob), nextPageToken: page.nextCursor };
    });

    app.get(
      '/jobs/:id/view',
      doc(
        'The result view of a succeeded job whose type declares one (panels: heatmap, lines, table, stats)',
      ),
      async (request) => c.view(scopeOf(request), idParam(request)),
    );

    app.post('/jobs/:id/cancel', doc('Cancel a queued or running job'), async (request) => ({
      job: consoleJob(await c.cancel(scopeOf(request), idParam(request))),
    }));

    app.post(
      '/jobs/:id/retry',
      doc('Retry a failed, dead-lettered or cancelled job'),
      async (request, reply) =>
        reply.status(202).send({ job: consoleJob(await c.retry(scopeOf(request), idParam(request))) }),
    );

    app.post(
      '/dead-letters/redrive',
      doc(
        'Retry dead-lettered jobs in bulk',
        'Body: {"ids": [job ids, 1–200]}. Jobs not dead-lettered are refused one by one.',
      ),
      async (request) => {
        const body = request.body as { ids?: unknown } | null;
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          throw invalidRequest(`the body must be a JSON object {"ids": [...]}`);
        const extra = Object.keys(body).filter((k) => k !== 'ids');
        if (extra.length > 0) throw invalidRequest(`unknown field '${extra[0]}' (known: ids)`);
        return c.redrive(scopeOf(request), Array.isArray(body.ids) ? body.ids : []);
      },
    );

    app.get(
      '/queues',
      doc('Queues: depth by state, oldest waiting, last hour outcomes'),
      async (request) => ({
        queues: await c.queues(scopeOf(request)),
      }),
    );

    app.get('/alerts', doc('Firing alerts from Prometheus, and the Grafana dashboards'), async () => {
      if (!opts.alerts.firing) return { configured: false, alerts: [], grafana: opts.alerts.grafana };
      return { configured: true, alerts: await opts.alerts.firing(), grafana: opts.alerts.grafana };
    });

    // Live job detail over SSE (fetch-based clients: EventSource cannot send Authorization).
    app.addHook('preClose', async () => slots.endAll());
    app.get(
      '/jobs/:id/stream',
      doc(
        'Live job detail (Server-Sent Events)',
        '`job` events (data: the job detail) on every change of state, attempt, progress or children; `end` when terminal.',
      ),
      async (request: FastifyRequest, reply: FastifyReply) => {
        const scope = scopeOf(request);
        const id = idParam(request);
        return serveJobStream(request, reply, slots, {
          // One cap per client with its /v1 streams; the admin key counts as one client.
          client: scope.kind === 'admin' ? '\u0000admin' : scope.clientId,
          read: () => c.detail(scope, id), // the first read's 404 comes before the stream
          fingerprint: ({ job: j, children: ch }) =>
            `${j.state}|${j.attempts}|${j.progress}|${j.progressMessage ?? ''}|${j.updateTime.getTime()}|${ch ? `${ch.total}:${ch.percent}:${JSON.stringify(ch.byState)}` : ''}`,
          data: detailJson,
          ended: ({ job }) => (isTerminal(job.state) ? { state: job.state } : null),
          readFailed: (err) =>
            err instanceof DomainError
              ? problem(404, 'JOB.NOT_FOUND', err.message, { instance: request.url })
              : problem(503, 'SERVICE.UNAVAILABLE', 'the job could not be read; reconnect to resume', {
                  instance: request.url,
                }),
          pollMs,
          heartbeatMs,
          maxStreamMs,
          what: 'console stream read failed',
        });
      },
    );
  };
}
