import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { JobService, JobState } from '@jobplane/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  createEdgeEnv,
  destroyEdgeEnv,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

describe('JobService over Connect and gRPC-Web (generated client, real PostgreSQL)', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let baseUrl: string;
  beforeAll(async () => {
    env = await createEdgeEnv();
    api = await startEdgeApi(env);
    baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  const auth = (extra: Record<string, string> = {}) => ({
    headers: { authorization: `Bearer ${API_KEY}`, ...extra },
  });

  async function rpcError(p: Promise<unknown>): Promise<ConnectError> {
    try {
      await p;
    } catch (err) {
      return ConnectError.from(err);
    }
    throw new Error('expected the call to fail');
  }

  for (const [name, make] of [
    ['connect (JSON)', () => createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: false })],
    [
      'connect (binary)',
      () => createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: true }),
    ],
    ['grpc-web', () => createGrpcWebTransport({ baseUrl, httpVersion: '1.1' })],
  ] as const) {
    describe(name, () => {
      let client: Client<typeof JobService>;
      beforeAll(() => {
        client = createClient(JobService, make());
      });

      it('submits and reads a job; the same Idempotency-Key returns the same job', async () => {
        const key = `connect-${name}-${Date.now()}`;
        const sub = await client.submitJob(
          { type: 'demo.sleep', payload: { durationMs: 5 }, priority: 3 },
          auth({ 'idempotency-key': key }),
        );
        expect(sub.job?.state).toBe(JobState.QUEUED);
        expect(sub.job?.payload).toMatchObject({ durationMs: 5 });
        const again = await client.submitJob(
          { type: 'demo.sleep', payload: { durationMs: 5 }, priority: 3 },
          auth({ 'idempotency-key': key }),
        );
        expect(again.job?.id).toBe(sub.job?.id);
        const got = await client.getJob({ id: sub.job!.id }, auth());
        expect(got.job?.id).toBe(sub.job?.id);
        expect(got.job?.priority).toBe(3);
        const list = await client.listJobs({ state: JobState.QUEUED, pageSize: 200 }, auth());
        expect(list.jobs.map((j) => j.id)).toContain(sub.job?.id);
        const events = await client.listJobEvents({ jobId: sub.job!.id }, auth());
        expect(events.events[0]?.toState).toBe(JobState.QUEUED);
        const cancelled = await client.cancelJob({ id: sub.job!.id }, auth());
        expect(cancelled.job?.state).toBe(JobState.CANCELLED);
      });

      it('SubmitJobs: one result per entry, replays by key, all-or-nothing validation', async () => {
        const base = `connect-batch-${name}-${Date.now()}`;
        const entry = (key: string, durationMs: number) => ({
          idempotencyKey: key,
          job: { type: 'demo.sleep', payload: { durationMs } },
        });
        const first = await client.submitJobs(
          { jobs: [entry(`${base}-a`, 1), entry(`${base}-b`, 2), entry(`${base}-a`, 1)] },
          auth(),
        );
        expect(first.results.map((r) => r.created)).toEqual([true, true, false]);
        expect(first.results[2]?.job?.id).toBe(first.results[0]?.job?.id);
        const again = await client.submitJobs(
          { jobs: [entry(`${base}-b`, 2), entry(`${base}-a`, 9)] },
          auth(),
        );
        expect(again.results[0]).toMatchObject({ created: false, job: { id: first.results[1]?.job?.id } });
        expect(again.results[1]?.job).toBeUndefined();
        expect(again.results[1]?.error?.code).toBe('IDEMPOTENCY.KEY_REUSED');
        const refused = await rpcError(
          client.submitJobs(
            { jobs: [entry(`${base}-c`, 1), { idempotencyKey: `${base}-d`, job: { type: 'nope' } }] },
            auth(),
          ),
        );
        expect(refused.code).toBe(Code.InvalidArgument);
        expect(refused.metadata.get('jobplane-error-code')).toBe('REQUEST.INVALID');
        expect(refused.rawMessage).toMatch(/jobs\[1\]: JOB\.UNKNOWN_TYPE/);
        const c = await client.submitJobs({ jobs: [entry(`${base}-c`, 1)] }, auth());
        expect(c.results[0]?.created).toBe(true);
      });

      it('maps errors to Connect codes with the stable code in metadata', async () => {
        const unauth = await rpcError(client.getJob({ id: '00000000-0000-4000-8000-000000000000' }));
        expect(unauth.code).toBe(Code.Unauthenticated);
        expect(unauth.metadata.get('jobplane-error-code')).toBe('AUTH.UNAUTHENTICATED');
        const missing = await rpcError(client.getJob({ id: '00000000-0000-4000-8000-000000000000' }, auth()));
        expect(missing.code).toBe(Code.NotFound);
        expect(missing.metadata.get('jobplane-error-code')).toBe('JOB.NOT_FOUND');
        const noKey = await rpcError(
          client.submitJob({ type: 'demo.sleep', payload: { durationMs: 1 } }, auth()),
        );
        expect(noKey.code).toBe(Code.InvalidArgument);
        expect(noKey.metadata.get('jobplane-error-code')).toBe('IDEMPOTENCY.KEY_MISSING');
        const bad = await rpcError(
          client.submitJob(
            { type: 'demo.sleep', payload: { durationMs: -1 } },
            auth({ 'idempotency-key': `bad-${name}` }),
          ),
        );
        expect(bad.code).toBe(Code.InvalidArgument);
        expect(bad.metadata.get('jobplane-error-code')).toBe('JOB.PAYLOAD_INVALID');
      });
    });
  }

  it('is served by the same app: a job submitted over Connect is visible over HTTP', async () => {
    const client = createClient(JobService, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
    const sub = await client.submitJob(
      { type: 'demo.sleep', payload: { durationMs: 1 } },
      auth({ 'idempotency-key': 'cross-1' }),
    );
    const r = await fetch(`${baseUrl}/v1/jobs/${sub.job!.id}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { job: { id: string } }).job.id).toBe(sub.job!.id);
  });
});
