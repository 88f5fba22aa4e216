import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareResults,
  evaluateParameterSet,
  resolveSeries,
  summarize,
} from '../../src/backtest/evaluate.js';
import type { ParameterResult } from '../../src/backtest/evaluate.js';
import { UnrecoverableJobError } from '@jobplane/sdk';

// Hand-computed in strategy.test.ts / metrics.test.ts: fast 1, slow 2 on these prices gives
// returns [0, 0, −1/12, −1/11, 0, 0, 1/12], total −14/144, drawdown 1/6, 2 trades.
const PRICES = Float64Array.from([10, 11, 12, 11, 10, 11, 12, 13]);

describe('evaluateParameterSet', () => {
  it('combines signals, next-bar positions and metrics', () => {
    const r = evaluateParameterSet(PRICES, { fast: 1, slow: 2 }, 12);
    expect(r.fast).toBe(1);
    expect(r.slow).toBe(2);
    expect(r.totalReturn).toBeCloseTo(-14 / 144, 12);
    expect(r.maxDrawdown).toBeCloseTo(1 / 6, 12);
    expect(r.trades).toBe(2);
    // mean of the 7 returns = (−1/12 − 1/11 + 1/12) / 7 = −1/77 < 0
    expect(r.sharpe).toBeLessThan(0);
  });

  it('is invariant to scaling all prices (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 3, maxLength: 80 }),
        fc.integer({ min: -20, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 10 }),
        (prices, exponent, fast, extra) => {
          // Powers of two scale floating-point numbers exactly, so the results must be identical.
          const factor = 2 ** exponent;
          const a = evaluateParameterSet(Float64Array.from(prices), { fast, slow: fast + extra }, 12);
          const b = evaluateParameterSet(
            Float64Array.from(prices, (p) => p * factor),
            { fast, slow: fast + extra },
            12,
          );
          expect(b).toEqual(a);
        },
      ),
    );
  });
});

describe('resolveSeries', () => {
  it('uses inline prices as given', () => {
    const s = resolveSeries({ prices: [1, 2, 3] });
    expect([...s.prices]).toEqual([1, 2, 3]);
    expect(s.description).toEqual({ kind: 'inline', length: 3 });
  });

  it('reads the bundled S&P 500 series between two months', () => {
    const s = resolveSeries({ series: { kind: 'sp500', from: '1871-01', to: '1871-12' } });
    expect(s.prices).toHaveLength(12);
    expect(s.prices[0]).toBe(4.44); // first data row: 1871-01-01,4.44
    expect(s.description).toEqual({ kind: 'sp500', from: '1871-01', to: '1871-12', length: 12 });
    expect(resolveSeries({ series: { kind: 'sp500' } }).prices.length).toBeGreaterThan(1800);
  });

  it('refuses a month range with fewer than two months', () => {
    expect(() => resolveSeries({ series: { kind: 'sp500', from: '3000-01' } })).toThrow(
      UnrecoverableJobError,
    );
  });

  it('refuses a payload without a series', () => {
    expect(() => resolveSeries({})).toThrow("give exactly one of 'prices' and 'series'");
  });
});

describe('summarize', () => {
  const row = (fast: number, slow: number, sharpe: number, totalReturn = 0): ParameterResult => ({
    fast,
    slow,
    sharpe,
    totalReturn,
    maxDrawdown: 0,
    trades: 1,
  });

  it('ranks by Sharpe, then total return, then shorter windows', () => {
    const rows = [row(1, 5, 0.5), row(2, 5, 0.9, 0.1), row(3, 5, 0.9, 0.2), row(1, 4, 0.9, 0.2)];
    expect([...rows].sort(compareResults).map((r) => `${r.fast}/${r.slow}`)).toEqual([
      '1/4',
      '3/5',
      '2/5',
      '1/5',
    ]);
    const summary = summarize(rows, resolveSeries({ prices: [10, 11, 12] }), 12, 2);
    expect(summary.best).toEqual(row(1, 4, 0.9, 0.2));
    expect(summary.top).toHaveLength(2);
    expect(summary.evaluated).toBe(4);
    // buy and hold 10 → 12 = +20 %
    expect(summary.buyAndHold.totalReturn).toBeCloseTo(0.2, 12);
  });

  it('refuses an empty result set', () => {
    expect(() => summarize([], resolveSeries({ prices: [1, 2] }), 12, 3)).toThrow(
      'no parameter set was evaluated',
    );
  });
});
