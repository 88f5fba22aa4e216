import { describe, expect, it } from 'vitest';
import { ExactWindowSums } from '../../src/backtest/exact.js';
import { loadSp500 } from '../../src/backtest/sp500.js';
import { sma } from '../../src/backtest/indicators.js';
import { crossoverSignals } from '../../src/backtest/strategy.js';

/** Varied prices, then a flat run where every moving average equals 123.45 exactly. */
const TIE_SERIES = [
  1234.56,
  0.07,
  99999.99,
  17.3,
  0.01,
  4444.44,
  2.5,
  3.3,
  ...Array<number>(40).fill(123.45),
];

describe('exact moving-average comparison', () => {
  it('keeps an exact tie flat whatever the series start (accumulated rounding differs per start)', () => {
    // Plain floating-point moving averages disagree about the tie on some starts:
    const floatLong = (prices: number[]) => {
      const f = sma(prices, 2);
      const s = sma(prices, 5);
      return prices.map((_, i) => ((f[i] as number) > (s[i] as number) ? 1 : 0));
    };
    const flatRun = (start: number) => TIE_SERIES.length - 40 - start + 5;
    const spurious = [0, 1, 2, 3, 4, 5, 6, 7].filter((start) =>
      floatLong(TIE_SERIES.slice(start))
        .slice(flatRun(start))
        .some((x) => x === 1),
    );
    expect(spurious.length).toBeGreaterThan(0);
    for (let start = 0; start < 8; start++) {
      const prices = TIE_SERIES.slice(start);
      // The exact comparison does not: inside the flat run, both averages are equal, so flat.
      const signals = crossoverSignals(prices, 2, 5);
      expect(Array.from(signals.slice(flatRun(start))).every((x) => x === 0)).toBe(true);
    }
  });

  it('still sees differences far below the rounding of the sums', () => {
    const x = 1e12;
    const ulp = 2 ** -13; // spacing of doubles near 1e12
    const up = [x, x, x, x + ulp];
    // The float sum 3x + (x + ulp) rounds the ulp away (spacing near 4e12 is 2^-11)…
    expect(x * 3 + (x + ulp)).toBe(4 * x);
    // …but the exact comparison sees the last bar above the 4-bar mean, and a tie where there is one.
    expect(new ExactWindowSums(up).compare(3, 1, 4)).toBe(1);
    expect(new ExactWindowSums(up).compare(2, 1, 3)).toBe(0);
    expect(new ExactWindowSums([x, x, x, x - ulp]).compare(3, 1, 4)).toBe(-1);
    expect(Array.from(crossoverSignals(up, 1, 4))).toEqual([0, 0, 0, 1]);
  });

  it('gives every S&P 500 pair the same signals whatever month the series starts', () => {
    const prices = loadSp500().map((r) => r.price);
    const pairs: [number, number][] = [];
    for (let fast = 1; fast <= 24; fast++)
      for (let slow = fast + 1; slow <= 60; slow += 3) pairs.push([fast, slow]);
    let compared = 0;
    for (const [fast, slow] of pairs) {
      const whole = crossoverSignals(prices, fast, slow);
      for (const start of [1, 7, 100, 613, 1000]) {
        const later = crossoverSignals(prices.slice(start), fast, slow);
        // Once both windows are full in the shorter series, the signals must agree bar for bar.
        for (let i = slow - 1; i < later.length; i++) {
          if (later[i] !== whole[i + start])
            throw new Error(`${fast}/${slow} from ${start}: bar ${i} differs`);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1_000_000);
  });
});
