import type { JobQueue } from '../ports/job-queue.port.js';
import type { JobOutbox } from '../ports/job-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Metrics } from '../ports/metrics.port.js';

export interface RelayDeps {
  readonly store: JobOutbox;
  readonly queue: JobQueue;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly batchSize?: number;
}

/**
 * One relay pass: claims outbox rows (`FOR UPDATE SKIP LOCKED`, so several relays can run),
 * publishes them (idempotent: queue job id = job id), then deletes them in the same transaction.
 * A crash between publish and delete re-publishes, which the queue ignores. Returns how many
 * messages were published.
 */
export function createRelayOutbox(deps: RelayDeps): () => Promise<number> {
  const batchSize = deps.batchSize ?? 500;
  return async () => {
    let total = 0;
    for (;;) {
      const batch = await deps.store.claimOutbox(batchSize);
      if (batch.messages.length === 0) {
        await batch.release();
        break;
      }
      try {
        await deps.queue.publish(batch.messages);
      } catch (err) {
        await batch.release();
        throw err;
      }
      await batch.ack();
      total += batch.messages.length;
      if (batch.messages.length < batchSize) break;
    }
    if (total > 0) deps.logger.debug({ published: total }, 'outbox relayed');
    return total;
  };
}
