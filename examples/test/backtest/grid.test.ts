import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunk, countParameterSets, expandRange, parameterSets, rangeSize } from '../../src/backtest/grid.js';

describe('parameter grid', () => {
  it('expands a range by step, inclusive of `to` when reached', () => {
    expect(expandRange({ from: 2, to: 10, step: 4 })).toEqual([2, 6, 10]);
    expect(expandRange({ from: 2, to: 9, step: 4 })).toEqual([2, 6]);
    expect(rangeSize({ from: 2, to: 9, step: 4 })).toBe(2);
    expect(rangeSize({ from: 5, to: 4, step: 1 })).toBe(0);
  });

  it('skips pairs with fast ≥ slow', () => {
    // fast 2..4 × slow 3..4: (2,3) (2,4) (3,4); (3,3) (4,3) (4,4) skipped
    const grid = { fast: { from: 2, to: 4, step: 1 }, slow: { from: 3, to: 4, step: 1 } };
    expect(parameterSets(grid)).toEqual([
      { fast: 2, slow: 3 },
      { fast: 2, slow: 4 },
      { fast: 3, slow: 4 },
    ]);
    expect(countParameterSets(grid)).toBe(3);
  });

  it('counts exactly what it enumerates (property)', () => {
    const range = fc
      .record({
        from: fc.integer({ min: 1, max: 30 }),
        len: fc.integer({ min: 0, max: 30 }),
        step: fc.integer({ min: 1, max: 7 }),
      })
      .map(({ from, len, step }) => ({ from, to: from + len, step }));
    fc.assert(
      fc.property(range, range, (fast, slow) => {
        expect(countParameterSets({ fast, slow })).toBe(parameterSets({ fast, slow }).length);
        expect(rangeSize(fast)).toBe(expandRange(fast).length);
      }),
    );
  });

  it('chunks into consecutive slices that concatenate back', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 10 }), (items, size) => {
        const parts = chunk(items, size);
        expect(parts.flat()).toEqual(items);
        expect(parts.every((p) => p.length >= 1 && p.length <= size)).toBe(true);
      }),
    );
    expect(() => chunk([1], 0)).toThrow("'size' (0) must be an integer ≥ 1");
  });
});
