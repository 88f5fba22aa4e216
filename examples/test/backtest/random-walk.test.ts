import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomWalk } from '../../src/backtest/random-walk.js';
import { hash32, mulberry32, uniformFrom } from '../../src/random.js';

const base = { seed: 42, length: 200, start: 100, drift: 0, volatility: 0.02 };

describe('randomWalk', () => {
  it('is the same series for the same options and another for another seed', () => {
    expect([...randomWalk(base)]).toEqual([...randomWalk(base)]);
    expect([...randomWalk({ ...base, seed: 43 })]).not.toEqual([...randomWalk(base)]);
  });

  it('starts at start and has the requested length', () => {
    const walk = randomWalk(base);
    expect(walk).toHaveLength(200);
    expect(walk[0]).toBe(100);
  });

  it('is a constant geometric growth without volatility', () => {
    // p[i] = 100 × e^(0.01 i): p[1] = 100 × e^0.01 ≈ 101.005, p[2] = 100 × e^0.02 ≈ 102.020
    const walk = randomWalk({ ...base, length: 3, drift: 0.01, volatility: 0 });
    expect(walk[1]).toBeCloseTo(100 * Math.exp(0.01), 9);
    expect(walk[2]).toBeCloseTo(100 * Math.exp(0.02), 9);
  });

  it('stays strictly positive and finite (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (seed, volatility) => {
        for (const p of randomWalk({ ...base, seed, volatility })) {
          expect(p).toBeGreaterThan(0);
          expect(Number.isFinite(p)).toBe(true);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('seeded randomness', () => {
  it('mulberry32 yields the same uniform [0, 1) stream for one seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 100 }, () => a());
    expect(xs).toEqual(Array.from({ length: 100 }, () => b()));
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('hash32 depends on every input and their order', () => {
    expect(hash32(1, 2)).toBe(hash32(1, 2));
    expect(hash32(1, 2)).not.toBe(hash32(2, 1));
    expect(hash32(2 ** 40)).not.toBe(hash32(0));
    expect(uniformFrom(3, 4)).toBeLessThan(1);
  });
});
