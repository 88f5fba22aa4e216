/**
 * Moving averages over a price series. Pure functions; arrays are indexed by bar (oldest first).
 */

/** prefix[i] = prices[0] + … + prices[i-1]; prefix[0] = 0. Makes every window sum O(1). */
export function prefixSums(prices: ArrayLike<number>): Float64Array {
  const prefix = new Float64Array(prices.length + 1);
  for (let i = 0; i < prices.length; i++) prefix[i + 1] = (prefix[i] as number) + (prices[i] as number);
  return prefix;
}

/**
 * Simple moving average of the `window` bars ending at each bar (inclusive): uses data up to bar i
 * only. Bars before the first full window are NaN.
 */
export function sma(prices: ArrayLike<number>, window: number, prefix = prefixSums(prices)): Float64Array {
  if (!Number.isInteger(window) || window < 1)
    throw new RangeError(`'window' (${window}) must be an integer ≥ 1`);
  const out = new Float64Array(prices.length).fill(Number.NaN);
  for (let i = window - 1; i < prices.length; i++) {
    out[i] = ((prefix[i + 1] as number) - (prefix[i + 1 - window] as number)) / window;
  }
  return out;
}
