/**
 * Effect sizes.
 *
 * @module
 */
import { mean, sampleVariance } from "simple-statistics";

/**
 * Hedges' g of mean(a) − mean(b): Cohen's d with the pooled sample standard
 * deviation, times the small-sample correction J = 1 − 3 / (4(na + nb) − 9)
 * (Hedges & Olkin, 1985). With zero pooled variance g is 0 when the means are
 * equal and ±∞ otherwise. Throws `RangeError` when a group has fewer than 2 values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hedgesG } from "./effect.ts";
 * // d = (2.5 − 3.5) / 1.2910 = −0.7746; J = 1 − 3/23 = 0.8696; g = −0.6736
 * assert.ok(Math.abs(hedgesG([1, 2, 3, 4], [2, 3, 4, 5]) - -0.67355) < 1e-4);
 * ```
 */
export function hedgesG(a: readonly number[], b: readonly number[]): number {
  const na = a.length;
  const nb = b.length;
  if (na < 2 || nb < 2) throw new RangeError(`Hedges' g needs at least 2 values per group, got ${na} and ${nb}`);
  const pooled = Math.sqrt(((na - 1) * sampleVariance([...a]) + (nb - 1) * sampleVariance([...b])) / (na + nb - 2));
  const diff = mean([...a]) - mean([...b]);
  if (pooled === 0) return diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  return (diff / pooled) * (1 - 3 / (4 * (na + nb) - 9));
}
