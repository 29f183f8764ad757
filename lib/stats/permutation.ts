/**
 * Exact permutation test of a difference of means, the cross-check the report
 * runs beside Welch's test when the groups are small (5 vs 5 → 252 relabelings).
 *
 * @module
 */

/** Options of {@linkcode exactPermutationTest}. */
export interface PermutationOptions {
  /** Most relabelings the test may enumerate (default 1,000,000). */
  limit?: number;
}

/** Outcome of {@linkcode exactPermutationTest}. */
export interface PermutationResult {
  /** Two-sided p: share of relabelings with |difference| ≥ |observed| (the observed one included). */
  p: number;
  /** Number of relabelings enumerated, C(na + nb, na). */
  permutations: number;
  /** Observed mean(a) − mean(b), in the units of the data. */
  observed: number;
}

/**
 * Exact two-sided permutation test of mean(a) = mean(b): enumerate every
 * assignment of the pooled values to groups of sizes na and nb and count those
 * whose |mean(a′) − mean(b′)| reaches |observed|. The observed labelling is
 * one of them, so p ≥ 1 / C(na + nb, na) > 0.
 *
 * Ties are compared with a tolerance of 1e-12 × max(1, largest |value|), so a
 * relabeling whose difference equals the observed one up to rounding counts
 * (for data within [−1, 1] this is the absolute tolerance 1e-12).
 *
 * @param a First group.
 * @param b Second group.
 * @param options `limit` on the number of relabelings (default 1,000,000).
 * @returns The p-value, the number of relabelings and the observed difference.
 * @throws {RangeError} When a group is empty, when a value is not finite, or
 * when C(na + nb, na) exceeds `limit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exactPermutationTest } from "./permutation.ts";
 * // Only the observed split and its mirror reach |diff| = 3: p = 2/20.
 * assert.deepEqual(exactPermutationTest([1, 2, 3], [4, 5, 6]), {
 *   p: 0.1,
 *   permutations: 20,
 *   observed: -3,
 * });
 * ```
 */
export function exactPermutationTest(
  a: readonly number[],
  b: readonly number[],
  options: PermutationOptions = {},
): PermutationResult {
  const { limit = 1_000_000 } = options;
  const na = a.length;
  const nb = b.length;
  if (na === 0 || nb === 0) {
    throw new RangeError(`Each group needs at least one value, got ${na} and ${nb}`);
  }
  if (!(limit >= 1)) throw new RangeError(`The relabeling limit must be at least 1, got ${limit}`);
  const pooled = [...a, ...b];
  if (!pooled.every(Number.isFinite)) {
    throw new RangeError("The permutation test needs finite values");
  }
  const permutations = binomial(na + nb, na);
  if (permutations > limit) {
    throw new RangeError(
      `C(${na + nb}, ${na}) = ${permutations} relabelings exceed the limit of ${limit}`,
    );
  }
  const total = pooled.reduce((s, v) => s + v, 0);
  // Summed in the same order as the enumeration below, so the observed
  // labelling reproduces `observed` bit for bit.
  const sumA = a.reduce((s, v) => s + v, 0);
  const observed = sumA / na - (total - sumA) / nb;
  const scale = pooled.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  const threshold = Math.abs(observed) - 1e-12 * scale;
  let extreme = 0;
  const visit = (start: number, left: number, sum: number): void => {
    if (left === 0) {
      if (Math.abs(sum / na - (total - sum) / nb) >= threshold) extreme++;
      return;
    }
    for (let i = start; i <= pooled.length - left; i++) visit(i + 1, left - 1, sum + pooled[i]!);
  };
  visit(0, na, 0);
  return { p: extreme / permutations, permutations, observed };
}

/**
 * Binomial coefficient C(n, k) for integers 0 ≤ k ≤ n, as a float: exact up
 * to 2^53, rounded beyond, `Infinity` past the float range.
 *
 * @throws {RangeError} When n or k is not an integer with 0 ≤ k ≤ n.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binomial } from "./permutation.ts";
 * assert.equal(binomial(10, 5), 252);
 * ```
 */
export function binomial(n: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(k) && k >= 0 && k <= n)) {
    throw new RangeError(`C(n, k) needs integers 0 ≤ k ≤ n, got n = ${n}, k = ${k}`);
  }
  const m = Math.min(k, n - k);
  let c = 1;
  // c = C(n − m + i, i) after step i, an integer at every step.
  for (let i = 1; i <= m; i++) c = (c * (n - m + i)) / i;
  return Math.round(c);
}
