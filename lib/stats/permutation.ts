/**
 * Exact permutation test of a difference of means.
 *
 * @module
 */

/** Outcome of {@linkcode exactPermutationTest}. */
export interface PermutationResult {
  /** Two-sided p: share of relabelings with |difference| ≥ |observed| (the observed one included). */
  p: number;
  /** Number of relabelings enumerated, C(na + nb, na). */
  permutations: number;
  /** Observed mean(a) − mean(b). */
  observed: number;
}

/**
 * Enumerate every assignment of the pooled values to groups of sizes na and
 * nb and count those whose |mean difference| reaches the observed one (with a
 * 1e-12 tolerance for rounding). Throws `RangeError` for an empty group or
 * when C(na + nb, na) exceeds `limit` (default 1,000,000).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exactPermutationTest } from "./permutation.ts";
 * // Only the observed split and its mirror reach |diff| = 3: p = 2/20.
 * assert.equal(exactPermutationTest([1, 2, 3], [4, 5, 6]).p, 0.1);
 * ```
 */
export function exactPermutationTest(
  a: readonly number[],
  b: readonly number[],
  { limit = 1_000_000 } = {},
): PermutationResult {
  const na = a.length;
  const nb = b.length;
  if (na === 0 || nb === 0) throw new RangeError("Each group needs at least one value");
  const permutations = binomial(na + nb, na);
  if (permutations > limit) {
    throw new RangeError(`${permutations} relabelings exceed the limit of ${limit}`);
  }
  const pooled = [...a, ...b];
  const total = pooled.reduce((s, v) => s + v, 0);
  const sumA = a.reduce((s, v) => s + v, 0);
  const observed = sumA / na - (total - sumA) / nb;
  const threshold = Math.abs(observed) - 1e-12;
  let extreme = 0;
  const visit = (start: number, left: number, sum: number) => {
    if (left === 0) {
      if (Math.abs(sum / na - (total - sum) / nb) >= threshold) extreme++;
      return;
    }
    for (let i = start; i <= pooled.length - left; i++) visit(i + 1, left - 1, sum + pooled[i]!);
  };
  visit(0, na, 0);
  return { p: extreme / permutations, permutations, observed };
}

/** Binomial coefficient C(n, k) as a float. */
export function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}
