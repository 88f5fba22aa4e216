import { randomUUID } from 'node:crypto';
import type { NewJob } from '../../src/ports/job-store.port.js';

/** A submission as the store receives it: a `demo.sleep` of client `alice` under `key`. */
export const newJob = (key: string = randomUUID(), over: Partial<NewJob> = {}): NewJob => ({
  id: randomUUID(),
  clientId: 'alice',
  idempotencyKey: key,
  requestHash: `hash-${key}`,
  type: 'demo.sleep',
  payload: { durationMs: 1 },
  priority: 0,
  runAt: new Date(),
  maxAttempts: 3,
  mode: 'pooled',
  queue: 'default',
  requestId: null,
  ...over,
});
