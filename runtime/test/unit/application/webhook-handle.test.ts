import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createHandleWebhook,
  webhookClientId,
  webhookIdempotencyKey,
  type WebhookSource,
} from '../../../src/application/handle-webhook.use-case.js';
import type { SubmitJob, SubmitJobCommand } from '../../../src/application/submit-job.use-case.js';
import { DomainError } from '../../../src/domain/errors.js';
import type { Job } from '../../../src/domain/job.entity.js';
import { signGithubWebhook, signStandardWebhook } from '../../../src/domain/webhook-signature.js';

const whsec = `whsec_${randomBytes(32).toString('base64')}`;
const ghSecret = 'github-secret-0123456789';
const now = new Date('2026-03-01T10:00:00Z');
const ts = Math.floor(now.getTime() / 1000);
const sources: Record<string, WebhookSource> = {
  billing: { scheme: 'standard', secret: whsec, jobType: 'demo.sleep' },
  repo: { scheme: 'github', secret: ghSecret, jobType: 'demo.sleep' },
};

/** In-memory submit with the same idempotency contract as the real one: (client, key) → one job. */
function fakeSubmit(): { submit: SubmitJob; calls: SubmitJobCommand[]; jobs: Map<string, Job> } {
  const jobs = new Map<string, Job>();
  const calls: SubmitJobCommand[] = [];
  const submit: SubmitJob = async (cmd) => {
    calls.push(cmd);
    const k = `${cmd.clientId}/${cmd.idempotencyKey}`;
    const existing = jobs.get(k);
    if (existing) return { job: existing, created: false };
    const job = {
      id: `job-${jobs.size + 1}`,
      clientId: cmd.clientId,
      type: cmd.type,
      payload: cmd.payload,
    } as unknown as Job;
    jobs.set(k, job);
    return { job, created: true };
  };
  return { submit, calls, jobs };
}

function standardHeaders(id: string, body: string, secret = whsec) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signStandardWebhook(secret, id, ts, body),
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return (err as DomainError).code;
  }
  throw new Error('expected a DomainError');
}

describe('handle-webhook use case', () => {
  const clock = { now: () => now };

  it('submits a job of the source type with the JSON body as payload, per-source client and derived key', async () => {
    const f = fakeSubmit();
    const handle = createHandleWebhook({ sources, submitJob: f.submit, clock });
    const body = '{"seconds":0.1}';
    const r = await handle({
      source: 'billing',
      headers: standardHeaders('msg_1', body),
      rawBody: Buffer.from(body),
      requestId: 'r1',
    });
    expect(r.created).toBe(true);
    expect(f.calls[0]).toMatchObject({
      clientId: 'webhook:billing',
      idempotencyKey: 'webhook:billing:msg_1',
      type: 'demo.sleep',
      payload: { seconds: 0.1 },
      requestId: 'r1',
    });
  });

  it('answers a redelivered webhook-id with the first job, never a second one', async () => {
    const f = fakeSubmit();
    const handle = createHandleWebhook({ sources, submitJob: f.submit, clock });
    const body = '{"seconds":0.1}';
    const a = await handle({
      source: 'billing',
      headers: standardHeaders('msg_2', body),
      rawBody: Buffer.from(body),
      requestId: null,
    });
    const b = await handle({
      source: 'billing',
      headers: standardHeaders('msg_2', body),
      rawBody: Buffer.from(body),
      requestId: null,
    });
    expect(b).toEqual({ job: a.job, created: false });
    expect(f.jobs.size).toBe(1);
  });

  it('verifies GitHub deliveries and dedupes on X-GitHub-Delivery', async () => {
    const f = fakeSubmit();
    const handle = createHandleWebhook({ sources, submitJob: f.submit, clock });
    const body = Buffer.from('{"action":"opened"}');
    const headers = { 'x-hub-signature-256': signGithubWebhook(ghSecret, body), 'x-github-delivery': 'd-1' };
    await handle({ source: 'repo', headers, rawBody: body, requestId: null });
    const again = await handle({ source: 'repo', headers, rawBody: body, requestId: null });
    expect(again.created).toBe(false);
    expect(f.calls[0]).toMatchObject({
      clientId: webhookClientId('repo'),
      idempotencyKey: 'webhook:repo:d-1',
    });
  });

  it('maps rejections to stable codes and submits nothing', async () => {
    const f = fakeSubmit();
    const handle = createHandleWebhook({ sources, submitJob: f.submit, clock });
    const body = '{"a":1}';
    expect(
      await code(handle({ source: 'nope', headers: {}, rawBody: Buffer.from(body), requestId: null })),
    ).toBe('WEBHOOK.SOURCE_NOT_FOUND');
    expect(
      await code(handle({ source: 'constructor', headers: {}, rawBody: Buffer.from(body), requestId: null })),
    ).toBe('WEBHOOK.SOURCE_NOT_FOUND');
    expect(
      await code(handle({ source: 'billing', headers: {}, rawBody: Buffer.from(body), requestId: null })),
    ).toBe('WEBHOOK.HEADERS_INVALID');
    const wrong = standardHeaders('m', body, `whsec_${randomBytes(32).toString('base64')}`);
    expect(
      await code(handle({ source: 'billing', headers: wrong, rawBody: Buffer.from(body), requestId: null })),
    ).toBe('WEBHOOK.SIGNATURE_INVALID');
    const late = createHandleWebhook({
      sources,
      submitJob: f.submit,
      clock: { now: () => new Date(now.getTime() + 301_000) },
    });
    expect(
      await code(
        late({
          source: 'billing',
          headers: standardHeaders('m', body),
          rawBody: Buffer.from(body),
          requestId: null,
        }),
      ),
    ).toBe('WEBHOOK.TIMESTAMP_OUT_OF_RANGE');
    for (const bad of ['not json', '[1,2]', 'null']) {
      expect(
        await code(
          handle({
            source: 'billing',
            headers: standardHeaders('m', bad),
            rawBody: Buffer.from(bad),
            requestId: null,
          }),
        ),
      ).toBe('REQUEST.INVALID');
    }
    expect(f.calls).toHaveLength(0);
  });

  it('hashes delivery ids that would make the key too long', () => {
    const k = webhookIdempotencyKey('s', 'x'.repeat(300));
    expect(k).toMatch(/^webhook:s:sha256:[0-9a-f]{64}$/);
    expect(webhookIdempotencyKey('s', 'x'.repeat(300))).toBe(k);
  });
});
