/**
 * Exact comparison of two moving averages, whatever floating-point accumulation does.
 *
 * `fast SMA > slow SMA` is `sumFast / f > sumSlow / s`, i.e. `sumFast · s > sumSlow · f`. Window
 * sums taken from floating-point prefix sums carry rounding that depends on everything before the
 * window (so on where the series starts), and prices quoted to cents tie exactly and often. So the
 * comparison is a filtered exact predicate: the floating-point difference decides when it is
 * larger than a proven bound on its rounding error; otherwise the window sums are recomputed
 * exactly (every double is an integer times a power of two: BigInt arithmetic) and an exact tie
 * compares equal, i.e. flat.
 */

const U = 2 ** -53; // unit roundoff of binary64

/** Exact integer value of `x · 2^-minExponent` for a finite double `x ≥ 0`. */
function scaled(x: number, minExponent: number): bigint {
  if (x === 0) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0)
    exponent = -1074; // subnormal
  else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  return mantissa << BigInt(exponent - minExponent);
}

/** Exponent of the least significant bit of `x` (as in `scaled`). */
function lsbExponent(x: number): number {
  if (x === 0) return Number.POSITIVE_INFINITY;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const biased = (view.getUint32(0) >>> 20) & 0x7ff;
  return biased === 0 ? -1074 : biased - 1075;
}

/**
 * Window sums of one price series, compared exactly. Prices must be finite and ≥ 0 (the payload
 * schemas require > 0).
 */
export class ExactWindowSums {
  /** Floating-point prefix sums: prefix[i] = prices[0] + … + prices[i-1]. */
  readonly prefix: Float64Array;
  private exact: bigint[] | undefined;
  private readonly errorPerSum: number;

  constructor(private readonly prices: ArrayLike<number>) {
    const n = prices.length;
    this.prefix = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) this.prefix[i + 1] = (this.prefix[i] as number) + (prices[i] as number);
    // Each prefix sum of n positive terms is within γ_n · total of the exact one
    // (γ_n = n·u / (1 − n·u)); a window sum is a difference of two of them, plus its own rounding.
    const total = this.prefix[n] as number;
    const gamma = (n * U) / Math.max(1e-300, 1 - n * U);
    this.errorPerSum = 2 * gamma * total * (1 + 2 * U) + 2 * U * total;
  }

  /** Sign of `sum(window a ending at i) · bWindow − sum(window b ending at i) · aWindow`: -1, 0 or 1. */
  compare(i: number, a: number, b: number): -1 | 0 | 1 {
    const p = this.prefix;
    const sa = (p[i + 1] as number) - (p[i + 1 - a] as number);
    const sb = (p[i + 1] as number) - (p[i + 1 - b] as number);
    const lhs = sa * b;
    const rhs = sb * a;
    const diff = lhs - rhs;
    // Error of lhs − rhs: the window sums' errors scaled by the windows, plus three roundings.
    const bound = (a + b) * this.errorPerSum * (1 + 4 * U) + 4 * U * (Math.abs(lhs) + Math.abs(rhs));
    if (diff > bound) return 1;
    if (diff < -bound) return -1;
    return this.exactCompare(i, a, b);
  }

  private exactCompare(i: number, a: number, b: number): -1 | 0 | 1 {
    const e = this.exactPrefix();
    const sa = (e[i + 1] as bigint) - (e[i + 1 - a] as bigint);
    const sb = (e[i + 1] as bigint) - (e[i + 1 - b] as bigint);
    const d = sa * BigInt(b) - sb * BigInt(a);
    return d > 0n ? 1 : d < 0n ? -1 : 0;
  }

  /** Exact prefix sums, scaled by a common power of two; built once, on the first near-tie. */
  private exactPrefix(): bigint[] {
    if (this.exact) return this.exact;
    let minExponent = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.prices.length; i++) {
      minExponent = Math.min(minExponent, lsbExponent(this.prices[i] as number));
    }
    if (!Number.isFinite(minExponent)) minExponent = 0;
    const out: bigint[] = new Array<bigint>(this.prices.length + 1);
    out[0] = 0n;
    for (let i = 0; i < this.prices.length; i++) {
      out[i + 1] = (out[i] as bigint) + scaled(this.prices[i] as number, minExponent);
    }
    this.exact = out;
    return out;
  }
}
