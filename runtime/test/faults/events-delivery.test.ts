import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamPublisher } from '../../src/adapters/nats/jetstream-publisher.js';
import { PostgresEventStore } from '../../src/adapters/postgres/event-store.js';
import { createSubmitJob } from '../../src/application/submit-job.use-case.js';
import { verifyStandardWebhook } from '../../src/domain/webhook-signature.js';
import { submittableTypes } from '../../src/main/catalog.js';
import type { Core } from '../../src/main/context.js';
import { startEventsLoop, type EventsLoop } from '../../src/main/events-loop.js';
import { SYSTEM_CLOCK } from '../../src/ports/clock.port.js';
import { NOOP_METRICS } from '../../src/ports/metrics.port.js';
import { isolate, type Isolated } from '../integration/helpers.js';
import { PrivateNats } from '../support/faults/private-nats.js';
import { seededRandom } from '../support/faults/seed.js';
import { pollUntil } from '../support/wait.js';

/**
 * Lifecycle events under faults (docs/events.md): a webhook receiver that is down, slow (past
 * the response timeout) or answers 500, and a NATS server restarted mid-stream. Nothing is lost,
 * no event id reaches the stream twice, per-job order holds on both sinks, and a receiver that
 * keeps failing past the retry window gets its subscription disabled with an event.
 */

const rng = seededRandom('events-delivery');
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const RESPONSE_TIMEOUT_MS = 400;

type Mode = 'ok' | 'fail' | 'slow';

interface Seen {
  readonly id: string;
  readonly jobId: string;
  readonly seq: number;
  readonly type: string;
}

let iso: Isolated;
let nats: PrivateNats;
let core: Core;
let loop: EventsLoop | null = null;
/** A second relay: publishing and deliveries are shared (advisory lock, leases). */
let loop2: EventsLoop | null = null;
let receiver: http.Server;
let port = 0;
const firstSight: Seen[] = [];
const sighted = new Set<string>();
const accepted = new Set<string>();
let badSignatures = 0;
let requests = 0;
let failRate = 0.4;

function pickMode(): Mode {
  const r = rng.next();
  if (r < failRate / 2) return 'fail';
  if (r < failRate) return 'slow';
  return 'ok';
}

function startReceiver(listenPort: number): Promise<void> {
  receiver = http.createServer((req, res) => {
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const raw = Buffer.concat(chunks);
      if (req.url === '/always-500') {
        res.writeHead(500).end('nope');
        return;
      }
      const v = verifyStandardWebhook({
        secret: SECRET,
        headers: req.headers,
        rawBody: raw,
        now: new Date(),
      });
      if (!v.ok) {
        badSignatures++;
        res.writeHead(400).end();
        return;
      }
      const ev = JSON.parse(raw.toString()) as {
        id: string;
        subject: string;
        jobeventid: number;
        type: string;
      };
      if (req.headers['webhook-id'] !== ev.id) badSignatures++;
      if (!sighted.has(ev.id)) {
        sighted.add(ev.id);
        firstSight.push({ id: ev.id, jobId: ev.subject, seq: ev.jobeventid, type: ev.type });
      }
      const mode = pickMode();
      if (mode === 'fail') res.writeHead(500).end('try later');
      else if (mode === 'slow') setTimeout(() => res.writeHead(200).end('late'), RESPONSE_TIMEOUT_MS + 300);
      else {
        accepted.add(ev.id);
        res.writeHead(204).end();
      }
    });
  });
  receiver.listen(listenPort, '127.0.0.1');
  return once(receiver, 'listening').then(() => {
    port = (receiver.address() as AddressInfo).port;
  });
}

async function stopReceiver(): Promise<void> {
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
}

beforeAll(async () => {
  iso = await isolate('events');
  nats = await PrivateNats.start();
  await startReceiver(0);
}, 60_000);

afterAll(async () => {
  await loop?.stop();
  await loop2?.stop();
  await stopReceiver().catch(() => undefined);
  await nats?.stop();
  await iso?.cleanup();
});

describe('lifecycle events under faults', () => {
  it('two relays deliver every event once to NATS and at least once to webhooks, in per-job order', async () => {
    const stream = `EV_${iso.prefix.replace(/[^A-Za-z0-9]/g, '_')}`;
    const relayEnv = {
      NATS_URL: nats.url,
      NATS_STREAM: stream,
      RELAY_POLL_MS: '100',
      WEBHOOK_DELIVERY_ALLOWED_CIDRS: '127.0.0.1/32',
      WEBHOOK_DELIVERY_CONNECT_TIMEOUT_MS: '400',
      WEBHOOK_DELIVERY_RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS),
      WEBHOOK_DELIVERY_RETRY_BASE_MS: '50',
      WEBHOOK_DELIVERY_RETRY_MAX_DELAY_MS: '400',
    };
    core = iso.core('relay', {}, relayEnv);
    const events = new PostgresEventStore(core.pool);
    loop = await startEventsLoop(core, { random: rng.next });
    loop2 = await startEventsLoop(iso.core('relay', {}, relayEnv), { random: rng.next });
    const sub = await events.createSubscription({
      clientId: 'alice',
      url: `http://127.0.0.1:${port}/hook`,
      eventTypes: [],
      secret: SECRET,
      description: 'faults',
    });

    const submit = createSubmitJob({
      store: core.store,
      catalog: core.jobCatalog,
      submittableTypes: submittableTypes(core.catalog),
      metrics: NOOP_METRICS,
      clock: SYSTEM_CLOCK,
    });
    const JOBS = 24;
    const natsRestartAt = 4 + rng.int(JOBS - 8);
    const receiverDownAt = 4 + rng.int(JOBS - 8); // up again 3 jobs later
    for (let i = 0; i < JOBS; i++) {
      if (i === natsRestartAt) await nats.restart(200 + rng.int(400));
      if (i === receiverDownAt) await stopReceiver();
      if (i === receiverDownAt + 3) {
        // Back up only once a delivery actually found it down.
        await pollUntil(
          async () =>
            (await events.listDeliveryLog(sub.id, 1000, null)).some((l) => l.error?.includes('ECONNREFUSED')),
          30_000,
          50,
        );
        await startReceiver(port);
      }
      const { job } = await submit({
        clientId: 'alice',
        idempotencyKey: `ev-${i}`,
        requestId: null,
        type: 'demo.sleep',
        payload: { durationMs: 1 },
        priority: 0,
        runAt: null,
        maxAttempts: 3,
      });
      const t1 = randomUUID();
      const t2 = randomUUID();
      const first = await core.store.startAttempt(job.id, t1, 'w1');
      expect(first.status).toBe('started');
      if (rng.next() < 0.5) {
        await core.store.failAndRetry(
          job.id,
          t1,
          { code: 'E', message: 'boom', retryable: true },
          new Date(),
        );
        expect((await core.store.startAttempt(job.id, t2, 'w1')).status).toBe('started');
        await core.store.succeed(job.id, t2, { n: i });
      } else {
        await core.store.succeed(job.id, t1, { n: i });
      }
    }

    // What the platform must deliver: one event per state change of job_events.
    const expected = await iso.query<{ job_id: string; id: string }>(
      `SELECT job_id, id::text FROM job_events WHERE from_state IS DISTINCT FROM to_state ORDER BY id`,
    );
    expect(expected.length).toBeGreaterThan(JOBS * 3);

    // NATS: every event exactly once in the stream, per-job order kept.
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await pollUntil(
        async () => {
          const info = await jsm.streams.info(stream).catch(() => null);
          return info !== null && info.state.messages >= expected.length;
        },
        60_000,
        200,
      );
      await pollUntil(async () => (await events.natsBacklog()) === 0, 30_000, 100);
      const info = await jsm.streams.info(stream);
      const msgs: { id: string; subject: string; jobId: string; seq: number; type: string }[] = [];
      for (let s = info.state.first_seq; s <= info.state.last_seq; s++) {
        const m = await jsm.streams.getMessage(stream, { seq: s });
        if (!m) throw new Error(`stream message ${s} is missing`);
        const ev = m.json<{ id: string; subject: string; jobeventid?: number; type: string }>();
        expect(m.header?.get('Nats-Msg-Id')).toBe(ev.id);
        msgs.push({
          id: ev.id,
          subject: m.subject,
          jobId: ev.subject,
          seq: ev.jobeventid ?? 0,
          type: ev.type,
        });
      }
      const jobMsgs = msgs.filter((m) => m.type.startsWith('dev.jobplane.job.'));
      expect(new Set(msgs.map((m) => m.id)).size).toBe(msgs.length);
      expect(jobMsgs.map((m) => String(m.seq)).sort()).toEqual(expected.map((e) => e.id).sort());
      for (const m of jobMsgs) expect(m.subject).toBe(`jobs.${m.type.slice('dev.jobplane.job.'.length)}`);
      const lastSeq = new Map<string, number>();
      for (const m of jobMsgs) {
        expect(m.seq).toBeGreaterThan(lastSeq.get(m.jobId) ?? 0);
        lastSeq.set(m.jobId, m.seq);
      }
      expect(msgs.length).toBe(expected.length);

      // A relay that died between JetStream's acknowledgement and the outbox delete publishes the
      // same events again: JetStream drops them (same Nats-Msg-Id within the duplicate window).
      const again = await JetStreamPublisher.connect({
        servers: nats.url,
        stream,
        subjectPrefix: 'jobs',
        duplicateWindowSeconds: 120,
      });
      try {
        const replay = msgs.slice(0, 20);
        for (const m of replay) {
          const ack = await again.publish(m.subject.slice('jobs.'.length), m.id, '{}');
          expect(ack.duplicate).toBe(true);
        }
      } finally {
        await again.close();
      }
      expect((await jsm.streams.info(stream)).state.messages).toBe(expected.length);
    } finally {
      await nc.close();
    }

    // Webhooks: every event accepted by the receiver, first sight per job in order.
    failRate = 0;
    await pollUntil(async () => accepted.size >= expected.length, 90_000, 200);
    expect(badSignatures).toBe(0);
    const jobSights = firstSight.filter((s) => s.type.startsWith('dev.jobplane.job.'));
    expect(jobSights.map((s) => String(s.seq)).sort()).toEqual(expected.map((e) => e.id).sort());
    const lastSight = new Map<string, number>();
    for (const s of jobSights) {
      expect(s.seq).toBeGreaterThan(lastSight.get(s.jobId) ?? 0);
      lastSight.set(s.jobId, s.seq);
    }
    await pollUntil(
      async () =>
        (
          await iso.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND state <> 'succeeded'`,
            [sub.id],
          )
        )[0]!.n === 0,
      30_000,
      100,
    );
    // The delivery log shows the faults: 500s, timeouts, refused connections.
    const log = await events.listDeliveryLog(sub.id, 1000, null);
    const failures = log.filter((l) => l.outcome === 'failed');
    console.log(
      `[faults] events-delivery: ${expected.length} events, ${requests} requests, ${failures.length} failed attempts`,
    );
    expect(failures.some((f) => f.responseCode === 500)).toBe(true);
    expect(failures.some((f) => f.error?.includes('no complete response'))).toBe(true);
    expect(failures.some((f) => f.error?.includes('ECONNREFUSED'))).toBe(true);
    expect((await events.getSubscription('alice', sub.id))?.enabled).toBe(true);
    await loop.stop();
    await loop2.stop();
    loop = null;
    loop2 = null;
  }, 180_000);

  it('gives up past the retry window: the subscription is disabled and a subscription.disabled event published', async () => {
    // The same stream as above: a second stream on `jobs.>` would overlap its subjects.
    const stream = `EV_${iso.prefix.replace(/[^A-Za-z0-9]/g, '_')}`;
    const c = iso.core(
      'relay',
      {},
      {
        NATS_URL: nats.url,
        NATS_STREAM: stream,
        RELAY_POLL_MS: '100',
        WEBHOOK_DELIVERY_ALLOWED_CIDRS: '127.0.0.1/32',
        WEBHOOK_DELIVERY_RETRY_BASE_MS: '50',
        WEBHOOK_DELIVERY_RETRY_MAX_DELAY_MS: '200',
        WEBHOOK_DELIVERY_GIVE_UP_SECONDS: '1',
      },
    );
    const events = new PostgresEventStore(c.pool);
    loop = await startEventsLoop(c, { random: rng.next });
    const doomed = await events.createSubscription({
      clientId: 'bob',
      url: `http://127.0.0.1:${port}/always-500`,
      eventTypes: ['job.created'],
      secret: SECRET,
      description: 'always failing',
    });
    const watcher = await events.createSubscription({
      clientId: 'bob',
      url: `http://127.0.0.1:${port}/hook`,
      eventTypes: ['subscription.disabled'],
      secret: SECRET,
      description: 'hears about disabled subscriptions',
    });
    const submit = createSubmitJob({
      store: c.store,
      catalog: c.jobCatalog,
      submittableTypes: submittableTypes(c.catalog),
      metrics: NOOP_METRICS,
      clock: SYSTEM_CLOCK,
    });
    await submit({
      clientId: 'bob',
      idempotencyKey: 'doomed',
      requestId: null,
      type: 'demo.sleep',
      payload: { durationMs: 1 },
      priority: 0,
      runAt: null,
      maxAttempts: 1,
    });
    const gone = await pollUntil(async () => {
      const s = await events.getSubscription('bob', doomed.id);
      return s && !s.enabled ? s : null;
    }, 30_000);
    expect(gone.disabledReason).toContain('HTTP 500');
    const log = await events.listDeliveryLog(doomed.id, 100, null);
    expect(log.length).toBeGreaterThan(1);
    expect(log.every((l) => l.outcome === 'failed' && l.responseCode === 500)).toBe(true);
    expect(log.map((l) => l.attempt)).toEqual([...log.map((l) => l.attempt)].sort((a, b) => b - a));

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const msg = await pollUntil(
        async () =>
          jsm.streams.getMessage(stream, { last_by_subj: 'jobs.subscription.disabled' }).catch(() => null),
        30_000,
        100,
      );
      const ev = msg.json<{
        type: string;
        subject: string;
        data: { subscriptionId: string; clientId: string };
      }>();
      expect(ev).toMatchObject({
        type: 'dev.jobplane.subscription.disabled',
        subject: doomed.id,
        data: { subscriptionId: doomed.id, clientId: 'bob' },
      });
    } finally {
      await nc.close();
    }
    // Other subscriptions of the client that asked for it hear about it too.
    const heard = await pollUntil(
      async () =>
        (
          await iso.query<{ state: string }>(
            `SELECT state FROM webhook_deliveries WHERE subscription_id = $1 AND event_type = 'subscription.disabled'`,
            [watcher.id],
          )
        )[0],
      30_000,
    );
    expect(heard.state).toBeDefined();
  }, 60_000);
});
