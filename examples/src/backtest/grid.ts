/** The parameter grid of a sweep: every (fast, slow) window pair with fast < slow. */

export interface WindowRange {
  readonly from: number;
  readonly to: number;
  readonly step: number;
}

export interface ParameterGrid {
  readonly fast: WindowRange;
  readonly slow: WindowRange;
}

export interface ParameterSet {
  readonly fast: number;
  readonly slow: number;
}

/** from, from + step, … ≤ to. */
export function expandRange(range: WindowRange): number[] {
  const out: number[] = [];
  for (let v = range.from; v <= range.to; v += range.step) out.push(v);
  return out;
}

/** How many values `expandRange` yields, without building them. */
export function rangeSize(range: WindowRange): number {
  return range.to < range.from ? 0 : Math.floor((range.to - range.from) / range.step) + 1;
}

/** Values of `range` strictly greater than `x`. */
function countAbove(range: WindowRange, x: number): number {
  if (range.to <= x) return 0;
  if (range.from > x) return rangeSize(range);
  const firstIndex = Math.floor((x - range.from) / range.step) + 1;
  return rangeSize(range) - firstIndex;
}

/** Number of pairs with fast < slow, computed arithmetically (cheap even for huge ranges). */
export function countParameterSets(grid: ParameterGrid): number {
  let count = 0;
  for (let fast = grid.fast.from; fast <= grid.fast.to; fast += grid.fast.step)
    count += countAbove(grid.slow, fast);
  return count;
}

/** Every pair with fast < slow (pairs with fast ≥ slow are skipped), fast-major order. */
export function parameterSets(grid: ParameterGrid): ParameterSet[] {
  const slows = expandRange(grid.slow);
  const out: ParameterSet[] = [];
  for (const fast of expandRange(grid.fast)) {
    for (const slow of slows) if (fast < slow) out.push({ fast, slow });
  }
  return out;
}

/** Consecutive slices of at most `size` items. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`'size' (${size}) must be an integer ≥ 1`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
