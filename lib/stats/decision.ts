/**
 * The decision rule: one interval per comparison, read four ways. The
 * primary interval is Welch's t interval of mean(a) − mean(b) at the
 * family's per-comparison level (Bonferroni: 1 − α/m for a family of m
 * comparisons, or a sequential look's nominal level), so a comparison is
 * significant exactly when its adjusted interval excludes 0. With δ the
 * question's smallest effect size of interest:
 *
 * - **better / worse**: the interval excludes 0 and is not inside ±δ;
 * - **equivalent**: the interval lies inside (−δ, δ) (two one-sided tests at
 *   half the level; also when it excludes 0: a real but negligible difference);
 * - **undetermined**: anything else.
 *
 * The rank test (Mann–Whitney, the probability of superiority's own test) is
 * the robustness check: when one of the two is significant at the family
 * level and the other is not even significant at the unadjusted α, the
 * tests disagree and a better/worse verdict is withheld (undetermined).
 * Milder mismatches come from the rank test's coarser resolution and are
 * not called disagreements.
 *
 * Right-censored values (a best epoch at the epoch cap) make the mean
 * difference measure the cap; then the verdict comes from the rank test
 * with censored values tied at the cap (Gehan's test), which can order the
 * arms but cannot show equivalence.
 *
 * @module
 */
import { mannWhitneyTest, type RankTestResult } from "./rank.ts";
import { type WelchInterval, welchInterval, welchTest } from "./welch.ts";

/** What a comparison says about a versus b. */
export type Verdict = "better" | "worse" | "equivalent" | "undetermined";

/** Options of {@linkcode decideComparison}. */
export interface DecisionOptions {
  /** Family-wise error rate, in (0, 1) (0.05). */
  alpha: number;
  /** Comparisons in the family (m ≥ 1); the per-comparison level is α/m unless `level` is given. */
  familySize: number;
  /** Which direction of the metric is better. */
  better: "higher" | "lower";
  /** Smallest effect size of interest δ > 0, units of the data; without it nothing is called equivalent. */
  sesoi?: number | undefined;
  /** Nominal two-sided level of this comparison (a sequential look's); default α / familySize. */
  level?: number | undefined;
  /** Values at or above this are right-censored (the epoch cap); default: none. */
  censoredAt?: number | undefined;
}

/** A comparison decided. */
export interface ComparisonDecision {
  verdict: Verdict;
  /** mean(a) − mean(b). */
  estimate: number;
  /** Welch interval at confidence 1 − level (the shown interval). */
  interval: WelchInterval;
  /** Nominal two-sided level of the comparison. */
  level: number;
  /** Unadjusted two-sided Welch p. */
  p: number;
  /** p on the family scale, min(1, p · α / level): significant exactly when below α. */
  pAdjusted: number;
  /** Mann–Whitney test, with its p on the family scale. */
  rank: RankTestResult & { pAdjusted: number };
  /** Equivalent although the interval excludes 0: a real difference smaller than δ. */
  negligible: boolean;
  /**
   * A real disagreement: "welch" when only Welch's interval is significant at
   * the family level and the rank p is not even below α, "rank" the reverse.
   */
  disagreement?: "welch" | "rank";
  /** Runs at or above the censoring point, per arm (only when censoring was given). */
  censored?: { a: number; b: number };
  /** Where the verdict came from. */
  method: "welch" | "gehan";
}

/**
 * Decide a comparison of a against b under {@linkcode DecisionOptions}.
 *
 * @param a Values of arm a (at least 2).
 * @param b Values of arm b (at least 2).
 * @param options Family α and size, direction, δ, optional level and censoring point.
 * @returns The verdict with every number behind it.
 * @throws {RangeError} For fewer than 2 values per arm or options out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideComparison } from "./decision.ts";
 * const d = decideComparison([10, 11, 12, 11, 10], [7, 8, 7, 6, 8], {
 *   alpha: 0.05,
 *   familySize: 3,
 *   better: "higher",
 *   sesoi: 1,
 * });
 * assert.equal(d.verdict, "better");
 * assert.equal(d.level, 0.05 / 3);
 * assert.ok(d.interval.lower > 1);
 * ```
 */
export function decideComparison(
  a: readonly number[],
  b: readonly number[],
  options: DecisionOptions,
): ComparisonDecision {
  const { alpha, familySize, better, sesoi, censoredAt } = options;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`);
  if (!(Number.isInteger(familySize) && familySize >= 1)) {
    throw new RangeError(`The family size must be a positive integer, got ${familySize}`);
  }
  if (sesoi !== undefined && !(sesoi > 0)) {
    throw new RangeError(`The smallest effect size of interest must be positive, got ${sesoi}`);
  }
  const level = options.level ?? alpha / familySize;
  if (!(level > 0 && level < 1)) throw new RangeError(`level must lie in (0, 1), got ${level}`);
  const scale = alpha / level;
  const interval = welchInterval(a, b, 1 - level);
  const w = welchTest(a, b);
  const censoredA = censoredAt === undefined ? 0 : a.filter((x) => x >= censoredAt).length;
  const censoredB = censoredAt === undefined ? 0 : b.filter((x) => x >= censoredAt).length;
  const capped = (xs: readonly number[]) =>
    censoredAt === undefined ? xs : xs.map((x) => Math.min(x, censoredAt));
  const r = mannWhitneyTest(capped(a), capped(b));
  const rank = { ...r, pAdjusted: Math.min(1, r.p * scale) };
  const base = {
    estimate: interval.estimate,
    interval,
    level,
    p: w.p,
    pAdjusted: Math.min(1, w.p * scale),
    rank,
    negligible: false,
    ...(censoredAt === undefined ? {} : { censored: { a: censoredA, b: censoredB } }),
  };
  const favoursA = (diff: number) => (diff > 0) === (better === "higher");

  if (censoredA + censoredB > 0) {
    // Gehan: the rank test on values capped at the censoring point.
    if (rank.p < level && r.probability !== 0.5) {
      return {
        ...base,
        verdict: favoursA(r.probability - 0.5) ? "better" : "worse",
        method: "gehan",
      };
    }
    return { ...base, verdict: "undetermined", method: "gehan" };
  }

  const excludesZero = interval.lower > 0 || interval.upper < 0;
  const inside = sesoi !== undefined && interval.lower > -sesoi && interval.upper < sesoi;
  if (inside) return { ...base, verdict: "equivalent", negligible: excludesZero, method: "welch" };
  if (excludesZero) {
    if (r.p >= alpha) {
      return { ...base, verdict: "undetermined", disagreement: "welch", method: "welch" };
    }
    return {
      ...base,
      verdict: favoursA(interval.estimate) ? "better" : "worse",
      method: "welch",
    };
  }
  if (rank.p < level && w.p >= alpha) {
    return { ...base, verdict: "undetermined", disagreement: "rank", method: "welch" };
  }
  return { ...base, verdict: "undetermined", method: "welch" };
}
