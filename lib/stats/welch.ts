/**
 * Welch's unequal-variance t-test.
 *
 * @module
 */
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import { mean, sampleVariance } from "simple-statistics";

/** Outcome of a two-sided Welch test of mean(a) − mean(b). */
export interface WelchResult {
  /** t statistic. */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** mean(a) − mean(b). */
  meanDiff: number;
  /** Standard error of the difference, √(s²a/na + s²b/nb). */
  se: number;
}

/**
 * Two-sided Welch t-test of mean(a) = mean(b), with Welch–Satterthwaite
 * degrees of freedom and the p-value from the Student-t CDF of
 * `@stdlib/stats-base-dists-t-cdf`.
 *
 * When both samples have zero variance the statistic is undefined: then
 * p = 1 (t = 0) if the means are equal and p = 0 (t = ±∞) otherwise, with
 * df = na + nb − 2. Throws `RangeError` when a group has fewer than 2 values.
 *
 * @example Textbook-style check
 * ```ts
 * import assert from "node:assert/strict";
 * import { welchTest } from "./welch.ts";
 * const r = welchTest([1, 2, 3, 4], [2, 3, 4, 5]);
 * assert.equal(r.meanDiff, -1);
 * assert.ok(Math.abs(r.t - -1.0954451) < 1e-6 && r.df === 6);
 * ```
 */
export function welchTest(a: readonly number[], b: readonly number[]): WelchResult {
  if (a.length < 2 || b.length < 2) {
    throw new RangeError(`Welch's test needs at least 2 values per group, got ${a.length} and ${b.length}`);
  }
  const va = sampleVariance([...a]) / a.length;
  const vb = sampleVariance([...b]) / b.length;
  const meanDiff = mean([...a]) - mean([...b]);
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    const df = a.length + b.length - 2;
    if (meanDiff === 0) return { t: 0, df, p: 1, meanDiff, se };
    return { t: meanDiff > 0 ? Infinity : -Infinity, df, p: 0, meanDiff, se };
  }
  const t = meanDiff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const p = Math.min(1, 2 * tCdf(-Math.abs(t), df));
  return { t, df, p, meanDiff, se };
}
