/**
 * Sample size and detectable effects of Welch's two-sample comparison, from
 * observed variances: the smallest difference the current seeds would detect
 * with a given power, and the seeds per arm that would settle a comparison
 * (detect a difference of δ, or show equivalence within ±δ when there is
 * none). The usual t approximation of the noncentral t (Julious, 2004):
 * a two-sided level-α test has power 1 − β against a difference Δ when
 * Δ ≥ (t(1 − α/2; df) + t(1 − β; df)) · se, and equivalence with a
 * two-sided interval at level 1 − α inside ±δ has power 1 − β at a true
 * difference of 0 when δ ≥ (t(1 − α/2; df) + t(1 − β/2; df)) · se. The
 * calibration suite checks both against simulation.
 *
 * @module
 */
import { tQuantile } from "./quantile.ts";

/** Observed spread of the two arms. */
export interface ArmVariances {
  /** Sample variance of arm a, in squared units of the data. */
  varA: number;
  /** Sample variance of arm b. */
  varB: number;
}

/** What the sample size is for. */
export type PowerGoal =
  /** Detect a true difference of δ with the two-sided test at level α. */
  | "detect"
  /** Show equivalence within ±δ (interval inside ±δ) when the true difference is 0. */
  | "equivalence";

/** Options of {@linkcode seedsPerArm} and {@linkcode detectableEffect}. */
export interface PowerOptions {
  /** Two-sided significance level of each comparison (already adjusted for its family). */
  alpha: number;
  /** Target power, in (0, 1) (default 0.8). */
  power?: number;
}

/**
 * Welch–Satterthwaite df for na and nb values per arm with the given variances
 * (na + nb − 2 when both are 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { welchDf } from "./power.ts";
 * assert.equal(welchDf({ varA: 1, varB: 1 }, 5, 5), 8);
 * ```
 */
export function welchDf(v: ArmVariances, na: number, nb: number): number {
  const a = v.varA / na;
  const b = v.varB / nb;
  if (a + b === 0) return na + nb - 2;
  return (a + b) ** 2 / (a ** 2 / (na - 1) + b ** 2 / (nb - 1));
}

/**
 * The smallest true difference (units of the data) that na and nb values per
 * arm detect with probability `power` at two-sided level `alpha`:
 * (t(1 − α/2; df) + t(power; df)) · √(s²a/na + s²b/nb).
 *
 * @param v Variances of the arms.
 * @param na Values in arm a (at least 2).
 * @param nb Values in arm b (at least 2).
 * @param options alpha and power (0.8).
 * @returns The detectable difference (0 when both variances are 0).
 * @throws {RangeError} For fewer than 2 values per arm, negative variances, or levels outside (0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectableEffect } from "./power.ts";
 * // se = √(2/5) = 0.632456, df = 8: (2.306004 + 0.888889) · se = 2.020627.
 * const d = detectableEffect({ varA: 1, varB: 1 }, 5, 5, { alpha: 0.05 });
 * assert.ok(Math.abs(d - 2.020627) < 1e-5);
 * ```
 */
export function detectableEffect(
  v: ArmVariances,
  na: number,
  nb: number,
  options: PowerOptions,
): number {
  const { alpha, power = 0.8 } = options;
  check(v, alpha, power);
  if (na < 2 || nb < 2) {
    throw new RangeError(`Power needs at least 2 values per arm, got ${na}, ${nb}`);
  }
  const se = Math.sqrt(v.varA / na + v.varB / nb);
  const df = welchDf(v, na, nb);
  return (tQuantile(1 - alpha / 2, df) + tQuantile(power, df)) * se;
}

/**
 * Values (seeds) per arm, equal in both arms, that reach `power` for `goal`
 * against the difference `delta`, at two-sided level `alpha` per comparison;
 * the smallest n ≥ 2 that does, or `Infinity` past `max`.
 *
 * @param v Variances of the arms (the observed ones: a plug-in estimate).
 * @param delta The smallest effect size of interest, > 0, units of the data.
 * @param goal "detect" (true difference δ) or "equivalence" (true difference 0, bounds ±δ).
 * @param options alpha, power (0.8) and the largest n to search (`max`, 100,000).
 * @returns Seeds per arm, or `Infinity`.
 * @throws {RangeError} For a non-positive δ, negative variances or levels outside (0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedsPerArm } from "./power.ts";
 * // Unit variances, δ = 1 SD, α = 0.05: the textbook 17 per arm (z-approximation: 15.7).
 * assert.equal(seedsPerArm({ varA: 1, varB: 1 }, 1, "detect", { alpha: 0.05 }), 17);
 * ```
 */
export function seedsPerArm(
  v: ArmVariances,
  delta: number,
  goal: PowerGoal,
  options: PowerOptions & { max?: number },
): number {
  const { alpha, power = 0.8, max = 100_000 } = options;
  check(v, alpha, power);
  if (!(delta > 0)) throw new RangeError(`The effect size must be positive, got ${delta}`);
  const beta = goal === "detect" ? 1 - power : (1 - power) / 2;
  const enough = (n: number) => {
    const se = Math.sqrt((v.varA + v.varB) / n);
    const df = welchDf(v, n, n);
    return (tQuantile(1 - alpha / 2, df) + tQuantile(1 - beta, df)) * se < delta;
  };
  if (enough(2)) return 2;
  // Doubling, then bisection: `enough` is monotone in n.
  let lo = 2;
  let hi = 4;
  while (!enough(hi)) {
    if (hi >= max) return Infinity;
    lo = hi;
    hi = Math.min(max, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

function check(v: ArmVariances, alpha: number, power: number): void {
  if (!(v.varA >= 0 && v.varB >= 0)) {
    throw new RangeError(`Variances must be non-negative numbers, got ${v.varA} and ${v.varB}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must lie in (0, 1), got ${power}`);
}
