import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signature verification, pure (node:crypto only).
 *
 * - Standard Webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds) and
 *   `webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<raw body>")>`; several
 *   space-separated signatures may be sent while a secret is rotated, any valid `v1` one is enough.
 *   The secret is `whsec_<base64>`; the HMAC key is the decoded bytes.
 *   @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`, delivery id in
 *   `X-GitHub-Delivery`. GitHub sends no timestamp, so replays are stopped by the delivery id alone.
 *   @see https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 *
 * Comparisons are constant-time (`crypto.timingSafeEqual` over equal-length digests).
 */

export type WebhookScheme = 'standard' | 'github';
export const WEBHOOK_SCHEMES = ['standard', 'github'] as const satisfies readonly WebhookScheme[];

/** Accepted clock skew between the sender's timestamp and ours, both ways. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** Standard Webhooks secrets start with this prefix; the rest is base64. */
export const STANDARD_SECRET_PREFIX = 'whsec_';

/** HMAC keys shorter than this are refused (the spec recommends 24–64 bytes). */
export const MIN_SECRET_BYTES = 16;

/** Header names are lower-case (Node's `IncomingMessage.headers`). */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export type WebhookRejection =
  /** A required header is missing or not in the expected format. */
  | 'HEADERS_INVALID'
  /** The timestamp is further than the tolerance from now (expired or future-dated). */
  | 'TIMESTAMP_OUT_OF_RANGE'
  /** No signature matches. */
  | 'SIGNATURE_INVALID';

export type WebhookVerification =
  | { readonly ok: true; readonly deliveryId: string }
  | { readonly ok: false; readonly reason: WebhookRejection; readonly message: string };

/** Decodes a `whsec_<base64>` secret into the HMAC key; throws with a message naming the rule. */
export function decodeStandardSecret(secret: string): Buffer {
  if (!secret.startsWith(STANDARD_SECRET_PREFIX)) {
    throw new Error(`a standard webhook secret must start with '${STANDARD_SECRET_PREFIX}'`);
  }
  const b64 = secret.slice(STANDARD_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
    throw new Error(`a standard webhook secret must be '${STANDARD_SECRET_PREFIX}' followed by base64`);
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length < MIN_SECRET_BYTES) {
    throw new Error(
      `a standard webhook secret must decode to at least ${MIN_SECRET_BYTES} bytes (got ${key.length})`,
    );
  }
  return key;
}

/** `v1,<base64>` for one secret: what a sender puts in `webhook-signature` (used by tests and docs). */
export function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: Buffer | string,
): string {
  const mac = createHmac('sha256', decodeStandardSecret(secret))
    .update(`${id}.${timestamp}.`)
    .update(typeof body === 'string' ? Buffer.from(body) : body)
    .digest('base64');
  return `v1,${mac}`;
}

/** `sha256=<hex>`: what GitHub puts in `X-Hub-Signature-256`. */
export function signGithubWebhook(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function single(headers: WebhookHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return v.length === 1 ? v[0] : undefined;
}

function reject(reason: WebhookRejection, message: string): WebhookVerification {
  return { ok: false, reason, message };
}

/** Delivery ids are printable, bounded tokens (they end up in idempotency keys). */
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

function equalDigests(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface StandardVerifyInput {
  /** `whsec_<base64>`. */
  readonly secret: string;
  readonly headers: WebhookHeaders;
  readonly rawBody: Buffer;
  readonly now: Date;
  readonly toleranceSeconds?: number;
}

export function verifyStandardWebhook(input: StandardVerifyInput): WebhookVerification {
  const id = single(input.headers, 'webhook-id');
  const ts = single(input.headers, 'webhook-timestamp');
  const sigHeader = single(input.headers, 'webhook-signature');
  if (id === undefined || ts === undefined || sigHeader === undefined) {
    return reject(
      'HEADERS_INVALID',
      'webhook-id, webhook-timestamp and webhook-signature headers are required',
    );
  }
  if (!DELIVERY_ID.test(id))
    return reject('HEADERS_INVALID', 'webhook-id must be 1 to 200 printable characters');
  if (!/^\d{1,12}$/.test(ts))
    return reject('HEADERS_INVALID', 'webhook-timestamp must be integer Unix seconds');
  const timestamp = Number(ts);
  const tolerance = input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor(input.now.getTime() / 1000);
  if (timestamp < nowSeconds - tolerance) {
    return reject('TIMESTAMP_OUT_OF_RANGE', `webhook-timestamp is more than ${tolerance} seconds old`);
  }
  if (timestamp > nowSeconds + tolerance) {
    return reject(
      'TIMESTAMP_OUT_OF_RANGE',
      `webhook-timestamp is more than ${tolerance} seconds in the future`,
    );
  }
  const candidates: Buffer[] = [];
  for (const entry of sigHeader.split(' ').filter(Boolean)) {
    const comma = entry.indexOf(',');
    if (comma <= 0) return reject('HEADERS_INVALID', 'webhook-signature entries must be <version>,<base64>');
    if (entry.slice(0, comma) !== 'v1') continue; // other versions (e.g. v1a, asymmetric) are not ours
    const b64 = entry.slice(comma + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
      return reject('HEADERS_INVALID', 'webhook-signature v1 value must be base64');
    candidates.push(Buffer.from(b64, 'base64'));
  }
  if (candidates.length === 0) return reject('HEADERS_INVALID', 'webhook-signature carries no v1 signature');
  const expected = createHmac('sha256', decodeStandardSecret(input.secret))
    .update(`${id}.${ts}.`)
    .update(input.rawBody)
    .digest();
  // Check every candidate (no early exit) so timing does not reveal which one matched.
  let matched = false;
  for (const c of candidates) matched = equalDigests(c, expected) || matched;
  return matched ? { ok: true, deliveryId: id } : reject('SIGNATURE_INVALID', 'no webhook-signature matches');
}

export interface GithubVerifyInput {
  readonly secret: string;
  readonly headers: WebhookHeaders;
  readonly rawBody: Buffer;
}

export function verifyGithubWebhook(input: GithubVerifyInput): WebhookVerification {
  const sig = single(input.headers, 'x-hub-signature-256');
  const id = single(input.headers, 'x-github-delivery');
  if (sig === undefined || id === undefined) {
    return reject('HEADERS_INVALID', 'X-Hub-Signature-256 and X-GitHub-Delivery headers are required');
  }
  if (!DELIVERY_ID.test(id))
    return reject('HEADERS_INVALID', 'X-GitHub-Delivery must be 1 to 200 printable characters');
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(sig);
  if (!m?.[1]) return reject('HEADERS_INVALID', 'X-Hub-Signature-256 must be sha256=<64 hex digits>');
  const expected = createHmac('sha256', input.secret).update(input.rawBody).digest();
  return equalDigests(Buffer.from(m[1], 'hex'), expected)
    ? { ok: true, deliveryId: id }
    : reject('SIGNATURE_INVALID', 'X-Hub-Signature-256 does not match');
}
