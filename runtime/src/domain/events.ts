import { randomBytes } from 'node:crypto';

/**
 * Lifecycle events (docs/events.md): CloudEvents 1.0 JSON built by the `job_events_emit` trigger,
 * published to NATS JetStream and delivered to webhook subscriptions.
 */

/** Short event types; the CloudEvents `type` is `dev.jobplane.<short type>`. */
export const EVENT_TYPES = [
  'job.created',
  'job.started',
  'job.failed',
  'job.retry_scheduled',
  'job.requeued',
  'job.succeeded',
  'job.dead_lettered',
  'job.cancelled',
  'subscription.disabled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const CLOUDEVENT_TYPE_PREFIX = 'dev.jobplane.';

/** Standard Webhooks secret prefix; the rest is base64 of the HMAC key. */
export const SECRET_PREFIX = 'whsec_';
/** Outgoing webhook secrets are at least this many bytes (the decoded key of a `whsec_` secret). */
export const MIN_SUBSCRIPTION_SECRET_BYTES = 32;
/** Subscriptions one client may hold. */
export const MAX_SUBSCRIPTIONS_PER_CLIENT = 100;

export interface Subscription {
  readonly id: string;
  readonly clientId: string;
  readonly url: string;
  readonly eventTypes: string[];
  readonly description: string;
  readonly enabled: boolean;
  readonly disabledReason: string | null;
  readonly disabledTime: Date | null;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export interface NewSubscription {
  readonly clientId: string;
  readonly url: string;
  readonly eventTypes: string[];
  readonly secret: string;
  readonly description: string;
}

export interface OutboxEvent {
  readonly id: string;
  readonly eventId: string;
  /** Subject suffix: `succeeded`, `subscription.disabled` … */
  readonly topic: string;
  readonly event: Record<string, unknown>;
}

export interface ClaimedDelivery {
  readonly id: string;
  readonly subscriptionId: string;
  readonly clientId: string;
  readonly url: string;
  readonly secret: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly event: Record<string, unknown>;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The first attempt's time: the retry window starts here. */
  readonly firstAttemptTime: Date;
}

export interface DeliveryAttemptRecord {
  readonly ok: boolean;
  readonly responseCode: number | null;
  readonly durationMs: number;
  readonly error: string | null;
}

export interface DeliveryLogEntry extends Omit<DeliveryAttemptRecord, 'ok'> {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly attempt: number;
  readonly outcome: 'succeeded' | 'failed';
  readonly time: Date;
}

/**
 * Checks a client-supplied secret: `whsec_<base64>` decoding to ≥ 32 bytes, or any other string
 * of ≥ 32 bytes (UTF-8), which is then wrapped as `whsec_<base64 of its bytes>`. Returns the
 * stored form or an error message naming the rule.
 */
export function normalizeSecret(secret: string): { secret: string } | { error: string } {
  let key: Buffer;
  if (secret.startsWith(SECRET_PREFIX)) {
    const b64 = secret.slice(SECRET_PREFIX.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
      return { error: `'secret' must be '${SECRET_PREFIX}' followed by base64` };
    }
    key = Buffer.from(b64, 'base64');
  } else {
    key = Buffer.from(secret, 'utf8');
  }
  if (key.length < MIN_SUBSCRIPTION_SECRET_BYTES) {
    return {
      error: `'secret' must be at least ${MIN_SUBSCRIPTION_SECRET_BYTES} bytes (got ${key.length})`,
    };
  }
  return { secret: `${SECRET_PREFIX}${key.toString('base64')}` };
}

/** A new random 32-byte secret in the Standard Webhooks form. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(MIN_SUBSCRIPTION_SECRET_BYTES).toString('base64')}`;
}

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxDelayMs: number;
  readonly giveUpSeconds: number;
}

/**
 * When to try a failed delivery again, or null to give up: equal jitter over
 * min(max, base · 2^(attempt-1)) (half fixed, half random), and null once the next try would fall
 * past `giveUpSeconds` after the first attempt. `random` is in [0, 1).
 */
export function nextDeliveryAttempt(
  policy: BackoffPolicy,
  attempt: number,
  firstAttemptTime: Date,
  now: Date,
  random: number,
): Date | null {
  const cap = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(attempt - 1, 40));
  const delay = cap / 2 + random * (cap / 2);
  const at = new Date(now.getTime() + delay);
  if (at.getTime() - firstAttemptTime.getTime() > policy.giveUpSeconds * 1000) return null;
  return at;
}
