import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import {
  CreateSubscriptionResponseSchema,
  DeliveryOutcome,
  GetSubscriptionResponseSchema,
  ListDeliveriesResponseSchema,
  ListSubscriptionsResponseSchema,
} from '@jobplane/proto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from '../../src/domain/webhook-signature.js';
import { buildApiApp } from '../../src/main/api.js';
import type { Core } from '../../src/main/context.js';
import { startEventsLoop, type EventsLoop } from '../../src/main/events-loop.js';
import { pollUntil } from '../support/wait.js';
import { API_KEY_A, API_KEY_B, isolate, type Isolated } from './helpers.js';

let iso: Isolated;
let strict: FastifyInstance;
let open: FastifyInstance;
let core: Core;
let loop: EventsLoop | null = null;
let receiver: http.Server;
let receiverPort = 0;
const received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body?: unknown,
  key = API_KEY_A,
) {
  return app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

function expectProblem(res: LightMyRequestResponse, status: number, code: string, detail?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code });
  if (detail) expect(body.detail).toContain(detail);
}

beforeAll(async () => {
  iso = await isolate('subscriptions');
  // The production app without an allow-list (every SSRF rule applies) …
  strict = await buildApiApp(iso.core('api'));
  // … and one that allows the loopback receiver of this test.
  core = iso.core('api', {}, { WEBHOOK_DELIVERY_ALLOWED_CIDRS: '127.0.0.1/32', RELAY_POLL_MS: '100' });
  open = await buildApiApp(core);
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end('ok');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverPort = (receiver.address() as AddressInfo).port;
});

afterAll(async () => {
  await loop?.stop();
  await strict?.close();
  await open?.close();
  await new Promise<void>((r) => receiver.close(() => r()));
  await iso?.cleanup();
});

describe('POST /v1/subscriptions: bad input', () => {
  it.each([
    ['ftp://example.com/hook', 'must be an http or https URL'],
    ['file:///etc/passwd', 'must be an http or https URL'],
    ['not a url', 'is not a URL'],
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://localhost/hook', "host 'localhost' resolves to"],
    ['http://169.254.169.254/latest/meta-data', 'linkLocal'],
    ['http://10.1.2.3/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://100.64.0.1/', 'carrierGradeNat'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://[::1]/', 'loopback'],
    ['http://[fc00::1]/', 'uniqueLocal'],
    ['http://[fd12:3456::1]/', 'uniqueLocal'],
    ['http://[fe80::1]/', 'linkLocal'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:169.254.169.254]/', 'linkLocal'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://user:pw@127.0.0.1/', 'credentials'],
  ])('%s → 400 SUBSCRIPTION.URL_REFUSED naming the field', async (url, why) => {
    const res = await call(strict, 'POST', '/v1/subscriptions', { url, secret: SECRET });
    expectProblem(res, 400, 'SUBSCRIPTION.URL_REFUSED', "'url'");
    expect(res.json<{ detail: string }>().detail).toContain(why);
  });

  it('a host that does not resolve → 400', async () => {
    const res = await call(strict, 'POST', '/v1/subscriptions', {
      url: 'http://no-such-host.invalid/',
      secret: SECRET,
    });
    expectProblem(res, 400, 'SUBSCRIPTION.URL_REFUSED', 'does not resolve');
  });

  it('a secret shorter than 32 bytes → 400 naming secret', async () => {
    for (const secret of [
      'short',
      'x'.repeat(31),
      `whsec_${Buffer.alloc(31).toString('base64')}`,
      'whsec_!!notbase64',
    ]) {
      const res = await call(open, 'POST', '/v1/subscriptions', {
        url: `http://127.0.0.1:${receiverPort}/`,
        secret,
      });
      expectProblem(res, 400, 'REQUEST.INVALID', "'secret'");
    }
  });

  it('unknown event types, wrong field types and non-object bodies → 400', async () => {
    expectProblem(
      await call(open, 'POST', '/v1/subscriptions', {
        url: `http://127.0.0.1:${receiverPort}/`,
        eventTypes: ['job.exploded'],
      }),
      400,
      'REQUEST.INVALID',
      'job.exploded',
    );
    expectProblem(await call(open, 'POST', '/v1/subscriptions', { url: 42 }), 400, 'REQUEST.INVALID');
    expectProblem(await call(open, 'POST', '/v1/subscriptions', [1]), 400, 'REQUEST.INVALID');
    expectProblem(
      await call(open, 'POST', '/v1/subscriptions', { url: 'http://x/', bogus: 1 }),
      400,
      'REQUEST.INVALID',
    );
  });

  it('unknown ids, other clients and bad page tokens', async () => {
    expectProblem(await call(open, 'GET', '/v1/subscriptions/nope'), 404, 'SUBSCRIPTION.NOT_FOUND');
    expectProblem(
      await call(open, 'GET', '/v1/subscriptions/00000000-0000-4000-8000-000000000000'),
      404,
      'SUBSCRIPTION.NOT_FOUND',
    );
    const made = await call(open, 'POST', '/v1/subscriptions', { url: `http://127.0.0.1:${receiverPort}/x` });
    const id = fromJson(CreateSubscriptionResponseSchema, made.json<JsonValue>()).subscription!.id;
    expectProblem(
      await call(open, 'GET', `/v1/subscriptions/${id}`, undefined, API_KEY_B),
      404,
      'SUBSCRIPTION.NOT_FOUND',
    );
    expectProblem(
      await call(open, 'DELETE', `/v1/subscriptions/${id}`, undefined, API_KEY_B),
      404,
      'SUBSCRIPTION.NOT_FOUND',
    );
    expectProblem(
      await call(open, 'GET', `/v1/subscriptions/${id}/deliveries?pageToken=99999999999999999999`),
      400,
      'REQUEST.INVALID',
    );
    expectProblem(
      await call(open, 'GET', `/v1/subscriptions/${id}/deliveries?pageSize=1000`),
      400,
      'REQUEST.INVALID',
    );
    expectProblem(await call(open, 'POST', `/v1/subscriptions/${id}:explode`, {}), 404, 'ROUTE.NOT_FOUND');
    expect((await call(open, 'DELETE', `/v1/subscriptions/${id}`)).statusCode).toBe(200);
    expectProblem(await call(open, 'GET', `/v1/subscriptions/${id}`), 404, 'SUBSCRIPTION.NOT_FOUND');
  });
});

describe('subscriptions end to end', () => {
  it('creates, lists, delivers signed CloudEvents and logs each attempt', async () => {
    const res = await call(open, 'POST', '/v1/subscriptions', {
      url: `http://127.0.0.1:${receiverPort}/hook`,
      eventTypes: ['job.created'],
      description: 'e2e',
    });
    expect(res.statusCode, res.body).toBe(201);
    const made = fromJson(CreateSubscriptionResponseSchema, res.json<JsonValue>());
    const sub = made.subscription!;
    expect(res.headers.location).toBe(`/v1/subscriptions/${sub.id}`);
    expect(made.secret).toMatch(/^whsec_/);
    expect(Buffer.from(made.secret.slice(6), 'base64').length).toBe(32);
    expect(sub).toMatchObject({ enabled: true, eventTypes: ['job.created'], description: 'e2e' });
    // The secret is shown once: reads do not carry it.
    expect(JSON.stringify((await call(open, 'GET', `/v1/subscriptions/${sub.id}`)).json())).not.toContain(
      made.secret,
    );
    const list = fromJson(
      ListSubscriptionsResponseSchema,
      (await call(open, 'GET', '/v1/subscriptions')).json<JsonValue>(),
    );
    expect(list.subscriptions.map((s) => s.id)).toContain(sub.id);
    expect(
      fromJson(
        ListSubscriptionsResponseSchema,
        (await call(open, 'GET', '/v1/subscriptions', undefined, API_KEY_B)).json<JsonValue>(),
      ).subscriptions,
    ).toEqual([]);

    loop = await startEventsLoop(core);
    const job = await open.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: {
        authorization: `Bearer ${API_KEY_A}`,
        'content-type': 'application/json',
        'idempotency-key': 'sub-e2e',
      },
      payload: JSON.stringify({ type: 'demo.sleep', payload: { durationMs: 1 } }),
    });
    expect(job.statusCode, job.body).toBe(202);
    const jobId = job.json<{ job: { id: string } }>().job.id;
    const got = await pollUntil(async () => received.find((r) => r.body.toString().includes(jobId)), 15_000);
    const v = verifyStandardWebhook({
      secret: made.secret,
      headers: got.headers,
      rawBody: got.body,
      now: new Date(),
    });
    expect(v.ok).toBe(true);
    expect(got.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    const ev = JSON.parse(got.body.toString()) as Record<string, unknown>;
    expect(ev).toMatchObject({
      specversion: '1.0',
      type: 'dev.jobplane.job.created',
      subject: jobId,
      datacontenttype: 'application/json',
      source: `/jobplane/${iso.schema}`,
      data: {
        jobId,
        type: 'demo.sleep',
        clientId: 'alice',
        state: 'queued',
        attempt: 0,
        reason: 'submitted',
      },
    });
    expect(got.headers['webhook-id']).toBe(ev.id);

    const log = await pollUntil(async () => {
      const page = fromJson(
        ListDeliveriesResponseSchema,
        (await call(open, 'GET', `/v1/subscriptions/${sub.id}/deliveries?pageSize=1`)).json<JsonValue>(),
      );
      return page.deliveries.length > 0 ? page : null;
    }, 10_000);
    expect(log.deliveries[0]).toMatchObject({
      eventId: ev.id,
      eventType: 'job.created',
      attempt: 1,
      outcome: DeliveryOutcome.SUCCEEDED,
      responseCode: 200,
    });
    expect(log.nextPageToken).toBe('');

    // :enable on an enabled subscription is a no-op that answers the subscription.
    const enabled = await call(open, 'POST', `/v1/subscriptions/${sub.id}:enable`, {});
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(
      fromJson(
        GetSubscriptionResponseSchema,
        (await call(open, 'GET', `/v1/subscriptions/${sub.id}`)).json<JsonValue>(),
      ).subscription?.enabled,
    ).toBe(true);
  });
});
