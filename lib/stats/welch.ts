/**
 * Welch's unequal-variance t-test (Welch, 1947).
 *
 * @module
 */
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import { tQuantile } from "./quantile.ts";
import { meanAndVariance } from "./describe.ts";

/** Outcome of a two-sided Welch test of mean(a) − mean(b). */
export interface WelchResult {
  /** t statistic, meanDiff / se (unitless). */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value, in [0, 1]. */
  p: number;
  /** mean(a) − mean(b), in the units of the data. */
  meanDiff: number;
  /** Standard error of the difference, √(s²a/na + s²b/nb), in the units of the data. */
  se: number;
}

/**
 * Two-sided Welch t-test of mean(a) = mean(b): t = (mean(a) − mean(b)) / se
 * with se = √(s²a/na + s²b/nb), Welch–Satterthwaite degrees of freedom
 * df = (s²a/na + s²b/nb)² / ((s²a/na)²/(na − 1) + (s²b/nb)²/(nb − 1)), and
 * p = 2·F(−|t|; df) from the Student-t CDF of `@stdlib/stats-base-dists-t-cdf`.
 * Swapping the groups negates t and meanDiff and keeps df and p.
 *
 * Degenerate case: when both groups are constant (se = 0) the statistic is
 * undefined, and by convention df = na + nb − 2 with p = 1 and t = 0 if the
 * means are equal, p = 0 and t = ±∞ (the sign of meanDiff) otherwise.
 * Constant groups are detected exactly (all values equal), not by rounding.
 *
 * @param a First group (at least 2 values).
 * @param b Second group (at least 2 values).
 * @returns t, df, p, meanDiff and se.
 * @throws {RangeError} When a group has fewer than 2 values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { welchTest } from "./welch.ts";
 * // Both variances 5/3, so se = √(2 · 5/12) = 0.912871 and t = −1 / se;
 * // df = (5/6)² / (2 · (5/12)² / 3) = 6.
 * const r = welchTest([1, 2, 3, 4], [2, 3, 4, 5]);
 * assert.equal(r.meanDiff, -1);
 * assert.ok(Math.abs(r.t - -1.0954451) < 1e-6);
 * assert.ok(Math.abs(r.df - 6) < 1e-12);
 * ```
 */
export function welchTest(a: readonly number[], b: readonly number[]): WelchResult {
  const na = a.length;
  const nb = b.length;
  if (na < 2 || nb < 2) {
    throw new RangeError(`Welch's test needs at least 2 values per group, got ${na} and ${nb}`);
  }
  const ma = meanAndVariance(a);
  const mb = meanAndVariance(b);
  const va = ma.variance / na;
  const vb = mb.variance / nb;
  const meanDiff = ma.mean - mb.mean;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    const df = na + nb - 2;
    if (meanDiff === 0) return { t: 0, df, p: 1, meanDiff, se };
    return { t: meanDiff > 0 ? Infinity : -Infinity, df, p: 0, meanDiff, se };
  }
  const t = meanDiff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1));
  const p = Math.min(1, 2 * tCdf(-Math.abs(t), df));
  return { t, df, p, meanDiff, se };
}

/** A Welch t confidence interval of mean(a) − mean(b). */
export interface WelchInterval {
  /** mean(a) − mean(b), in the units of the data. */
  estimate: number;
  /** Lower end, in the units of the data. */
  lower: number;
  /** Upper end, in the units of the data. */
  upper: number;
  /** Confidence level the interval was built for, in (0, 1). */
  confidence: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Standard error √(s²a/na + s²b/nb). */
  se: number;
  /** The Student-t quantile t(1 − (1 − confidence)/2; df) the half-width is se times. */
  critical: number;
}

/**
 * Welch's t confidence interval of mean(a) − mean(b) at `confidence`:
 * estimate ± t(1 − (1 − confidence)/2; df) · se, with the df and se of
 * {@linkcode welchTest} and the quantile from
 * {@linkcode tQuantile}. It excludes 0 exactly when the
 * two-sided Welch p is below 1 − confidence, so a family-adjusted level (for
 * example 1 − α/m) gives an interval that agrees with the adjusted test.
 *
 * Degenerate case: constant groups (se = 0) give the zero-width interval at
 * the difference.
 *
 * @param a First group (at least 2 values).
 * @param b Second group (at least 2 values).
 * @param confidence Confidence level in (0, 1).
 * @returns The interval with its df, se and critical value.
 * @throws {RangeError} When a group has fewer than 2 values or `confidence` is not in (0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { welchInterval } from "./welch.ts";
 * // se = 0.912871, df = 6, t(0.975; 6) = 2.446912: −1 ± 2.233715.
 * const ci = welchInterval([1, 2, 3, 4], [2, 3, 4, 5], 0.95);
 * assert.ok(Math.abs(ci.lower - -3.233715) < 1e-6 && Math.abs(ci.upper - 1.233715) < 1e-6);
 * ```
 */
export function welchInterval(
  a: readonly number[],
  b: readonly number[],
  confidence: number,
): WelchInterval {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`The confidence level must lie in (0, 1), got ${confidence}`);
  }
  const w = welchTest(a, b);
  if (w.se === 0) {
    return {
      estimate: w.meanDiff,
      lower: w.meanDiff,
      upper: w.meanDiff,
      confidence,
      df: w.df,
      se: 0,
      critical: tQuantile(1 - (1 - confidence) / 2, w.df),
    };
  }
  const critical = tQuantile(1 - (1 - confidence) / 2, w.df);
  return {
    estimate: w.meanDiff,
    lower: w.meanDiff - critical * w.se,
    upper: w.meanDiff + critical * w.se,
    confidence,
    df: w.df,
    se: w.se,
    critical,
  };
}
