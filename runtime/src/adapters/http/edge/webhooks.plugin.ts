import type {} from '@fastify/swagger';
import { create, toJson } from '@bufbuild/protobuf';
import { SubmitJobResponseSchema } from '@jobplane/proto';
import type { FastifyPluginAsync } from 'fastify';
import type { HandleWebhook } from '../../../application/handle-webhook.use-case.js';
import { jobToProto } from '../proto-mapping.js';

export interface WebhookPluginOptions {
  readonly handle: HandleWebhook;
  /** Configured source names (documentation only: unknown sources answer 404 WEBHOOK.SOURCE_NOT_FOUND). */
  readonly sources: readonly string[];
}

/**
 * `POST /v1/webhooks/{source}`: a verified delivery becomes a job. Signatures cover the exact
 * bytes received, so this scope replaces Fastify's JSON parser with one that keeps the raw body
 * (`parseAs: 'buffer'`); the use case parses JSON only after the signature checks out.
 * Authentication is the signature, not an API key. Answers 202 with the new job, 200 with the
 * same job when the delivery id was seen before (senders retry until they get a 2xx).
 */
export function webhookPlugin(opts: WebhookPluginOptions): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.post(
      '/v1/webhooks/:source',
      {
        schema: {
          summary: 'Receive a signed webhook delivery and submit a job',
          description: `Configured sources: ${opts.sources.join(', ') || '(none)'}. Standard Webhooks or GitHub signatures.`,
          tags: ['webhooks'],
          params: {
            type: 'object',
            properties: { source: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } },
            required: ['source'],
          },
        },
      },
      async (request, reply) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await opts.handle({
          source: (request.params as { source: string }).source,
          headers: request.headers,
          rawBody: raw,
          requestId: request.id,
        });
        reply.header('location', `/v1/jobs/${result.job.id}`);
        return reply
          .status(result.created ? 202 : 200)
          .type('application/json')
          .send(
            toJson(SubmitJobResponseSchema, create(SubmitJobResponseSchema, { job: jobToProto(result.job) })),
          );
      },
    );
  };
}
