import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/postgres/event-store.js';
import { createSubmitJob } from '../../src/application/submit-job.use-case.js';
import { submittableTypes } from '../../src/main/catalog.js';
import type { Core } from '../../src/main/context.js';
import { SYSTEM_CLOCK } from '../../src/ports/clock.port.js';
import { NOOP_METRICS } from '../../src/ports/metrics.port.js';
import { isolate, type Isolated } from './helpers.js';

/**
 * The event outbox as docs/events.md describes it: one CloudEvent per state change, written by
 * the job_events trigger in the transition's transaction, with the documented payload.
 */

let iso: Isolated;
let core: Core;
let events: PostgresEventStore;

interface Ev {
  id: string;
  type: string;
  subject: string;
  source: string;
  specversion: string;
  datacontenttype: string;
  time: string;
  jobeventid: number;
  data: Record<string, unknown>;
}

const outbox = async (jobId: string) =>
  (
    await iso.query<{ topic: string; event: Ev }>(
      `SELECT topic, event FROM event_outbox WHERE event ->> 'subject' = $1 ORDER BY id`,
      [jobId],
    )
  ).map((r) => ({ ...r.event, topic: r.topic }));

async function submit(key: string) {
  const run = createSubmitJob({
    store: core.store,
    catalog: core.jobCatalog,
    submittableTypes: submittableTypes(core.catalog),
    metrics: NOOP_METRICS,
    clock: SYSTEM_CLOCK,
  });
  return (
    await run({
      clientId: 'alice',
      idempotencyKey: key,
      requestId: null,
      type: 'demo.sleep',
      payload: { durationMs: 1 },
      priority: 0,
      runAt: null,
      maxAttempts: 2,
    })
  ).job;
}

beforeAll(async () => {
  iso = await isolate('evoutbox');
  core = iso.core('relay');
  events = new PostgresEventStore(core.pool);
  await events.setNatsSink(true);
});

afterAll(async () => {
  await iso?.cleanup();
});

describe('job_events → CloudEvents', () => {
  it('a retried then dead-lettered job, then requeued by a client, emits its whole story in order', async () => {
    const job = await submit('story');
    const [t1, t2] = [randomUUID(), randomUUID()];
    await core.store.startAttempt(job.id, t1, 'w1');
    // A whole number of 10 ms, so the trailing-zero form (.590 → .59) is exercised every run.
    const runAt = new Date(Math.floor((Date.now() + 60_000) / 1000) * 1000 + 590);
    await core.store.failAndRetry(
      job.id,
      t1,
      { code: 'FLAKY', message: 'x'.repeat(2000), retryable: true },
      runAt,
    );
    await core.store.startAttempt(job.id, t2, 'w1');
    await core.store.failAndDeadLetter(job.id, t2, { code: 'BROKEN', message: 'no', retryable: false });
    await core.store.retry('alice', job.id);

    const evs = await outbox(job.id);
    expect(evs.map((e) => [e.type, e.topic, e.data.reason])).toEqual([
      ['dev.jobplane.job.created', 'created', 'submitted'],
      ['dev.jobplane.job.started', 'started', 'attempt_started'],
      ['dev.jobplane.job.failed', 'failed', 'attempt_failed'],
      ['dev.jobplane.job.retry_scheduled', 'retry_scheduled', 'retry_scheduled'],
      ['dev.jobplane.job.started', 'started', 'attempt_started'],
      ['dev.jobplane.job.failed', 'failed', 'attempt_failed'],
      ['dev.jobplane.job.dead_lettered', 'dead_lettered', 'unrecoverable'],
      ['dev.jobplane.job.requeued', 'requeued', 'retry_requested'],
    ]);
    const ids = evs.map((e) => e.jobeventid);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(evs.map((e) => e.id)).size).toBe(evs.length);
    // The ids are the job's event history ids.
    const history = await core.store.listEvents(job.id, 100, null);
    expect(ids).toEqual(history.items.map((h) => Number(h.id)));
    for (const [i, e] of evs.entries()) {
      expect(e).toMatchObject({
        specversion: '1.0',
        source: `/jobplane/${iso.schema}`,
        subject: job.id,
        datacontenttype: 'application/json',
        // The redrive keeps counting attempts and grants the budget (2) again: 2 used, 4 at most.
        data: {
          jobId: job.id,
          type: 'demo.sleep',
          clientId: 'alice',
          queue: job.queue,
          maxAttempts: i === evs.length - 1 ? 4 : 2,
        },
      });
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(Object.values(e.data)).not.toContain(null);
    }
    expect(evs[0]!.data).not.toHaveProperty('fromState');
    expect(evs[2]!.data).toMatchObject({ state: 'failed', fromState: 'running', attempt: 1 });
    expect((evs[2]!.data.error as { message: string }).message).toHaveLength(1024);
    // PostgreSQL's JSON form of a timestamptz drops trailing zeros of the fraction (.590 → .59):
    // RFC 3339 either way; the instant is what must match.
    const eventRunAt = evs[3]!.data.runAt as string;
    expect(eventRunAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$/);
    expect(new Date(eventRunAt).getTime()).toBe(runAt.getTime());
    expect(evs[7]!.data).toMatchObject({ state: 'queued', fromState: 'dead_lettered', attempt: 2 });
    expect(evs[6]!.data).toMatchObject({
      state: 'dead_lettered',
      error: { code: 'BROKEN', message: 'no', retryable: false },
    });
  });

  it('succeeded carries small results, flags big ones; cancelled says why', async () => {
    const small = await submit('small');
    const ts = randomUUID();
    await core.store.startAttempt(small.id, ts, 'w1');
    await core.store.succeed(small.id, ts, { answer: 42 });
    expect((await outbox(small.id)).at(-1)).toMatchObject({
      type: 'dev.jobplane.job.succeeded',
      data: { state: 'succeeded', result: { answer: 42 } },
    });

    const big = await submit('big');
    const tb = randomUUID();
    await core.store.startAttempt(big.id, tb, 'w1');
    await core.store.succeed(big.id, tb, { blob: 'y'.repeat(5000) });
    const last = (await outbox(big.id)).at(-1)!;
    expect(last.data).toMatchObject({ state: 'succeeded', resultTruncated: true });
    expect(last.data).not.toHaveProperty('result');

    const gone = await submit('gone');
    await core.store.cancel('alice', gone.id);
    expect((await outbox(gone.id)).at(-1)).toMatchObject({
      type: 'dev.jobplane.job.cancelled',
      data: { state: 'cancelled', fromState: 'queued', reason: 'cancel_requested' },
    });
  });

  it('a rolled-back transition leaves no event', async () => {
    const job = await submit('rollback');
    const before = (await outbox(job.id)).length;
    const client = await core.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO job_events (job_id, from_state, to_state, attempt, reason) VALUES ($1, 'queued', 'running', 1, 'attempt_started')`,
        [job.id],
      );
      expect(
        (
          await client.query(`SELECT count(*)::int AS n FROM event_outbox WHERE event ->> 'subject' = $1`, [
            job.id,
          ])
        ).rows[0].n,
      ).toBe(before + 1);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await outbox(job.id)).length).toBe(before);
  });

  it('without NATS the sink is off: pending events are dropped and no new ones kept', async () => {
    expect(await events.natsBacklog()).toBeGreaterThan(0);
    await events.setNatsSink(false);
    expect(await events.natsBacklog()).toBe(0);
    await submit('no-nats');
    expect(await events.natsBacklog()).toBe(0);
    // Webhook subscriptions still get theirs.
    const sub = await events.createSubscription({
      clientId: 'alice',
      url: 'http://127.0.0.1:9/',
      eventTypes: ['job.created'],
      secret: `whsec_${Buffer.alloc(32).toString('base64')}`,
      description: '',
    });
    const job = await submit('with-sub');
    const rows = await iso.query<{ subscription_id: string; subject: string; event_type: string }>(
      `SELECT subscription_id, subject, event_type FROM webhook_deliveries`,
    );
    expect(rows).toEqual([{ subscription_id: sub.id, subject: job.id, event_type: 'job.created' }]);
    await events.deleteSubscription('alice', sub.id);
  });
});
