import type {} from '@fastify/rate-limit';
import type {} from '@fastify/swagger';
import { create, toJson } from '@bufbuild/protobuf';
import { SubmitJobResponseSchema } from '@jobplane/proto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createHandleWebhook, type WebhookSource } from '../../../application/handle-webhook.use-case.js';
import type { SubmitJob } from '../../../application/submit-job.use-case.js';
import { DomainError } from '../../../domain/errors.js';
import type { Clock } from '../../../ports/clock.port.js';
import { jobToProto } from '../proto-mapping.js';

export interface WebhookPluginOptions {
  readonly sources: Readonly<Record<string, WebhookSource>>;
  readonly submitJob: SubmitJob;
  readonly clock: Clock;
  /**
   * Budget per minute of each configured source (verified deliveries), and of each peer address
   * for refused ones (bad signature, unknown source…). Without it nothing is limited.
   */
  readonly perMinute?: number;
}

type Limiter = (
  req: FastifyRequest,
  opts?: { increment?: boolean },
) => Promise<{
  isExceeded: boolean;
  remaining: number;
  ttlInSeconds: number;
}>;

/**
 * `POST /v1/webhooks/{source}`: a verified delivery becomes a job. Signatures cover the exact
 * bytes received, so this scope replaces Fastify's JSON parser with one that keeps the raw body
 * (`parseAs: 'buffer'`); the use case parses JSON only after the signature checks out.
 * Authentication is the signature, not an API key (auth policy `public`). Answers 202 with the new
 * job, 200 with the same job when the delivery id was seen before (senders retry until they get a 2xx).
 *
 * Limits (not the global per-request limiter, which would let unsigned requests spend a source's
 * budget): a verified delivery spends its configured source's budget, keyed by the source's name
 * as configured (the router has already decoded `%62illing` to `billing`); a refused request
 * (unknown source, bad headers, signature or timestamp) spends the peer address's one refusal
 * budget, shared by every source name it makes up, so unknown names create no Redis keys of their own.
 */
export function webhookPlugin(opts: WebhookPluginOptions): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    const perMinute = opts.perMinute;
    const limiters =
      perMinute !== undefined && app.hasDecorator('createRateLimit')
        ? {
            refused: app.createRateLimit({
              max: perMinute,
              timeWindow: 60_000,
              keyGenerator: (req) => `webhook-refused:${req.ip}`,
            }) as unknown as Limiter,
            source: app.createRateLimit({
              max: perMinute,
              timeWindow: 60_000,
              keyGenerator: (req) => `webhook:${(req.params as { source: string }).source}`,
            }) as unknown as Limiter,
          }
        : null;
    const limited = (reply: FastifyReply, retryAfter: number, what: string): DomainError => {
      reply.header('retry-after', String(Math.max(1, retryAfter)));
      return Object.assign(
        new DomainError(
          'RATE_LIMIT.EXCEEDED',
          `more than ${perMinute} ${what} per minute; retry after ${retryAfter} s`,
        ),
        { statusCode: 429 },
      );
    };

    app.post(
      '/v1/webhooks/:source',
      {
        config: { rateLimit: false, auth: 'public' },
        schema: {
          summary: 'Receive a signed webhook delivery and submit a job',
          // Source names are configuration, not shown to anonymous readers of the document.
          description: 'Sources are configured in JOBPLANE_WEBHOOKS. Standard Webhooks or GitHub signatures.',
          tags: ['webhooks'],
          params: {
            type: 'object',
            properties: { source: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } },
            required: ['source'],
          },
        },
      },
      async (request, reply) => {
        if (limiters) {
          const r = await limiters.refused(request, { increment: false });
          if (r.remaining <= 0 && r.ttlInSeconds > 0)
            throw limited(reply, r.ttlInSeconds, 'refused webhook requests from this address');
        }
        let verified = false;
        const handle = createHandleWebhook({
          sources: opts.sources,
          clock: opts.clock,
          // Runs only once the signature (and the body) checked out.
          submitJob: async (cmd) => {
            verified = true;
            if (limiters) {
              const r = await limiters.source(request);
              if (r.isExceeded) throw limited(reply, r.ttlInSeconds, 'deliveries of this source');
            }
            return opts.submitJob(cmd);
          },
        });
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        try {
          const result = await handle({
            source: (request.params as { source: string }).source,
            headers: request.headers,
            rawBody: raw,
            requestId: request.id,
          });
          reply.header('location', `/v1/jobs/${result.job.id}`);
          return await reply
            .status(result.created ? 202 : 200)
            .type('application/json')
            .send(
              toJson(
                SubmitJobResponseSchema,
                create(SubmitJobResponseSchema, { job: jobToProto(result.job) }),
              ),
            );
        } catch (err) {
          if (!verified && limiters) await limiters.refused(request);
          throw err;
        }
      },
    );
  };
}
