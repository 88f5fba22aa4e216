import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createSubmitJob,
  requestHash,
  type SubmitJobCommand,
} from '../../../src/application/submit-job.use-case.js';
import { InMemoryJobStore } from '../../../src/adapters/memory/in-memory-job-store.js';
import { NOOP_METRICS } from '../../../src/ports/metrics.port.js';
import type { JobCatalog } from '../../../src/ports/job-catalog.port.js';
import type { JobHandler } from '../../../src/ports/job-handler.port.js';

const sleepHandler: JobHandler = {
  type: 'demo.sleep',
  parsePayload: (input) => {
    const p = input as { durationMs?: unknown };
    return typeof p.durationMs === 'number'
      ? { ok: true, value: { durationMs: p.durationMs, failureRate: 0 } }
      : { ok: false, problems: ["'durationMs' is required"] };
  },
  run: async () => ({}),
};
const info = { mode: 'pooled' as const, queue: 'default', timeoutSeconds: 60, maxAttempts: 3 };
const catalog: JobCatalog = (t: string) =>
  t === 'demo.sleep'
    ? { ...info, submittable: true, parsePayload: sleepHandler.parsePayload }
    : t === 'child'
      ? { ...info, submittable: false, parsePayload: sleepHandler.parsePayload }
      : undefined;

const cmd = (over: Partial<SubmitJobCommand> = {}): SubmitJobCommand => ({
  clientId: 'alice',
  idempotencyKey: 'k1',
  requestId: null,
  type: 'demo.sleep',
  payload: { durationMs: 5 },
  priority: 0,
  runAt: null,
  maxAttempts: 0,
  ...over,
});

const setup = (extra: { depth?: number; maxDepth?: number } = {}) => {
  const store = new InMemoryJobStore();
  let ids = 0;
  const submit = createSubmitJob({
    store,
    catalog,
    submittableTypes: ['demo.sleep'],
    metrics: NOOP_METRICS,
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    newId: () => `id-${ids++}`,
    ...(extra.depth !== undefined
      ? { backlog: { depth: () => extra.depth ?? null }, maxDepth: extra.maxDepth ?? 10 }
      : {}),
  });
  return { submit, store };
};

describe('submit-job use case', () => {
  it('creates a job with the type defaults and the normalized payload', async () => {
    const { submit } = setup();
    const { job, created } = await submit(cmd());
    expect(created).toBe(true);
    expect(job).toMatchObject({
      maxAttempts: 3,
      queue: 'default',
      mode: 'pooled',
      payload: { durationMs: 5, failureRate: 0 },
    });
  });

  it('replays on the same key and request, refuses a different request', async () => {
    const { submit } = setup();
    const first = await submit(cmd());
    const again = await submit(cmd({ payload: { durationMs: 5 } }));
    expect(again).toEqual({ job: first.job, created: false });
    await expect(submit(cmd({ payload: { durationMs: 6 } }))).rejects.toMatchObject({
      code: 'IDEMPOTENCY.KEY_REUSED',
    });
  });

  it('validates key, type, payload, priority and attempts', async () => {
    const { submit } = setup();
    await expect(submit(cmd({ idempotencyKey: undefined }))).rejects.toMatchObject({
      code: 'IDEMPOTENCY.KEY_MISSING',
    });
    await expect(submit(cmd({ idempotencyKey: 'x'.repeat(300) }))).rejects.toMatchObject({
      code: 'IDEMPOTENCY.KEY_INVALID',
    });
    await expect(submit(cmd({ type: 'nope' }))).rejects.toMatchObject({ code: 'JOB.UNKNOWN_TYPE' });
    await expect(submit(cmd({ type: 'child' }))).rejects.toMatchObject({ code: 'JOB.UNKNOWN_TYPE' });
    await expect(submit(cmd({ payload: {} }))).rejects.toMatchObject({
      code: 'JOB.PAYLOAD_INVALID',
      details: { problems: ["'durationMs' is required"] },
    });
    await expect(submit(cmd({ priority: 1001 }))).rejects.toMatchObject({ code: 'REQUEST.INVALID' });
    await expect(submit(cmd({ maxAttempts: 101 }))).rejects.toMatchObject({ code: 'REQUEST.INVALID' });
  });

  it('keeps a future runAt and clamps a past one to now', async () => {
    const { submit } = setup();
    const future = new Date('2026-01-02T00:00:00Z');
    expect((await submit(cmd({ idempotencyKey: 'f', runAt: future }))).job.runAt).toEqual(future);
    expect((await submit(cmd({ idempotencyKey: 'p', runAt: new Date('2020-01-01') }))).job.runAt).toEqual(
      new Date('2026-01-01T00:00:00Z'),
    );
  });

  it('refuses new jobs with QUEUE.FULL while the backlog is at the limit', async () => {
    await expect(setup({ depth: 10, maxDepth: 10 }).submit(cmd())).rejects.toMatchObject({
      code: 'QUEUE.FULL',
    });
    await expect(setup({ depth: 9, maxDepth: 10 }).submit(cmd())).resolves.toMatchObject({ created: true });
  });

  it('hashes requests independently of key order', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(requestHash(cmd({ payload: { a: 1, b: 2 } }))).toBe(requestHash(cmd({ payload: { b: 2, a: 1 } })));
    expect(requestHash(cmd({ priority: 1 }))).not.toBe(requestHash(cmd()));
  });
});
