import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { InMemoryJobStore } from '../../../src/adapters/memory/in-memory-job-store.js';
import { createEagerPublisher } from '../../../src/application/publish-submitted.use-case.js';
import type { JobQueue, QueueMessage } from '../../../src/ports/job-queue.port.js';
import type { OutboxEntry } from '../../../src/ports/job-store.port.js';
import { newJob } from '../../support/new-job.js';

/** A queue that records what it was given, or refuses while `down`. */
function recordingQueue() {
  const published: QueueMessage[][] = [];
  const state = { down: false };
  const queue: JobQueue = {
    async publish(messages) {
      if (state.down) throw new Error('redis: connection refused');
      published.push([...messages]);
    },
    async inspect() {
      return { present: false };
    },
    async discard() {},
  };
  return { queue, published, state };
}

const logger = pino({ level: 'silent' });

async function submit(store: InMemoryJobStore, n: number) {
  const out: OutboxEntry[] = [];
  for (let i = 0; i < n; i++) out.push((await store.insert(newJob())).outbox!);
  return out;
}

describe('eager publisher: the API publishes its own committed outbox rows', () => {
  it('publishes the rows of one turn together and deletes them from the outbox', async () => {
    const store = new InMemoryJobStore();
    const { queue, published } = recordingQueue();
    const eager = createEagerPublisher({ store, queue, logger });
    const entries = await submit(store, 5);
    for (const e of entries) eager.publish([e]);
    await eager.drain();
    expect(published).toHaveLength(1);
    expect(published[0]).toHaveLength(5);
    expect(await store.countOutbox()).toBe(0);
    expect(eager.stats).toEqual({ published: 5, leftToRelay: 0 });
    expect(store.relayWakeups).toBe(0);
  });

  it('publishes what the insert returned: the messages a relay would have claimed', async () => {
    const store = new InMemoryJobStore();
    const { queue, published } = recordingQueue();
    const eager = createEagerPublisher({ store, queue, logger });
    const entries = await submit(store, 2);
    const relay = await store.claimOutbox(10);
    await relay.release();
    eager.publish(entries);
    await eager.drain();
    expect(published.flat()).toEqual(relay.messages);
    expect(await store.countOutbox()).toBe(0);
  });

  it('a failed publish keeps the rows for the relays and wakes them', async () => {
    const store = new InMemoryJobStore();
    const { queue, published, state } = recordingQueue();
    const eager = createEagerPublisher({ store, queue, logger });
    state.down = true;
    eager.publish(await submit(store, 2));
    await eager.drain();
    expect(published).toHaveLength(0);
    expect(await store.countOutbox()).toBe(2);
    expect(store.relayWakeups).toBe(1);
    expect(eager.stats).toEqual({ published: 0, leftToRelay: 2 });
    // The rows are not held: a relay claims them.
    const relay = await store.claimOutbox(10);
    expect(relay.messages).toHaveLength(2);
    await relay.release();
  });

  it('a queue that never answers is given up after publishTimeoutMs: the claim is released', async () => {
    const store = new InMemoryJobStore();
    const queue: JobQueue = { ...recordingQueue().queue, publish: () => new Promise<void>(() => undefined) };
    const eager = createEagerPublisher({ store, queue, logger, publishTimeoutMs: 20 });
    eager.publish(await submit(store, 1));
    await eager.drain();
    expect(eager.stats).toEqual({ published: 0, leftToRelay: 1 });
    expect(store.relayWakeups).toBe(1);
    const relay = await store.claimOutbox(10);
    expect(relay.messages).toHaveLength(1);
    await relay.release();
  });

  it('past maxPending the rest is left to the relays; batches stay within batchSize', async () => {
    const store = new InMemoryJobStore();
    const { queue, published } = recordingQueue();
    const eager = createEagerPublisher({ store, queue, logger, batchSize: 2, maxPending: 3 });
    eager.publish(await submit(store, 5));
    await eager.drain();
    expect(published.map((b) => b.length)).toEqual([2, 1]);
    expect(eager.stats).toEqual({ published: 3, leftToRelay: 2 });
    expect(await store.countOutbox()).toBe(2);
    expect(store.relayWakeups).toBe(1);
  });
});
