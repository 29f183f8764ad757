/**
 * Student's t quantile function, by Newton's method on the t CDF of
 * `@stdlib/stats-base-dists-t-cdf` (the CDF the Welch test already uses), with
 * a bisection safeguard. stdlib's own quantile package loads a native-addon
 * helper that reads the whole environment, which the tasks' permissions
 * rightly refuse, so it is not used.
 *
 * @module
 */
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";

/**
 * The p-quantile of Student's t distribution with `df` degrees of freedom:
 * the x with F(x; df) = p, to about 1e-12 relative accuracy.
 *
 * @param p Probability, in (0, 1).
 * @param df Degrees of freedom, > 0 (need not be an integer).
 * @returns The quantile.
 * @throws {RangeError} When p is not in (0, 1) or df is not positive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tQuantile } from "./quantile.ts";
 * assert.ok(Math.abs(tQuantile(0.975, 4) - 2.7764451051977987) < 1e-10);
 * assert.ok(Math.abs(tQuantile(0.025, 4) + 2.7764451051977987) < 1e-10);
 * ```
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must lie in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`The degrees of freedom must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  // Bracket [0, hi] with F(hi) ≥ p, then safeguarded Newton steps.
  let lo = 0;
  let hi = Math.max(1, normalQuantile(p, 0, 1));
  while (tCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (!Number.isFinite(hi)) return Infinity;
  }
  const logC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  let x = Math.min(hi, Math.max(lo, normalQuantile(p, 0, 1)));
  for (let i = 0; i < 200; i++) {
    const f = tCdf(x, df) - p;
    if (f > 0) hi = x;
    else lo = x;
    const density = Math.exp(logC - ((df + 1) / 2) * Math.log1p((x * x) / df));
    let next = x - f / density;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - x) <= 1e-13 * Math.max(1, Math.abs(x))) return next;
    x = next;
  }
  return x;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-14). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}
