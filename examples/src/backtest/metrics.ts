/**
 * Performance metrics over per-period simple returns. Pure functions.
 * Sharpe ratio uses a zero risk-free rate and the sample standard deviation (n − 1), annualized by
 * √periodsPerYear (12 for monthly bars, 252 for daily trading days).
 */

/** Compounded return: ∏(1 + r) − 1. */
export function totalReturn(returns: ArrayLike<number>): number {
  let growth = 1;
  for (let i = 0; i < returns.length; i++) growth *= 1 + (returns[i] as number);
  return growth - 1;
}

/** Equity curve starting at 1: equity[0] = 1, equity[i] = equity[i-1] × (1 + r[i-1]). */
export function equityCurve(returns: ArrayLike<number>): Float64Array {
  const out = new Float64Array(returns.length + 1);
  out[0] = 1;
  for (let i = 0; i < returns.length; i++) out[i + 1] = (out[i] as number) * (1 + (returns[i] as number));
  return out;
}

/**
 * Annualized Sharpe ratio: mean(r) / stdev(r) × √periodsPerYear. 0 when there are fewer than two
 * returns or they do not vary (e.g. a strategy that never trades), so the result is always finite.
 */
export function sharpeRatio(returns: ArrayLike<number>, periodsPerYear: number): number {
  const n = returns.length;
  if (n < 2) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += returns[i] as number;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += ((returns[i] as number) - mean) ** 2;
  const stdev = Math.sqrt(squares / (n - 1));
  // Relative threshold: constant returns leave rounding noise around 1e-17, not a real spread.
  if (!(stdev > 1e-12 * Math.max(1, Math.abs(mean)))) return 0;
  return (mean / stdev) * Math.sqrt(periodsPerYear);
}

/** Largest peak-to-trough fall of the equity curve, as a fraction of the peak: in [0, 1]. */
export function maxDrawdown(returns: ArrayLike<number>): number {
  let equity = 1;
  let peak = 1;
  let worst = 0;
  for (let i = 0; i < returns.length; i++) {
    equity *= 1 + (returns[i] as number);
    if (equity > peak) peak = equity;
    const drawdown = (peak - equity) / peak;
    if (drawdown > worst) worst = drawdown;
  }
  return Math.min(1, worst);
}
