import { describe, expect, it } from 'vitest';
import {
  JOB_STATES,
  canTransition,
  isJobState,
  isTerminal,
  nextStates,
  statesLeadingTo,
} from '../../../src/domain/job-state.js';

describe('JobState machine', () => {
  it('allows exactly the documented transitions', () => {
    const allowed = JOB_STATES.flatMap((from) =>
      JOB_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'queued>running',
        'queued>cancelled',
        'running>succeeded',
        'running>failed',
        'running>cancelled',
        'failed>queued',
        'failed>dead_lettered',
        'dead_lettered>queued',
        'cancelled>queued',
      ].sort(),
    );
  });

  it('never leaves succeeded', () => {
    expect(nextStates('succeeded')).toEqual([]);
  });

  it('marks succeeded, dead_lettered and cancelled terminal', () => {
    expect(JOB_STATES.filter(isTerminal)).toEqual(['succeeded', 'dead_lettered', 'cancelled']);
  });

  it('lists the states that lead to a state', () => {
    expect(statesLeadingTo('queued').sort()).toEqual(['cancelled', 'dead_lettered', 'failed']);
    expect(statesLeadingTo('running')).toEqual(['queued']);
  });

  it('recognises state names', () => {
    expect(isJobState('queued')).toBe(true);
    expect(isJobState('JOB_STATE_QUEUED')).toBe(false);
  });
});
