import { describe, expect, it } from 'vitest';
import { decideStart, mayWrite } from '../../../src/domain/fencing.js';
import { idempotencyKeyProblem } from '../../../src/domain/job.entity.js';
import type { JobState } from '../../../src/domain/job-state.js';

const view = (state: JobState, attempts = 1) => ({
  state,
  attemptToken: 't1',
  attempts,
  maxAttempts: 3,
});

describe('fencing', () => {
  it('starts queued jobs', () => {
    expect(decideStart(view('queued'))).toEqual({ action: 'start' });
  });

  it('takes over a running job whose attempt lost its lock while attempts remain', () => {
    expect(decideStart(view('running', 2))).toEqual({ action: 'take_over' });
    expect(decideStart(view('running', 3))).toEqual({ action: 'dead_letter' });
  });

  it('skips terminal and missing jobs', () => {
    for (const s of ['succeeded', 'dead_lettered', 'cancelled', 'failed'] as const) {
      expect(decideStart(view(s))).toEqual({ action: 'skip', reason: s });
    }
    expect(decideStart(null)).toEqual({ action: 'skip', reason: 'missing' });
  });

  it('lets only the current attempt of a running job write', () => {
    expect(mayWrite(view('running'), 't1')).toBe(true);
    expect(mayWrite(view('running'), 't0')).toBe(false);
    expect(mayWrite(view('cancelled'), 't1')).toBe(false);
    expect(mayWrite(null, 't1')).toBe(false);
  });
});

describe('idempotency keys', () => {
  it('accepts printable keys up to 255 characters', () => {
    expect(idempotencyKeyProblem('order-42:retry')).toBeNull();
    expect(idempotencyKeyProblem('k'.repeat(255))).toBeNull();
  });

  it('refuses empty, long and control-character keys', () => {
    expect(idempotencyKeyProblem('')).toMatch(/empty/);
    expect(idempotencyKeyProblem('k'.repeat(256))).toMatch(/at most 255/);
    expect(idempotencyKeyProblem('a\nb')).toMatch(/control/);
  });
});
