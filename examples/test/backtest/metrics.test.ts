import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equityCurve, maxDrawdown, sharpeRatio, totalReturn } from '../../src/backtest/metrics.js';

describe('totalReturn', () => {
  it('compounds', () => {
    // (1 + 0.1) × (1 − 0.1) − 1 = 1.1 × 0.9 − 1 = −0.01
    expect(totalReturn([0.1, -0.1])).toBeCloseTo(-0.01, 12);
    // strategy case of strategy.test.ts: (11/12) × (10/11) × (13/12) − 1 = 130/144 − 1 = −14/144
    expect(totalReturn([0, 0, -1 / 12, -1 / 11, 0, 0, 1 / 12])).toBeCloseTo(-14 / 144, 12);
    expect(totalReturn([])).toBe(0);
  });
});

describe('equityCurve', () => {
  it('starts at 1 and multiplies', () => {
    // 1 → 1 × 1.5 = 1.5 → 1.5 × 0.5 = 0.75
    expect([...equityCurve([0.5, -0.5])]).toEqual([1, 1.5, 0.75]);
  });
});

describe('sharpeRatio', () => {
  it('is mean / sample stdev × √periodsPerYear', () => {
    // [0.02, 0.04, 0.06]: mean 0.04; deviations −0.02, 0, 0.02; sample variance 0.0008 / 2 = 0.0004;
    // stdev 0.02; ratio 2; annualized monthly 2 × √12 ≈ 6.9282
    expect(sharpeRatio([0.02, 0.04, 0.06], 1)).toBeCloseTo(2, 10);
    expect(sharpeRatio([0.02, 0.04, 0.06], 12)).toBeCloseTo(2 * Math.sqrt(12), 10);
    // [0.01, 0.03]: mean 0.02; stdev √((0.01² + 0.01²) / 1) = √0.0002; ratio 0.02 / √0.0002 = √2
    expect(sharpeRatio([0.01, 0.03], 1)).toBeCloseTo(Math.SQRT2, 10);
  });

  it('is negative when the mean is negative', () => {
    expect(sharpeRatio([-0.02, -0.04, -0.06], 1)).toBeCloseTo(-2, 10);
  });

  it('is 0 without variation or with fewer than two returns', () => {
    expect(sharpeRatio([0, 0, 0], 12)).toBe(0);
    expect(sharpeRatio([0.01, 0.01, 0.01], 12)).toBe(0);
    expect(sharpeRatio([0.05], 12)).toBe(0);
    expect(sharpeRatio([], 12)).toBe(0);
  });
});

describe('maxDrawdown', () => {
  it('is the largest fall from a peak, as a fraction of the peak', () => {
    // equity 1 → 1.5 → 0.75 → 1.5: peak 1.5, trough 0.75 → (1.5 − 0.75) / 1.5 = 0.5
    expect(maxDrawdown([0.5, -0.5, 1])).toBeCloseTo(0.5, 12);
    // equity 1 → 0.8 → 0.6: peak is the start, (1 − 0.6) / 1 = 0.4
    expect(maxDrawdown([-0.2, -0.25])).toBeCloseTo(0.4, 12);
    // strategy case: equity 1, 1, 1, 11/12, 10/12, …: worst 1 − 10/12 = 1/6
    expect(maxDrawdown([0, 0, -1 / 12, -1 / 11, 0, 0, 1 / 12])).toBeCloseTo(1 / 6, 12);
  });

  it('is 0 when equity never falls', () => {
    expect(maxDrawdown([0.1, 0, 0.2])).toBe(0);
    expect(maxDrawdown([])).toBe(0);
  });

  it('stays within [0, 1] for any returns above −100 % (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -0.999, max: 5, noNaN: true })), (returns) => {
        const dd = maxDrawdown(returns);
        expect(dd).toBeGreaterThanOrEqual(0);
        expect(dd).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is at least the worst single-period loss (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -0.999, max: 5, noNaN: true }), { minLength: 1 }), (returns) => {
        const worst = Math.min(0, ...returns);
        expect(maxDrawdown(returns)).toBeGreaterThanOrEqual(-worst - 1e-12);
      }),
    );
  });
});
