import { createHash } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH } from '../domain/job.entity.js';
import {
  verifyGithubWebhook,
  verifyStandardWebhook,
  type WebhookHeaders,
  type WebhookScheme,
  type WebhookVerification,
} from '../domain/webhook-signature.js';
import type { Clock } from '../ports/clock.port.js';
import type { SubmitJob, SubmitJobResult } from './submit-job.use-case.js';

/** One configured webhook source (`JOBPLANE_WEBHOOKS`). */
export interface WebhookSource {
  readonly scheme: WebhookScheme;
  readonly secret: string;
  readonly jobType: string;
}

export interface HandleWebhookCommand {
  readonly source: string;
  readonly headers: WebhookHeaders;
  /** The body exactly as received: signatures cover these bytes, not a re-serialisation. */
  readonly rawBody: Buffer;
  readonly requestId: string | null;
}

export interface HandleWebhookDeps {
  readonly sources: Readonly<Record<string, WebhookSource>>;
  readonly submitJob: SubmitJob;
  readonly clock: Clock;
}

export type HandleWebhook = (cmd: HandleWebhookCommand) => Promise<SubmitJobResult>;

/** Jobs created from webhooks belong to this client id, one per source. */
export const webhookClientId = (source: string): string => `webhook:${source}`;

/**
 * Idempotency key of a delivery: `webhook:<source>:<delivery id>`, hashed when it would exceed
 * the key limit. A redelivery of the same id (senders retry until they see a 2xx) finds the job
 * created the first time instead of creating a second one.
 */
export function webhookIdempotencyKey(source: string, deliveryId: string): string {
  const key = `webhook:${source}:${deliveryId}`;
  if (key.length <= IDEMPOTENCY_KEY_MAX_LENGTH) return key;
  return `webhook:${source}:sha256:${createHash('sha256').update(deliveryId).digest('hex')}`;
}

const REJECTION_CODES = {
  HEADERS_INVALID: 'WEBHOOK.HEADERS_INVALID',
  TIMESTAMP_OUT_OF_RANGE: 'WEBHOOK.TIMESTAMP_OUT_OF_RANGE',
  SIGNATURE_INVALID: 'WEBHOOK.SIGNATURE_INVALID',
} as const;

/**
 * Verifies a delivery for its source, then submits a job of the source's type with the JSON body
 * as payload. Nothing is parsed before the signature checks out.
 */
export function createHandleWebhook(deps: HandleWebhookDeps): HandleWebhook {
  return async (cmd) => {
    const source = Object.hasOwn(deps.sources, cmd.source) ? deps.sources[cmd.source] : undefined;
    if (!source)
      throw new DomainError(
        'WEBHOOK.SOURCE_NOT_FOUND',
        `webhook source '${cmd.source.slice(0, 64)}' is not configured`,
      );
    const verification: WebhookVerification =
      source.scheme === 'standard'
        ? verifyStandardWebhook({
            secret: source.secret,
            headers: cmd.headers,
            rawBody: cmd.rawBody,
            now: deps.clock.now(),
          })
        : verifyGithubWebhook({ secret: source.secret, headers: cmd.headers, rawBody: cmd.rawBody });
    if (!verification.ok) throw new DomainError(REJECTION_CODES[verification.reason], verification.message);
    let payload: unknown;
    try {
      payload = JSON.parse(cmd.rawBody.toString('utf8'));
    } catch {
      throw new DomainError('REQUEST.INVALID', 'webhook body must be JSON');
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new DomainError(
        'REQUEST.INVALID',
        'webhook body must be a JSON object (it becomes the job payload)',
      );
    }
    return deps.submitJob({
      clientId: webhookClientId(cmd.source),
      idempotencyKey: webhookIdempotencyKey(cmd.source, verification.deliveryId),
      requestId: cmd.requestId,
      type: source.jobType,
      payload: payload as Record<string, unknown>,
      priority: 0,
      runAt: null,
      maxAttempts: 0,
    });
  };
}
