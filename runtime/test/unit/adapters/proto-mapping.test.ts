import { describe, expect, it } from 'vitest';
import { jobToProto } from '../../../src/adapters/http/proto-mapping.js';
import type { Job } from '../../../src/domain/job.entity.js';
import type { JobState } from '../../../src/domain/job-state.js';

const at = new Date('2026-12-01T00:00:00Z');
const job = (state: JobState, retryable: boolean): Job => ({
  id: '00000000-0000-4000-8000-000000000001',
  clientId: 'alice',
  type: 'demo.sleep',
  payload: {},
  state,
  priority: 0,
  runAt: at,
  attempts: 3,
  maxAttempts: 3,
  progress: 0,
  progressMessage: null,
  result: null,
  error: { code: 'HANDLER.FAILED', message: 'boom', retryable },
  mode: 'pooled',
  queue: 'default',
  idempotencyKey: 'k',
  parentId: null,
  childIndex: null,
  fanOutTotal: null,
  requestId: null,
  createTime: at,
  updateTime: at,
  startTime: at,
  finishTime: at,
});

describe('jobToProto', () => {
  it('never reports a dead-lettered job as retryable, whatever its last failure was', () => {
    expect(jobToProto(job('dead_lettered', true)).error?.retryable).toBe(false);
    expect(jobToProto(job('dead_lettered', false)).error?.retryable).toBe(false);
  });

  it('keeps the failure class while attempts remain', () => {
    expect(jobToProto(job('queued', true)).error?.retryable).toBe(true);
    expect(jobToProto(job('failed', false)).error?.retryable).toBe(false);
  });
});
