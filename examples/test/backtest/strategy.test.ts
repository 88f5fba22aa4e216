import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  countTrades,
  crossoverSignals,
  nextBarPositions,
  simpleReturns,
  strategyReturns,
} from '../../src/backtest/strategy.js';

/*
 * Hand-computed case used below: prices [10, 11, 12, 11, 10, 11, 12, 13], fast 1, slow 2.
 *   SMA1 = prices; SMA2 = [NaN, 10.5, 11.5, 11.5, 10.5, 10.5, 11.5, 12.5]
 *   signal (SMA1 > SMA2): [0, 11>10.5, 12>11.5, 11>11.5, 10>10.5, 11>10.5, 12>11.5, 13>12.5]
 *                       = [0, 1, 1, 0, 0, 1, 1, 1]
 *   position = signal of the previous bar = [0, 0, 1, 1, 0, 0, 1, 1]
 *   returns r[k] = position[k] × (p[k+1]/p[k] − 1):
 *     [0, 0, 11/12 − 1, 10/11 − 1, 0, 0, 13/12 − 1] = [0, 0, −1/12, −1/11, 0, 0, 1/12]
 */
const PRICES = [10, 11, 12, 11, 10, 11, 12, 13];

describe('crossoverSignals', () => {
  it('is long exactly where the fast SMA is above the slow SMA', () => {
    expect([...crossoverSignals(PRICES, 1, 2)]).toEqual([0, 1, 1, 0, 0, 1, 1, 1]);
  });

  it('is flat until the slow SMA is defined', () => {
    // slow 3: SMA3 first defined at bar 2; rising prices → long from bar 2 on
    expect([...crossoverSignals([1, 2, 3, 4], 1, 3)]).toEqual([0, 0, 1, 1]);
  });
});

describe('nextBarPositions', () => {
  it('trades each signal at the next bar and starts flat', () => {
    expect([...nextBarPositions([0, 1, 1, 0, 0, 1, 1, 1])]).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect([...nextBarPositions([1])]).toEqual([0]);
  });
});

describe('strategyReturns', () => {
  it('earns the next move only while long', () => {
    const r = strategyReturns(PRICES, [0, 0, 1, 1, 0, 0, 1, 1]);
    expect(r).toHaveLength(7);
    const expected = [0, 0, 11 / 12 - 1, 10 / 11 - 1, 0, 0, 13 / 12 - 1];
    expected.forEach((v, i) => expect(r[i]).toBeCloseTo(v, 12));
  });

  it('is empty for a single price', () => {
    expect(strategyReturns([5], [1])).toHaveLength(0);
  });
});

describe('simpleReturns', () => {
  it('is the bar-to-bar change', () => {
    // 10 → 11: +10 %; 11 → 9.9: −10 %
    const r = simpleReturns([10, 11, 9.9]);
    expect(r[0]).toBeCloseTo(0.1, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
  });
});

describe('countTrades', () => {
  it('counts flat → long entries, including one still open', () => {
    expect(countTrades([0, 0, 1, 1, 0, 0, 1, 1])).toBe(2);
    expect(countTrades([1, 1, 0])).toBe(1);
    expect(countTrades([0, 0])).toBe(0);
  });
});

describe('no look-ahead (property)', () => {
  it('changing prices from bar k on never changes positions up to k or returns before k − 1', () => {
    const price = fc.double({ min: 1, max: 1000, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(price, { minLength: 4, maxLength: 60 }),
        fc.array(price, { minLength: 60, maxLength: 60 }),
        fc.nat(),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 10 }),
        (prices, replacement, kSeed, fast, extra) => {
          const slow = fast + extra;
          const k = 1 + (kSeed % (prices.length - 1));
          const changed = prices.map((p, i) => (i >= k ? (replacement[i] as number) : p));
          const posA = nextBarPositions(crossoverSignals(prices, fast, slow));
          const posB = nextBarPositions(crossoverSignals(changed, fast, slow));
          expect([...posB.slice(0, k + 1)]).toEqual([...posA.slice(0, k + 1)]);
          const rA = strategyReturns(prices, posA);
          const rB = strategyReturns(changed, posB);
          expect([...rB.slice(0, k - 1)]).toEqual([...rA.slice(0, k - 1)]);
        },
      ),
    );
  });
});
