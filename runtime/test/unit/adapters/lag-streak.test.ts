import { describe, expect, it } from 'vitest';
import { LagStreak, windowLagMs } from '../../../src/adapters/http/edge/limits.plugin.js';

/**
 * The overload decision on event-loop lag, fed with sample windows instead of real time: a test
 * that blocks the loop for real cannot tell one stall from a busy machine's own lag.
 */
describe('event-loop lag: one stall is not overload, lag that persists is', () => {
  const interval = 50;
  const resolution = 10;

  it('measures a window from its timer ticks, or from how late it closed when none ticked', () => {
    expect(windowLagMs(5, 12, interval, interval, resolution)).toBe(2);
    expect(windowLagMs(5, 4, interval, interval, resolution)).toBe(0);
    // Blocked throughout: no tick, the window closed 300 ms late.
    expect(windowLagMs(0, 0, 350, interval, resolution)).toBe(300);
  });

  it('a single lagging window is followed by normal ones: the streak never reaches 2', () => {
    const streak = new LagStreak(40);
    const windows = [1, 0, 310, 2, 1, 0, 3];
    const streaks = windows.map((lag) => streak.record(lag));
    expect(Math.max(...streaks)).toBe(1);
    expect(streak.consecutiveOver).toBe(0);
  });

  it('lag over the limit in consecutive windows builds a streak; one normal window resets it', () => {
    const streak = new LagStreak(40);
    expect([100, 120, 90].map((lag) => streak.record(lag))).toEqual([1, 2, 3]);
    expect(streak.record(40)).toBe(0);
    expect(streak.record(41)).toBe(1);
  });
});
