import type { JobQueue } from '../ports/job-queue.port.js';
import type { JobOutbox, OutboxEntry } from '../ports/job-store.port.js';
import type { Logger } from '../ports/logger.port.js';

export interface EagerPublisherDeps {
  readonly store: JobOutbox;
  readonly queue: JobQueue;
  readonly logger: Logger;
  /** Most messages one publish carries. Default 500 (the relay's batch). */
  readonly batchSize?: number;
  /** Entries waiting beyond this are left to the relays (which are woken). Default 20,000. */
  readonly maxPending?: number;
  /**
   * A publish that has not finished by then is given up and its rows left to the relays (woken at
   * once); if it still completes later, the relay's publish of the same rows is ignored by the
   * queue. Default 2000 ms.
   */
  readonly publishTimeoutMs?: number;
}

export interface EagerPublisher {
  /** Publishes these committed outbox entries soon (coalesced with others of this turn). */
  publish(entries: readonly OutboxEntry[]): void;
  /** Resolves once nothing is in flight or waiting (shutdown, tests). */
  drain(): Promise<void>;
  /** Messages published, and entries left to the relays (failures, overflow), so far. */
  readonly stats: { published: number; leftToRelay: number };
}

/**
 * The API's eager publisher: after a submission commits, its outbox rows are published by the
 * process that wrote them, from what the insert returned, instead of waiting for a relay to be
 * woken, claim them and read them back. Then the rows are deleted. Every step may fail or race a
 * relay without loss or double execution:
 *  - the publish fails or times out: the rows stay, and the relays are woken to publish them;
 *  - the process dies before the delete: the rows stay for the relays' next poll;
 *  - a relay publishes the same rows meanwhile: the second add of a BullMQ job id is ignored, and
 *    a delivery of a job that is no longer queued is dropped by the worker.
 *
 * At most one publish is in flight; entries arriving meanwhile go out together with the next one.
 * Deletes run beside the publishes (one in flight, coalesced), not between them.
 */
export function createEagerPublisher(deps: EagerPublisherDeps): EagerPublisher {
  const batchSize = deps.batchSize ?? 500;
  const maxPending = deps.maxPending ?? 20_000;
  const publishTimeoutMs = deps.publishTimeoutMs ?? 2000;
  const pending: OutboxEntry[] = [];
  let running: Promise<void> | null = null;
  let scheduled = false;
  // Published rows to delete: their own loop, so the next publish does not wait for a delete.
  const toDelete: string[] = [];
  let deleting: Promise<void> | null = null;
  const stats = { published: 0, leftToRelay: 0 };

  const leaveToRelay = async (count: number, err?: unknown) => {
    stats.leftToRelay += count;
    if (err) deps.logger.warn({ err, rows: count }, 'eager publish failed; the relay will publish');
    await deps.store.wakeRelay().catch(() => undefined);
  };

  const publishBatch = async (batch: OutboxEntry[]) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      // A queue that does not answer (Redis unreachable: its client waits to reconnect) must not
      // hold the API's shutdown, nor the rows from the relays for long.
      await Promise.race([
        deps.queue.publish(batch.map((e) => e.message)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the queue did not accept the messages within ${publishTimeoutMs} ms`)),
            publishTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      await leaveToRelay(batch.length, err);
      return;
    } finally {
      clearTimeout(timer);
    }
    stats.published += batch.length;
    for (const e of batch) toDelete.push(e.id);
    deleting ??= deleteLoop().finally(() => {
      deleting = null;
    });
  };

  const deleteLoop = async () => {
    while (toDelete.length > 0) {
      const ids = toDelete.splice(0, 5000);
      await deps.store.deleteOutbox(ids).catch((err: unknown) => {
        // Published but not deleted: a relay publishes them again, which the queue ignores.
        deps.logger.warn({ err, rows: ids.length }, 'published outbox rows not deleted; the relay will');
      });
    }
  };

  const run = async () => {
    while (pending.length > 0) await publishBatch(pending.splice(0, batchSize));
  };

  const kick = () => {
    if (running || scheduled) return;
    scheduled = true;
    // Coalesce the entries of this turn of the event loop (the group commit answers many at once).
    setImmediate(() => {
      scheduled = false;
      running = run().finally(() => {
        running = null;
        if (pending.length > 0) kick();
      });
    });
  };

  return {
    stats,
    publish(entries) {
      if (entries.length === 0) return;
      const room = Math.max(0, maxPending - pending.length);
      if (room < entries.length) void leaveToRelay(entries.length - room);
      if (room > 0) pending.push(...entries.slice(0, room));
      kick();
    },
    async drain() {
      while (running || scheduled || pending.length > 0 || deleting) {
        if (running) await running;
        else if (deleting) await deleting;
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}
