/**
 * Student-t intervals from one sample: the confidence interval of its mean,
 * and the prediction interval of one more draw from the same population.
 * Both assume roughly normal values; at n = 5 they hold their coverage where
 * the BCa bootstrap of the mean under-covers.
 *
 * @module
 */
import { meanAndVariance } from "./describe.ts";
import { tQuantile } from "./quantile.ts";

/** A two-sided interval around the sample mean. */
export interface TInterval {
  /** Sample mean, in the units of the data. */
  mean: number;
  /** Lower end, in the units of the data. */
  lower: number;
  /** Upper end, in the units of the data. */
  upper: number;
  /** Degrees of freedom, n − 1. */
  df: number;
  /** Confidence (coverage) aimed at, in (0, 1). */
  confidence: number;
}

/**
 * Student-t confidence interval of the mean: mean ± t(1 − (1 − c)/2; n − 1)·sd/√n,
 * with sd the sample standard deviation. A constant sample gives a zero-width interval.
 *
 * @param x The sample (at least 2 values).
 * @param confidence Coverage aimed at, in (0, 1) (default 0.95).
 * @returns The mean and the interval.
 * @throws {RangeError} With fewer than 2 values or a confidence outside (0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tMeanInterval } from "./tinterval.ts";
 * // mean 3, sd √2.5, t(0.975; 4) = 2.776445: half-width 2.776445·√2.5/√5 = 1.963243.
 * const ci = tMeanInterval([1, 2, 3, 4, 5]);
 * assert.ok(Math.abs(ci.lower - 1.036757) < 1e-6 && Math.abs(ci.upper - 4.963243) < 1e-6);
 * ```
 */
export function tMeanInterval(x: readonly number[], confidence = 0.95): TInterval {
  return tInterval(x, confidence, (n) => Math.sqrt(1 / n), "confidence interval of the mean");
}

/**
 * Student-t prediction interval of one new draw from the sample's population:
 * mean ± t(1 − (1 − c)/2; n − 1)·sd·√(1 + 1/n). It covers a single future run with
 * probability c, where the interval of the mean covers only the population mean.
 *
 * @param x The sample (at least 2 values).
 * @param confidence Coverage aimed at, in (0, 1) (default 0.95).
 * @returns The mean and the interval.
 * @throws {RangeError} With fewer than 2 values or a confidence outside (0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tPredictionInterval } from "./tinterval.ts";
 * // Half-width 2.776445·√2.5·√1.2 = 4.808944.
 * const pi = tPredictionInterval([1, 2, 3, 4, 5]);
 * assert.ok(Math.abs(pi.upper - 7.808944) < 1e-6 && Math.abs(pi.lower + 1.808944) < 1e-6);
 * ```
 */
export function tPredictionInterval(x: readonly number[], confidence = 0.95): TInterval {
  return tInterval(x, confidence, (n) => Math.sqrt(1 + 1 / n), "prediction interval");
}

function tInterval(
  x: readonly number[],
  confidence: number,
  factor: (n: number) => number,
  what: string,
): TInterval {
  if (x.length < 2) {
    throw new RangeError(`A Student-t ${what} needs at least 2 values, got ${x.length}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`The confidence must lie in (0, 1), got ${confidence}`);
  }
  const { mean, variance } = meanAndVariance(x);
  const df = x.length - 1;
  const half = variance === 0
    ? 0
    : tQuantile(1 - (1 - confidence) / 2, df) * Math.sqrt(variance) * factor(x.length);
  return { mean, lower: mean - half, upper: mean + half, df, confidence };
}
