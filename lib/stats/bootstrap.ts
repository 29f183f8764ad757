/**
 * Seeded bias-corrected and accelerated (BCa) bootstrap confidence intervals
 * (Efron, 1987; Efron & Tibshirani, 1993, ch. 14) for a mean and for a
 * difference of means. The estimator follows
 * `scipy.stats.bootstrap(method="BCa")`: mid-rank bias correction z0,
 * jackknife acceleration (summed over groups for two samples),
 * linear-interpolated percentiles of the resampled statistics. Randomness
 * comes from the harness's seeded streams ({@linkcode rngAt}), so the same
 * inputs and seed give the same interval on every machine.
 *
 * @module
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import { rngAt } from "../rng.ts";
import { binomial } from "./permutation.ts";

/** Options of the bootstrap functions. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples, a positive integer (default 10,000). */
  resamples?: number;
  /** Confidence level, in (0, 1) (default 0.95). */
  confidence?: number;
  /** Seed of the resampling stream, a safe integer (default 0). */
  seed?: number;
}

/** A bootstrap confidence interval. */
export interface BootstrapInterval {
  /** The statistic on the original data, in the units of the data. */
  estimate: number;
  /** Lower end of the interval. */
  lower: number;
  /** Upper end of the interval. */
  upper: number;
  /** Confidence level the interval was built for. */
  confidence: number;
  /** Number of resamples drawn. */
  resamples: number;
  /** Always `"bca"`. */
  method: "bca";
  /**
   * Number of distinct resamples the data allow: C(2n − 1, n) multisets for a
   * group of n values, multiplied over groups (`Infinity` past the float range).
   */
  distinctResamples: number;
}

/** A statistic of one or more samples, such as a mean or a difference of means. */
export type Statistic = (samples: readonly (readonly number[])[]) => number;

/**
 * BCa interval for the mean of `x`, from `resamples` seeded resamples.
 *
 * Conventions: all-equal data give a zero-width interval at their value; the
 * interval is widened, if ever needed, to contain the estimate; non-finite
 * data give NaN ends.
 *
 * @param x The sample (at least 2 values).
 * @param options Resamples (10,000), confidence (0.95) and seed (0).
 * @returns The estimate and its interval, in the units of the data.
 * @throws {RangeError} For fewer than 2 values or invalid options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapMean } from "./bootstrap.ts";
 * const ci = bootstrapMean([1, 2, 3, 4, 5, 6, 7, 8], { seed: 1 });
 * assert.equal(ci.estimate, 4.5);
 * assert.ok(ci.lower < 4.5 && 4.5 < ci.upper);
 * assert.deepEqual(bootstrapMean([1, 2, 3, 4, 5, 6, 7, 8], { seed: 1 }), ci);
 * ```
 */
export function bootstrapMean(
  x: readonly number[],
  options: BootstrapOptions = {},
): BootstrapInterval {
  return bca([x], ([s]) => mean(s!), options, "mean");
}

/**
 * BCa interval for mean(a) − mean(b), resampling each group independently
 * from one seeded stream. Same conventions as {@linkcode bootstrapMean}; the
 * interval has zero width only when both groups are constant.
 *
 * @param a First group (at least 2 values).
 * @param b Second group (at least 2 values).
 * @param options Resamples (10,000), confidence (0.95) and seed (0).
 * @returns The estimate mean(a) − mean(b) and its interval, in the units of the data.
 * @throws {RangeError} When a group has fewer than 2 values or an option is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapMeanDiff } from "./bootstrap.ts";
 * const ci = bootstrapMeanDiff([5, 6, 7, 8, 9], [1, 2, 3, 4, 5], { seed: 1 });
 * assert.equal(ci.estimate, 4);
 * assert.ok(0 < ci.lower && ci.lower < 4 && 4 < ci.upper);
 * assert.equal(ci.distinctResamples, 126 * 126);
 * ```
 */
export function bootstrapMeanDiff(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions = {},
): BootstrapInterval {
  return bca([a, b], ([s, t]) => mean(s!) - mean(t!), options, "diff");
}

/**
 * A plain-English warning when `n` values per group are so few (n ≤ 5) that
 * the bootstrap has few distinct resamples (C(2n − 1, n): 126 for n = 5),
 * else `undefined`.
 *
 * @param n Values per group (the smallest group), a positive integer or `Infinity`.
 * @returns The warning, or `undefined` when n > 5.
 * @throws {RangeError} When `n` is NaN or not a positive integer (0, 2.5); n > 5 never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fewResamplesWarning } from "./bootstrap.ts";
 * assert.match(fewResamplesWarning(3)!, /only 10 distinct resamples/);
 * assert.equal(fewResamplesWarning(6), undefined);
 * ```
 */
export function fewResamplesWarning(n: number): string | undefined {
  if (n > 5) return undefined;
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`The group size must be a positive integer, got ${n}`);
  }
  const distinct = binomial(2 * n - 1, n);
  return `with n = ${n} per group the bootstrap has only ${distinct} distinct ` +
    `resample${
      distinct === 1 ? "" : "s"
    } per group, so its intervals are coarse and tend to be too narrow`;
}

/**
 * The BCa-adjusted percentile levels (each in [0, 1]) at which to read the
 * sorted bootstrap distribution: α_j = Φ(z0 + (z0 + z_j) / (1 − a(z0 + z_j)))
 * with z_j = Φ⁻¹((1 ∓ confidence) / 2), normal CDF and quantile from
 * `@stdlib/stats-base-dists-normal-*`. With z0 = 0 and a = 0 these are the
 * plain percentile levels.
 *
 * Edge cases: z0 = −∞ (every resample above the estimate) gives levels 0 and
 * z0 = +∞ gives 1; where 1 − a(z0 + z_j) ≤ 0 the level takes its limit as the
 * denominator falls to 0 (1 when z0 + z_j > 0, else 0) instead of wrapping
 * round to the other tail.
 *
 * @param z0 Bias correction Φ⁻¹(share of resamples below the estimate, ties counted half).
 * @param acceleration The acceleration a, see {@linkcode jackknifeAcceleration}.
 * @param confidence Confidence level, in (0, 1).
 * @returns The lower and upper percentile levels.
 * @throws {RangeError} When z0 or the acceleration is NaN or `confidence` is not in (0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bcaLevels } from "./bootstrap.ts";
 * const { lower, upper } = bcaLevels(0, 0, 0.95);
 * assert.ok(Math.abs(lower - 0.025) < 1e-12 && Math.abs(upper - 0.975) < 1e-12);
 * ```
 */
export function bcaLevels(
  z0: number,
  acceleration: number,
  confidence: number,
): { lower: number; upper: number } {
  checkConfidence(confidence);
  if (Number.isNaN(z0) || Number.isNaN(acceleration)) {
    throw new RangeError(`BCa needs a numeric z0 and acceleration, got ${z0} and ${acceleration}`);
  }
  const level = (z: number): number => {
    if (!Number.isFinite(z0)) return z0 > 0 ? 1 : 0;
    const num = z0 + z;
    const den = 1 - acceleration * num;
    if (den <= 0) return num > 0 ? 1 : 0;
    return clamp(normalCdf(z0 + num / den, 0, 1), 0, 1);
  };
  const zLow = normalQuantile((1 - confidence) / 2, 0, 1);
  return { lower: level(zLow), upper: level(-zLow) };
}

/**
 * Jackknife estimate of the BCa acceleration, as scipy computes it for one or
 * more independent samples: for each group g of size n, leave each value out
 * in turn, u_i = (n − 1)(mean of the leave-one-out statistics − θ₍₋ᵢ₎), and
 * a = Σ_g Σ_i u_i³ / n³ / (6 (Σ_g Σ_i u_i² / n²)^{3/2}). Zero when every
 * leave-one-out statistic is equal.
 *
 * @param samples The groups (each with at least 2 values).
 * @param statistic The statistic of the groups.
 * @returns The acceleration a (unitless).
 * @throws {RangeError} When a group has fewer than 2 values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jackknifeAcceleration } from "./bootstrap.ts";
 * const mean = ([x]: readonly (readonly number[])[]) => x!.reduce((s, v) => s + v, 0) / x!.length;
 * // Leave-one-out means 2.5, 2, 1.5: u = −1, 0, 1 has no skew, so a = 0.
 * assert.equal(jackknifeAcceleration([[1, 2, 3]], mean), 0);
 * ```
 */
export function jackknifeAcceleration(
  samples: readonly (readonly number[])[],
  statistic: Statistic,
): number {
  checkGroups(samples);
  let num = 0;
  let den = 0;
  samples.forEach((s, g) => {
    const n = s.length;
    const leaveOneOut = s.map((_, i) => {
      const reduced = samples.map((t, h) => (h === g ? t.filter((_, j) => j !== i) : t));
      return statistic(reduced);
    });
    const dot = mean(leaveOneOut);
    const u = leaveOneOut.map((v) => (n - 1) * (dot - v));
    num += u.reduce((acc, v) => acc + v ** 3, 0) / n ** 3;
    den += u.reduce((acc, v) => acc + v ** 2, 0) / n ** 2;
  });
  return den === 0 ? 0 : num / (6 * den ** 1.5);
}

function bca(
  samples: readonly (readonly number[])[],
  statistic: Statistic,
  options: BootstrapOptions,
  label: string,
): BootstrapInterval {
  const { resamples = 10_000, confidence = 0.95, seed = 0 } = options;
  checkGroups(samples);
  if (!(Number.isInteger(resamples) && resamples >= 1)) {
    throw new RangeError(`The number of resamples must be a positive integer, got ${resamples}`);
  }
  checkConfidence(confidence);
  const rng = rngAt(seed, "bootstrap", label, ...samples.map((s) => s.length));
  const distinctResamples = samples.reduce(
    (n, s) => n * binomial(2 * s.length - 1, s.length),
    1,
  );
  const base = { confidence, resamples, method: "bca" as const, distinctResamples };

  if (samples.every((s) => s.every((v) => v === s[0]))) {
    // Constant groups: every resample equals the data. The statistic of one
    // value per group is exact, free of the rounding of a sum of n copies.
    const estimate = statistic(samples.map((s) => [s[0]!]));
    return { ...base, estimate, lower: estimate, upper: estimate };
  }
  const estimate = statistic(samples);
  if (!Number.isFinite(estimate)) return { ...base, estimate, lower: NaN, upper: NaN };

  const draws = new Float64Array(resamples);
  const buffers = samples.map((s) => new Array<number>(s.length));
  for (let r = 0; r < resamples; r++) {
    samples.forEach((s, g) => {
      const buffer = buffers[g]!;
      for (let i = 0; i < s.length; i++) buffer[i] = s[rng.nextInt(s.length)]!;
    });
    draws[r] = statistic(buffers);
  }
  draws.sort();

  const z0 = normalQuantile(midRank(draws, estimate), 0, 1);
  const levels = bcaLevels(z0, jackknifeAcceleration(samples, statistic), confidence);
  const lower = percentile(draws, levels.lower);
  const upper = percentile(draws, levels.upper);
  return { ...base, estimate, lower: Math.min(lower, estimate), upper: Math.max(upper, estimate) };
}

function checkGroups(samples: readonly (readonly number[])[]): void {
  for (const s of samples) {
    if (s.length < 2) {
      throw new RangeError(`The bootstrap needs at least 2 values per group, got ${s.length}`);
    }
  }
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`The confidence level must lie in (0, 1), got ${confidence}`);
  }
}

/** Share of `sorted` below `value`, counting ties as half (scipy's `_percentile_of_score`). */
function midRank(sorted: Float64Array, value: number): number {
  let below = 0;
  let equal = 0;
  for (const v of sorted) {
    if (v < value) below++;
    else if (v === value) equal++;
  }
  return (below + equal / 2) / sorted.length;
}

/** Linear-interpolated percentile (`q` in [0, 1]) of sorted values (NumPy's default). */
function percentile(sorted: Float64Array, q: number): number {
  const h = clamp(q, 0, 1) * (sorted.length - 1);
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function mean(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
