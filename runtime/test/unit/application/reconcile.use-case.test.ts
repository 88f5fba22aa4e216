import { describe, expect, it } from 'vitest';
import { createReconciler } from '../../../src/application/reconcile.use-case.js';
import type { Job } from '../../../src/domain/job.entity.js';
import type { JobQueue, QueueMessage, QueueMessageState } from '../../../src/ports/job-queue.port.js';
import type { JobReconciliation, ReconcileCandidate } from '../../../src/ports/job-store.port.js';
import { SILENT_LOGGER } from '../../../src/ports/logger.port.js';

const job = (id: string, over: Partial<Job> = {}): Job =>
  ({
    id,
    queue: 'default',
    state: 'queued',
    attempts: 1,
    priority: 0,
    runAt: new Date(0),
    requestId: null,
    fanOutTotal: null,
    ...over,
  }) as Job;

function setup(candidates: ReconcileCandidate[], states: Record<string, QueueMessageState>) {
  const published: QueueMessage[] = [];
  const deadLettered: string[] = [];
  const store: JobReconciliation = {
    reconcileCandidates: async (_grace: number, after: string | null) => (after === null ? candidates : []),
    deadLetterAbandoned: async (id: string) => {
      deadLettered.push(id);
      return job(id, { state: 'dead_lettered' });
    },
  };
  const queue: JobQueue = {
    publish: async (m) => {
      published.push(...m);
    },
    inspect: async (_q, kind, id) => states[`${kind}:${id}`] ?? { present: false },
    discard: async () => undefined,
  };
  return {
    run: createReconciler({ store, queue, logger: SILENT_LOGGER, graceMs: 0 }),
    published,
    deadLettered,
  };
}

describe('reconciler', () => {
  it('re-publishes non-terminal jobs whose message is missing and leaves live ones alone', async () => {
    const r = setup(
      [
        { job: job('a'), childrenDone: null },
        { job: job('b', { state: 'running' }), childrenDone: null },
      ],
      { 'run:b': { present: true, finished: false } },
    );
    expect(await r.run()).toEqual({ checked: 2, republished: 1, deadLettered: 0 });
    expect(r.published).toEqual([expect.objectContaining({ jobId: 'a', kind: 'run', replace: false })]);
  });

  it('dead-letters a running job the queue gave up on once its attempts are used up', async () => {
    const stalled = {
      present: true as const,
      finished: true as const,
      failedReason: 'job stalled more than allowable limit',
    };
    const r = setup(
      [
        { job: job('s', { state: 'running', attempts: 2, maxAttempts: 2 }), childrenDone: null },
        { job: job('v', { state: 'running', attempts: 1, maxAttempts: 3 }), childrenDone: null },
      ],
      { 'run:s': stalled, 'run:v': stalled },
    );
    expect(await r.run()).toMatchObject({ deadLettered: 1, republished: 1 });
    expect(r.deadLettered).toEqual(['s']);
    // A bystander of a crashing worker keeps its remaining attempts.
    expect(r.published).toEqual([expect.objectContaining({ jobId: 'v', replace: true })]);
  });

  it('replaces a finished message of a queued job (e.g. after RetryJob)', async () => {
    const r = setup([{ job: job('q'), childrenDone: null }], {
      'run:q': { present: true, finished: true, failedReason: 'job stalled more than allowable limit' },
    });
    await r.run();
    expect(r.deadLettered).toEqual([]);
    expect(r.published).toEqual([expect.objectContaining({ jobId: 'q', replace: true })]);
  });

  it('waits for fan-out children, then re-publishes the aggregate step', async () => {
    const waiting = setup([{ job: job('p', { state: 'running', fanOutTotal: 3 }), childrenDone: false }], {});
    expect(await waiting.run()).toMatchObject({ republished: 0 });
    const done = setup(
      [{ job: job('p', { state: 'running', fanOutTotal: 3, attempts: 2 }), childrenDone: true }],
      {},
    );
    await done.run();
    expect(done.published).toEqual([expect.objectContaining({ jobId: 'p', kind: 'aggregate', attempt: 2 })]);
  });
});
