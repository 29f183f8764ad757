/**
 * Holm–Bonferroni step-down adjustment for a family of tests (Holm, 1979).
 *
 * @module
 */

/**
 * Holm's step-down adjusted p-values, in the input order: sort ascending,
 * multiply the i-th smallest (0-based) by (m − i), enforce monotonicity with a
 * running maximum, cap at 1. Ties keep their input order; an empty family
 * gives an empty array.
 *
 * @param pValues Unadjusted p-values, each in [0, 1].
 * @returns Adjusted p-values, each ≥ its unadjusted value and ≤ 1.
 * @throws {RangeError} When a p-value is NaN or outside [0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { holmAdjust } from "./holm.ts";
 * // Sorted: 0.01 × 3 = 0.03, 0.03 × 2 = 0.06, 0.04 × 1 = 0.04 → running max 0.06.
 * assert.deepEqual(holmAdjust([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06]);
 * ```
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must lie in [0, 1], got ${p}`);
  }
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p || x.i - y.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * Which hypotheses Holm's procedure rejects at family-wise error rate
 * `alpha`: those whose adjusted p-value is strictly below `alpha` (the same
 * strict rule as the report's decisions), in the input order.
 *
 * @param pValues Unadjusted p-values, each in [0, 1].
 * @param alpha Family-wise error rate, in (0, 1] (default 0.05).
 * @returns `true` where the hypothesis is rejected.
 * @throws {RangeError} When a p-value or `alpha` is out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { holmReject } from "./holm.ts";
 * // Thresholds 0.05/4, 0.05/3, 0.05/2: 0.005 and 0.01 pass, 0.03 > 0.025 stops.
 * assert.deepEqual(holmReject([0.01, 0.04, 0.03, 0.005]), [true, false, false, true]);
 * ```
 */
export function holmReject(pValues: readonly number[], alpha = 0.05): boolean[] {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must lie in (0, 1], got ${alpha}`);
  return holmAdjust(pValues).map((p) => p < alpha);
}
