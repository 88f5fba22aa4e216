import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { JobService, JobState } from '@jobplane/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listenDualProtocol,
  type DualProtocolListener,
} from '../../src/adapters/http/edge/dual-protocol-listener.js';
import {
  API_KEY,
  createEdgeEnv,
  destroyEdgeEnv,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

describe('JobService over gRPC (HTTP/2 cleartext) on the API listener', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let listener: DualProtocolListener;
  beforeAll(async () => {
    env = await createEdgeEnv();
    api = await startEdgeApi(env);
    listener = await listenDualProtocol(api.app, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await listener?.close();
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  it('a generated gRPC client submits and reads a job; errors carry the stable code in trailers', async () => {
    const client = createClient(JobService, createGrpcTransport({ baseUrl: listener.url }));
    const headers = { authorization: `Bearer ${API_KEY}` };
    const sub = await client.submitJob(
      { type: 'demo.sleep', payload: { durationMs: 1 } },
      { headers: { ...headers, 'idempotency-key': 'grpc-1' } },
    );
    expect(sub.job?.state).toBe(JobState.QUEUED);
    const got = await client.getJob({ id: sub.job!.id }, { headers });
    expect(got.job?.id).toBe(sub.job!.id);
    const err = await client.getJob({ id: sub.job!.id }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).metadata.get('jobplane-error-code')).toBe('AUTH.UNAUTHENTICATED');
  });

  it('still serves HTTP/1.1 (JSON API and Connect) on the same port', async () => {
    const r = await fetch(`${listener.url}/healthz`);
    expect(r.status).toBe(200);
    const client = createClient(
      JobService,
      createConnectTransport({ baseUrl: listener.url, httpVersion: '1.1' }),
    );
    const list = await client.listJobs({}, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(list.jobs.length).toBeGreaterThan(0);
    const h2 = createClient(JobService, createConnectTransport({ baseUrl: listener.url, httpVersion: '2' }));
    expect(
      (await h2.listJobs({}, { headers: { authorization: `Bearer ${API_KEY}` } })).jobs.length,
    ).toBeGreaterThan(0);
  });
  it('answers requests the HTTP parser refuses like Fastify would (the app’s clientErrorHandler)', async () => {
    const { connect } = await import('node:net');
    const res = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(new URL(listener.url).port), '127.0.0.1');
      let out = '';
      sock.on('data', (d) => (out += d.toString()));
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
      sock.write(
        Buffer.concat([
          Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a'),
          Buffer.from([0]),
          Buffer.from('b\r\n\r\n'),
        ]),
      );
    });
    expect(res).toMatch(/^HTTP\/1\.1 400/);
    expect(res).toMatch(/content-type: application\/problem\+json/i);
  });
});

describe('dual-protocol listener hygiene', () => {
  it('drops a connection that never sends a byte, and keeps serving others', async () => {
    const Fastify = (await import('fastify')).default;
    const { connect } = await import('node:net');
    const app = Fastify();
    app.get('/x', async () => ({ ok: true }));
    const l = await listenDualProtocol(app, 0, '127.0.0.1', { firstByteTimeoutMs: 200 });
    try {
      const sock = connect(Number(new URL(l.url).port), '127.0.0.1');
      const closed = new Promise<number>((r) => sock.once('close', () => r(Date.now())));
      await new Promise((r) => sock.once('connect', r));
      const opened = Date.now();
      expect((await fetch(`${l.url}/x`)).status).toBe(200);
      expect((await closed) - opened).toBeGreaterThanOrEqual(150);
    } finally {
      await l.close(100);
      await app.close();
    }
  });
});
