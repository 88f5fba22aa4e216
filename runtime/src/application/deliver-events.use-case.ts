import type { BackoffPolicy, ClaimedDelivery, DeliveryAttemptRecord, OutboxEvent } from '../domain/events.js';
import { nextDeliveryAttempt } from '../domain/events.js';
import type { Logger } from '../ports/logger.port.js';

/** What the event passes need from the event store (adapters/postgres/event-store.ts). */
export interface EventDeliveryStore {
  publishNatsBatch(
    limit: number,
    publish: (events: OutboxEvent[]) => Promise<{ published: string[]; failure: unknown }>,
  ): Promise<number>;
  leaseDeliveries(limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  recordAttempt(d: ClaimedDelivery, a: DeliveryAttemptRecord, retryAt: Date | null): Promise<void>;
}

export interface StreamPublisher {
  publish(topic: string, eventId: string, body: string): Promise<unknown>;
}

/**
 * Publishes `events` (in id order) with up to `window` acknowledgements outstanding, never two of
 * the same subject (job) at once: an event goes out only after the job's previous event was
 * acknowledged, so each job's events reach the stream in order. The first failure stops issuing;
 * the events already in flight finish. Answers the ids acknowledged and the failure.
 */
export async function publishInJobOrder(
  events: readonly OutboxEvent[],
  publish: (e: OutboxEvent) => Promise<unknown>,
  window: number,
): Promise<{ published: string[]; failure: unknown }> {
  const published: string[] = [];
  let failure: unknown = null;
  const bySubject = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  for (const e of events) {
    if (failure) break;
    const subject = typeof e.event.subject === 'string' ? e.event.subject : e.eventId;
    const previous = bySubject.get(subject);
    if (previous) await previous;
    while (inFlight.size >= window) await Promise.race(inFlight);
    if (failure) break;
    const p: Promise<void> = publish(e)
      .then(
        () => {
          published.push(e.id);
        },
        (err: unknown) => {
          failure ??= err;
        },
      )
      .finally(() => {
        inFlight.delete(p);
        if (bySubject.get(subject) === p) bySubject.delete(subject);
      });
    inFlight.add(p);
    bySubject.set(subject, p);
  }
  await Promise.all(inFlight);
  return { published, failure };
}

/**
 * One NATS pass: publishes the event outbox in id order (one pass at a time across relays), each
 * job's events one after the other, each acknowledged by JetStream before the job's next (other
 * jobs' events overlap, `window` at a time); a failure stops the pass (the events acknowledged are
 * deleted, the failed one and those after it stay for the next pass). At least once: a crash
 * after a publish and before the delete publishes again with the same Nats-Msg-Id, which
 * JetStream drops within its duplicate window.
 */
export function createNatsPass(
  store: EventDeliveryStore,
  publisher: StreamPublisher,
  batchSize = 500,
  window = 64,
) {
  return async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = await store.publishNatsBatch(batchSize, (events) =>
        publishInJobOrder(
          events,
          (e) => publisher.publish(e.topic, e.eventId, JSON.stringify(e.event)),
          window,
        ),
      );
      total += n;
      if (n < batchSize) return total;
    }
  };
}

export interface WebhookPassDeps {
  readonly store: EventDeliveryStore;
  readonly send: (d: ClaimedDelivery, now: Date) => Promise<DeliveryAttemptRecord>;
  readonly backoff: BackoffPolicy;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly now?: () => Date;
}

/**
 * One webhook pass: leases due deliveries (per subscription and job in order), sends them in
 * parallel, and records each attempt: delivered, retried later with backoff, or given up past the
 * retry window (which disables the subscription). Returns how many attempts were made.
 */
export function createWebhookPass(deps: WebhookPassDeps) {
  const random = deps.random ?? Math.random;
  const now = deps.now ?? (() => new Date());
  return async (): Promise<number> => {
    const leased = await deps.store.leaseDeliveries(deps.concurrency, deps.leaseMs);
    await Promise.all(
      leased.map(async (d) => {
        const result = await deps.send(d, now());
        const retryAt = result.ok
          ? null
          : nextDeliveryAttempt(deps.backoff, d.attempt, d.firstAttemptTime, now(), random());
        if (!result.ok) {
          deps.logger.warn(
            {
              subscriptionId: d.subscriptionId,
              eventId: d.eventId,
              attempt: d.attempt,
              responseCode: result.responseCode,
              error: result.error,
              retryAt,
            },
            retryAt
              ? 'webhook delivery failed; will retry'
              : 'webhook delivery given up; subscription disabled',
          );
        }
        await deps.store.recordAttempt(d, result, retryAt);
      }),
    );
    return leased.length;
  };
}
