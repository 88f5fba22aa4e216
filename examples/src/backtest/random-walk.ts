import { gaussian, mulberry32 } from '../random.js';

export interface RandomWalkOptions {
  readonly seed: number;
  readonly length: number;
  /** First price. */
  readonly start: number;
  /** Mean log return per period. */
  readonly drift: number;
  /** Standard deviation of the log return per period. */
  readonly volatility: number;
}

/**
 * A geometric random walk: p[0] = start, p[i] = p[i-1] × exp(drift + volatility × z_i) with
 * z_i standard normal from a mulberry32 generator seeded by `seed`. Same options, same series;
 * prices stay strictly positive.
 */
export function randomWalk(options: RandomWalkOptions): Float64Array {
  const { seed, length, start, drift, volatility } = options;
  const next = mulberry32(seed);
  const out = new Float64Array(length);
  let price = start;
  for (let i = 0; i < length; i++) {
    if (i > 0) price *= Math.exp(drift + volatility * gaussian(next));
    out[i] = price;
  }
  return out;
}
