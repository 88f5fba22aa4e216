import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prefixSums, sma } from '../../src/backtest/indicators.js';

describe('prefixSums', () => {
  it('starts at 0 and accumulates', () => {
    // [1, 2, 3] → [0, 1, 1+2=3, 3+3=6]
    expect([...prefixSums([1, 2, 3])]).toEqual([0, 1, 3, 6]);
  });
});

describe('sma', () => {
  it('averages the window ending at each bar, NaN before the first full window', () => {
    // window 3 over [1, 2, 3, 4, 5]: bar 2 = (1+2+3)/3 = 2, bar 3 = (2+3+4)/3 = 3, bar 4 = (3+4+5)/3 = 4
    expect([...sma([1, 2, 3, 4, 5], 3)]).toEqual([NaN, NaN, 2, 3, 4]);
  });

  it('is the series itself for window 1', () => {
    expect([...sma([4, 8, 15], 1)]).toEqual([4, 8, 15]);
  });

  it('is all NaN when the window is longer than the series', () => {
    expect([...sma([1, 2], 3)]).toEqual([NaN, NaN]);
  });

  it('rejects a window below 1 or not an integer, naming the value', () => {
    expect(() => sma([1, 2], 0)).toThrow("'window' (0) must be an integer ≥ 1");
    expect(() => sma([1, 2], 1.5)).toThrow("'window' (1.5)");
  });

  it('matches the direct mean of the window (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (prices, window) => {
          const out = sma(prices, window);
          for (let i = window - 1; i < prices.length; i++) {
            const direct = prices.slice(i - window + 1, i + 1).reduce((a, b) => a + b, 0) / window;
            expect(out[i]).toBeCloseTo(direct, 6);
          }
        },
      ),
    );
  });
});
