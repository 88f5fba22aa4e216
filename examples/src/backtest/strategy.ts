/**
 * The moving-average-crossover strategy: long when the fast SMA is above the slow SMA, flat
 * otherwise. A signal seen at the close of bar i is traded at bar i+1 (no look-ahead): the
 * position held from bar i+1 to bar i+2 is the signal of bar i.
 */
import { ExactWindowSums } from './exact.js';

/**
 * 1 where fast SMA > slow SMA at bar i (both defined), else 0: an exact tie is flat. Uses
 * prices[0..i] only. The comparison is exact (see exact.ts), so the signal of a bar does not
 * depend on where the series starts or on floating-point accumulation before it.
 */
export function crossoverSignals(
  prices: ArrayLike<number>,
  fast: number,
  slow: number,
  sums: ExactWindowSums = new ExactWindowSums(prices),
): Uint8Array {
  for (const [name, w] of [
    ['fast', fast],
    ['slow', slow],
  ] as const) {
    if (!Number.isInteger(w) || w < 1) throw new RangeError(`'${name}' (${w}) must be an integer ≥ 1`);
  }
  const out = new Uint8Array(prices.length);
  // Flat until both windows are full.
  for (let i = Math.max(fast, slow) - 1; i < prices.length; i++) {
    out[i] = sums.compare(i, fast, slow) > 0 ? 1 : 0;
  }
  return out;
}

/** Position held at (and entered at the price of) bar i = signal of bar i-1; flat at bar 0. */
export function nextBarPositions(signals: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(signals.length);
  for (let i = 1; i < signals.length; i++) out[i] = signals[i - 1] as number;
  return out;
}

/**
 * Per-period strategy returns: r[i-1] = position[i-1] × (prices[i] / prices[i-1] − 1) for i ≥ 1,
 * i.e. the position entered at bar i-1 earns the move to bar i. Length: prices.length − 1.
 */
export function strategyReturns(prices: ArrayLike<number>, positions: ArrayLike<number>): Float64Array {
  const n = Math.max(0, prices.length - 1);
  const out = new Float64Array(n);
  for (let i = 1; i <= n; i++) {
    const pos = positions[i - 1] as number;
    out[i - 1] = pos === 0 ? 0 : pos * ((prices[i] as number) / (prices[i - 1] as number) - 1);
  }
  return out;
}

/** Buy-and-hold returns: r[i-1] = prices[i] / prices[i-1] − 1. */
export function simpleReturns(prices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, prices.length - 1));
  for (let i = 1; i < prices.length; i++) out[i - 1] = (prices[i] as number) / (prices[i - 1] as number) - 1;
  return out;
}

/** Round trips: the number of flat → long entries (an open position at the end counts). */
export function countTrades(positions: ArrayLike<number>): number {
  let trades = 0;
  let previous = 0;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i] as number;
    if (p !== 0 && previous === 0) trades++;
    previous = p;
  }
  return trades;
}
