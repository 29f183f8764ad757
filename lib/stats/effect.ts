/**
 * Standardised effect sizes.
 *
 * @module
 */
import { meanAndVariance } from "./describe.ts";

/**
 * Hedges' g of mean(a) − mean(b) (unitless): Cohen's d with the pooled sample
 * standard deviation, s_p = √(((na − 1)s²a + (nb − 1)s²b) / (na + nb − 2)),
 * times Hedges' small-sample correction in its standard approximation
 * J = 1 − 3 / (4(na + nb) − 9) = 1 − 3 / (4·df − 1) with df = na + nb − 2
 * (Hedges, 1981; Hedges & Olkin, 1985), not the exact gamma-function form.
 *
 * Degenerate case: when both groups are constant (s_p = 0) g is 0 if the
 * means are equal and +∞ or −∞ (the sign of the difference) otherwise.
 *
 * @param a First group (at least 2 values).
 * @param b Second group (at least 2 values).
 * @returns Hedges' g.
 * @throws {RangeError} When a group has fewer than 2 values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hedgesG } from "./effect.ts";
 * // d = (2.5 − 3.5) / √(5/3) = −0.774597; J = 1 − 3/23 = 0.869565; g = −0.673563
 * assert.ok(Math.abs(hedgesG([1, 2, 3, 4], [2, 3, 4, 5]) - -0.673563) < 1e-6);
 * ```
 */
export function hedgesG(a: readonly number[], b: readonly number[]): number {
  const na = a.length;
  const nb = b.length;
  if (na < 2 || nb < 2) {
    throw new RangeError(`Hedges' g needs at least 2 values per group, got ${na} and ${nb}`);
  }
  const ma = meanAndVariance(a);
  const mb = meanAndVariance(b);
  const pooled = Math.sqrt(((na - 1) * ma.variance + (nb - 1) * mb.variance) / (na + nb - 2));
  const diff = ma.mean - mb.mean;
  if (pooled === 0) return diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  return (diff / pooled) * (1 - 3 / (4 * (na + nb) - 9));
}
