/**
 * Rank statistics of two independent samples: the probability of superiority
 * P(A > B) and the Mann–Whitney–Wilcoxon test, the rank evidence the decision
 * rule holds the Welch interval against. The test follows
 * `scipy.stats.mannwhitneyu(a, b, alternative="two-sided")`: the exact null
 * distribution of U when there are no ties, else the normal approximation
 * with tie correction and continuity correction.
 *
 * With right-censored values that all share one censoring point above every
 * observed value (a best epoch at the epoch cap), treating the censored
 * values as ties at that point gives Gehan's generalised Wilcoxon test, so
 * the same functions serve censored convergence comparisons.
 *
 * @module
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import { binomial } from "./permutation.ts";

/** Outcome of {@linkcode mannWhitneyTest}. */
export interface RankTestResult {
  /** U of the first sample: pairs with a > b, plus half the ties. */
  u: number;
  /** U / (na · nb): the estimated probability that a value of a exceeds one of b (ties half). */
  probability: number;
  /** Two-sided p-value, in [0, 1]. */
  p: number;
  /** How p was computed. */
  method: "exact" | "asymptotic";
  /**
   * Smallest two-sided p these group sizes (and tie pattern) can give: the
   * p of complete separation. A family level below it cannot be reached.
   */
  minimumP: number;
}

/**
 * Probability of superiority P(A > B) + ½ P(A = B), estimated over all
 * pairs: the common-language effect size, equal to U / (na · nb) of the
 * Mann–Whitney test (0.5: no tendency either way).
 *
 * @param a First group (at least 1 value).
 * @param b Second group (at least 1 value).
 * @returns A number in [0, 1].
 * @throws {RangeError} When a group is empty or holds NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probabilityOfSuperiority } from "./rank.ts";
 * // Pairs: 3>1, 3>2, 2>1, 2=2 (half): 3.5 of 4.
 * assert.equal(probabilityOfSuperiority([3, 2], [1, 2]), 0.875);
 * ```
 */
export function probabilityOfSuperiority(a: readonly number[], b: readonly number[]): number {
  return uStatistic(a, b) / (a.length * b.length);
}

/**
 * Two-sided Mann–Whitney–Wilcoxon test of "a and b come from one
 * distribution". Exact when neither group has more than 50 values and no
 * value repeats across the pooled data; otherwise the normal approximation
 * with tie correction and continuity correction, as scipy's
 * `mannwhitneyu(method="asymptotic")`.
 *
 * @param a First group (at least 1 value).
 * @param b Second group (at least 1 value).
 * @returns U, P(A > B), p, the method and the smallest attainable p.
 * @throws {RangeError} When a group is empty or holds NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mannWhitneyTest } from "./rank.ts";
 * // Complete separation of 5 vs 5: the two most extreme of C(10, 5) = 252 orders.
 * const r = mannWhitneyTest([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]);
 * assert.equal(r.u, 25);
 * assert.equal(r.p, 2 / 252);
 * assert.equal(r.method, "exact");
 * ```
 */
export function mannWhitneyTest(a: readonly number[], b: readonly number[]): RankTestResult {
  const na = a.length;
  const nb = b.length;
  const u = uStatistic(a, b);
  const pooled = [...a, ...b].sort((x, y) => x - y);
  const ties = tieGroups(pooled);
  const probability = u / (na * nb);
  const uMax = Math.max(u, na * nb - u);
  if (ties.length === 0 && na <= 50 && nb <= 50) {
    const dist = exactDistribution(na, nb);
    let upper = 0;
    for (let k = Math.ceil(uMax - 1e-9); k <= na * nb; k++) upper += dist[k]!;
    const minimumP = Math.min(1, 2 / binomial(na + nb, na));
    return { u, probability, p: Math.min(1, 2 * upper), method: "exact", minimumP };
  }
  const p = asymptoticP(uMax, na, nb, ties);
  const minimumP = asymptoticP(na * nb, na, nb, ties);
  return { u, probability, p, method: "asymptotic", minimumP };
}

function asymptoticP(uMax: number, na: number, nb: number, ties: number[]): number {
  const n = na + nb;
  const tieTerm = ties.reduce((s, t) => s + t ** 3 - t, 0);
  const variance = (na * nb / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return 1;
  const z = (uMax - na * nb / 2 - 0.5) / Math.sqrt(variance);
  return Math.min(1, Math.max(0, 2 * (1 - normalCdf(z, 0, 1))));
}

function uStatistic(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) {
    throw new RangeError(`Each group needs at least one value, got ${a.length} and ${b.length}`);
  }
  if ([...a, ...b].some(Number.isNaN)) {
    throw new RangeError("Rank statistics need numbers, got NaN");
  }
  let u = 0;
  for (const x of a) {
    for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  }
  return u;
}

/** Sizes of the groups of equal values (size ≥ 2) in sorted data. */
function tieGroups(sorted: readonly number[]): number[] {
  const groups: number[] = [];
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      if (run > 1) groups.push(run);
      run = 1;
    }
  }
  return groups;
}

const EXACT = new Map<string, Float64Array>();

/** Null distribution of U for group sizes (m, n) without ties: P(U = k), k = 0..mn. */
function exactDistribution(m: number, n: number): Float64Array {
  const key = `${m},${n}`;
  const cached = EXACT.get(key);
  if (cached) return cached;
  // counts[i][j] = distribution of U for sizes (i, j), built by the recurrence
  // c(i, j, u) = c(i − 1, j, u − j) + c(i, j − 1, u), kept as frequencies / C(i + j, i).
  let previous: Float64Array[] = []; // row i − 1, indexed by j
  for (let i = 0; i <= m; i++) {
    const row: Float64Array[] = [];
    for (let j = 0; j <= n; j++) {
      const d = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) d[0] = 1;
      else {
        const wa = i / (i + j); // the largest value belongs to a: U gains j
        const fromA = previous[j]!;
        const fromB = row[j - 1]!;
        for (let k = 0; k < fromA.length; k++) d[k + j]! += wa * fromA[k]!;
        for (let k = 0; k < fromB.length; k++) d[k]! += (1 - wa) * fromB[k]!;
      }
      row.push(d);
    }
    previous = row;
  }
  const dist = previous[n]!;
  EXACT.set(key, dist);
  return dist;
}
