/**
 * Seeded bias-corrected and accelerated (BCa) bootstrap confidence intervals
 * (Efron, 1987; Efron & Tibshirani, 1993, ch. 14) for a mean and for a
 * difference of means, following the same estimator as
 * `scipy.stats.bootstrap(method="BCa")`: mid-rank bias correction z0,
 * jackknife acceleration (per group for two samples), linear-interpolated
 * percentiles. Randomness comes from the harness's seeded streams, so the
 * same inputs and seed give the same interval.
 *
 * @module
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import { rngAt } from "../rng.ts";
import { binomial } from "./permutation.ts";

/** Options of the bootstrap functions. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 10,000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  confidence?: number;
  /** Seed of the resampling stream (default 0). */
  seed?: number;
}

/** A bootstrap confidence interval. */
export interface BootstrapInterval {
  /** The statistic on the original data. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  method: "bca";
  /** Number of distinct resamples the data allow (C(2n − 1, n), multiplied over groups). */
  distinctResamples: number;
}

/**
 * BCa interval for the mean of `x`. All-equal data give a zero-width
 * interval; the interval is widened, if ever needed, to contain the estimate.
 * Throws `RangeError` for fewer than 2 values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapMean } from "./bootstrap.ts";
 * const ci = bootstrapMean([1, 2, 3, 4, 5, 6, 7, 8], { seed: 1 });
 * assert.ok(ci.lower < 4.5 && 4.5 < ci.upper);
 * ```
 */
export function bootstrapMean(x: readonly number[], options: BootstrapOptions = {}): BootstrapInterval {
  return bca([x], ([s]) => mean(s!), options, "mean");
}

/**
 * BCa interval for mean(a) − mean(b), resampling each group independently.
 * Throws `RangeError` when a group has fewer than 2 values.
 */
export function bootstrapMeanDiff(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions = {},
): BootstrapInterval {
  return bca([a, b], ([s, t]) => mean(s!) - mean(t!), options, "diff");
}

/**
 * A plain-English warning when `n` per group is so small (≤ 5) that the
 * bootstrap has few distinct resamples, else `undefined`.
 */
export function fewResamplesWarning(n: number): string | undefined {
  if (n > 5) return undefined;
  return `with n = ${n} per group the bootstrap has only ${binomial(2 * n - 1, n)} distinct ` +
    `resamples per group, so its intervals are coarse and tend to be too narrow`;
}

type Statistic = (samples: readonly (readonly number[])[]) => number;

function bca(
  samples: readonly (readonly number[])[],
  statistic: Statistic,
  options: BootstrapOptions,
  label: string,
): BootstrapInterval {
  const { resamples = 10_000, confidence = 0.95, seed = 0 } = options;
  for (const s of samples) {
    if (s.length < 2) throw new RangeError(`The bootstrap needs at least 2 values per group, got ${s.length}`);
  }
  const estimate = statistic(samples);
  const distinctResamples = samples.reduce((n, s) => n * binomial(2 * s.length - 1, s.length), 1);
  const base = { estimate, confidence, resamples, method: "bca" as const, distinctResamples };
  const rng = rngAt(seed, "bootstrap", label, ...samples.map((s) => s.length));
  const draws = new Float64Array(resamples);
  const buffers = samples.map((s) => new Array<number>(s.length));
  for (let b = 0; b < resamples; b++) {
    samples.forEach((s, g) => {
      const buffer = buffers[g]!;
      for (let i = 0; i < s.length; i++) buffer[i] = s[rng.nextInt(s.length)]!;
    });
    draws[b] = statistic(buffers);
  }
  draws.sort();
  if (draws[0] === draws[resamples - 1]) return { ...base, lower: estimate, upper: estimate };
  const z0 = normalQuantile(clamp(midRank(draws, estimate), 0.5 / resamples, 1 - 0.5 / resamples), 0, 1);
  const a = acceleration(samples, statistic);
  const zLow = normalQuantile((1 - confidence) / 2, 0, 1);
  const adjust = (z: number) => normalCdf(z0 + (z0 + z) / (1 - a * (z0 + z)), 0, 1);
  const lower = percentile(draws, adjust(zLow));
  const upper = percentile(draws, adjust(-zLow));
  return { ...base, lower: Math.min(lower, estimate), upper: Math.max(upper, estimate) };
}

/** Jackknife acceleration, per group, combined as scipy does for several samples. */
function acceleration(samples: readonly (readonly number[])[], statistic: Statistic): number {
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

/** Share of `sorted` below `value`, counting ties as half. */
function midRank(sorted: Float64Array, value: number): number {
  let below = 0;
  let equal = 0;
  for (const v of sorted) {
    if (v < value) below++;
    else if (v === value) equal++;
  }
  return (below + equal / 2) / sorted.length;
}

/** Linear-interpolated percentile (`q` in [0, 1]) of sorted values. */
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
