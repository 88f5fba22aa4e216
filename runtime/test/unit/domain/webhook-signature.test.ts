import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeStandardSecret,
  signGithubWebhook,
  signStandardWebhook,
  verifyGithubWebhook,
  verifyStandardWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
} from '../../../src/domain/webhook-signature.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;
const body = Buffer.from('{"event":"push","n":1}');
const now = new Date('2026-01-01T12:00:00Z');
const nowS = Math.floor(now.getTime() / 1000);

function headers(
  over: Record<string, string | undefined> = {},
  ts = nowS,
  id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signStandardWebhook(secret, id, ts, body),
    ...over,
  };
}

describe('verifyStandardWebhook', () => {
  it('accepts a valid delivery and returns its id', () => {
    expect(verifyStandardWebhook({ secret, headers: headers(), rawBody: body, now })).toEqual({
      ok: true,
      deliveryId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    });
  });

  it('matches the spec: HMAC-SHA256 over id.timestamp.body keyed by the decoded secret', () => {
    const key = decodeStandardSecret(secret);
    const mac = createHmac('sha256', key).update(`abc.${nowS}.${body.toString()}`).digest('base64');
    const r = verifyStandardWebhook({
      secret,
      headers: { 'webhook-id': 'abc', 'webhook-timestamp': String(nowS), 'webhook-signature': `v1,${mac}` },
      rawBody: body,
      now,
    });
    expect(r.ok).toBe(true);
  });

  it('accepts timestamps at the tolerance edge both ways', () => {
    for (const ts of [nowS - WEBHOOK_TOLERANCE_SECONDS, nowS + WEBHOOK_TOLERANCE_SECONDS]) {
      expect(verifyStandardWebhook({ secret, headers: headers({}, ts), rawBody: body, now }).ok).toBe(true);
    }
  });

  it('refuses an expired delivery', () => {
    const r = verifyStandardWebhook({
      secret,
      headers: headers({}, nowS - WEBHOOK_TOLERANCE_SECONDS - 1),
      rawBody: body,
      now,
    });
    expect(r).toMatchObject({ ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' });
  });

  it('refuses a future-dated delivery', () => {
    const r = verifyStandardWebhook({
      secret,
      headers: headers({}, nowS + WEBHOOK_TOLERANCE_SECONDS + 1),
      rawBody: body,
      now,
    });
    expect(r).toMatchObject({ ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(r.ok === false && r.message).toMatch(/future/);
  });

  it('refuses a tampered body', () => {
    const r = verifyStandardWebhook({
      secret,
      headers: headers(),
      rawBody: Buffer.from('{"event":"push","n":2}'),
      now,
    });
    expect(r).toMatchObject({ ok: false, reason: 'SIGNATURE_INVALID' });
  });

  it('refuses a tampered id or timestamp (they are signed too)', () => {
    const h = headers();
    expect(
      verifyStandardWebhook({ secret, headers: { ...h, 'webhook-id': 'msg_other' }, rawBody: body, now }),
    ).toMatchObject({
      reason: 'SIGNATURE_INVALID',
    });
    expect(
      verifyStandardWebhook({
        secret,
        headers: { ...h, 'webhook-timestamp': String(nowS + 1) },
        rawBody: body,
        now,
      }),
    ).toMatchObject({ reason: 'SIGNATURE_INVALID' });
  });

  it('refuses a delivery signed with another secret', () => {
    const id = 'msg_1';
    const h = {
      'webhook-id': id,
      'webhook-timestamp': String(nowS),
      'webhook-signature': signStandardWebhook(otherSecret, id, nowS, body),
    };
    expect(verifyStandardWebhook({ secret, headers: h, rawBody: body, now })).toMatchObject({
      ok: false,
      reason: 'SIGNATURE_INVALID',
    });
  });

  it('accepts several signatures during rotation when the second one is valid', () => {
    const id = 'msg_rot';
    const old = signStandardWebhook(otherSecret, id, nowS, body);
    const current = signStandardWebhook(secret, id, nowS, body);
    const h = {
      'webhook-id': id,
      'webhook-timestamp': String(nowS),
      'webhook-signature': `${old} ${current}`,
    };
    expect(verifyStandardWebhook({ secret, headers: h, rawBody: body, now })).toEqual({
      ok: true,
      deliveryId: id,
    });
    // and ignores other signature versions
    const h2 = { ...h, 'webhook-signature': `v1a,${Buffer.from('x').toString('base64')} ${current}` };
    expect(verifyStandardWebhook({ secret, headers: h2, rawBody: body, now }).ok).toBe(true);
  });

  it('refuses when none of several signatures is valid', () => {
    const id = 'msg_rot';
    const sigs = `${signStandardWebhook(otherSecret, id, nowS, body)} v1,${randomBytes(32).toString('base64')}`;
    const h = { 'webhook-id': id, 'webhook-timestamp': String(nowS), 'webhook-signature': sigs };
    expect(verifyStandardWebhook({ secret, headers: h, rawBody: body, now })).toMatchObject({
      reason: 'SIGNATURE_INVALID',
    });
  });

  it.each([
    ['missing id', { 'webhook-id': undefined }],
    ['missing timestamp', { 'webhook-timestamp': undefined }],
    ['missing signature', { 'webhook-signature': undefined }],
    ['non-numeric timestamp', { 'webhook-timestamp': '2026-01-01T00:00:00Z' }],
    ['id with spaces', { 'webhook-id': 'a b' }],
    ['signature without version', { 'webhook-signature': 'abcdef' }],
    ['signature not base64', { 'webhook-signature': 'v1,***' }],
    ['only other versions', { 'webhook-signature': 'v2,AAAA' }],
  ])('refuses malformed headers: %s', (_name, over) => {
    const r = verifyStandardWebhook({ secret, headers: headers(over), rawBody: body, now });
    expect(r).toMatchObject({ ok: false, reason: 'HEADERS_INVALID' });
  });

  it('refuses repeated headers', () => {
    const h = { ...headers(), 'webhook-id': ['a', 'b'] };
    expect(verifyStandardWebhook({ secret, headers: h, rawBody: body, now })).toMatchObject({
      reason: 'HEADERS_INVALID',
    });
  });
});

describe('decodeStandardSecret', () => {
  it('decodes whsec_ secrets', () => {
    const raw = randomBytes(24);
    expect(decodeStandardSecret(`whsec_${raw.toString('base64')}`).equals(raw)).toBe(true);
  });
  it.each([
    ['no prefix', randomBytes(24).toString('base64'), /start with 'whsec_'/],
    ['empty', 'whsec_', /base64/],
    ['not base64', 'whsec_!!!!', /base64/],
    ['too short', `whsec_${randomBytes(8).toString('base64')}`, /at least 16 bytes \(got 8\)/],
  ])('refuses %s', (_n, s, msg) => {
    expect(() => decodeStandardSecret(s)).toThrow(msg);
  });
});

describe('verifyGithubWebhook', () => {
  const gh = "It's a Secret to Everybody";
  it('accepts GitHub’s documented example', () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const r = verifyGithubWebhook({
      secret: gh,
      rawBody: Buffer.from('Hello, World!'),
      headers: {
        'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
        'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      },
    });
    expect(r).toEqual({ ok: true, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
  });
  it('refuses a tampered body or a wrong secret', () => {
    const h = { 'x-hub-signature-256': signGithubWebhook(gh, body), 'x-github-delivery': 'd1' };
    expect(verifyGithubWebhook({ secret: gh, headers: h, rawBody: body }).ok).toBe(true);
    expect(verifyGithubWebhook({ secret: gh, headers: h, rawBody: Buffer.from('x') })).toMatchObject({
      reason: 'SIGNATURE_INVALID',
    });
    expect(verifyGithubWebhook({ secret: 'another secret value', headers: h, rawBody: body })).toMatchObject({
      reason: 'SIGNATURE_INVALID',
    });
  });
  it.each([
    ['missing signature', { 'x-github-delivery': 'd1' }],
    ['missing delivery', { 'x-hub-signature-256': signGithubWebhook(gh, body) }],
    ['sha1 form', { 'x-hub-signature-256': 'sha1=abc', 'x-github-delivery': 'd1' }],
    ['short hex', { 'x-hub-signature-256': 'sha256=abcd', 'x-github-delivery': 'd1' }],
  ])('refuses malformed headers: %s', (_n, h) => {
    expect(verifyGithubWebhook({ secret: gh, headers: h, rawBody: body })).toMatchObject({
      reason: 'HEADERS_INVALID',
    });
  });
});
