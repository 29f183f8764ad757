/**
 * Descriptive statistics of a sample.
 *
 * @module
 */
import { max, mean, min, sampleVariance } from "simple-statistics";

/** n, mean, sample standard deviation (divisor n − 1), minimum and maximum. */
export interface Description {
  /** Number of values. */
  n: number;
  /** Arithmetic mean, in the units of the data. */
  mean: number;
  /** Sample standard deviation (divisor n − 1), in the units of the data; 0 for n = 1. */
  sd: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
}

/** Mean and sample variance of a sample, see {@linkcode meanAndVariance}. */
export interface Moments {
  /** Arithmetic mean, in the units of the data. */
  mean: number;
  /** Sample variance (divisor n − 1), in squared units; 0 for n = 1. */
  variance: number;
}

/**
 * Describe a sample with simple-statistics' mean, sample standard deviation
 * (divisor n − 1), minimum and maximum.
 *
 * Conventions: the sd of a single value is reported as 0 (not NaN), and a
 * sample whose values are all equal has exactly that value as its mean and an
 * sd of exactly 0 (floating-point summation alone would give, for three
 * copies of 0.1, a mean of 0.10000000000000002 and an sd of 1.7e-17).
 *
 * @param x The sample.
 * @returns n, mean, sd, min and max.
 * @throws {RangeError} When `x` is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describe } from "./describe.ts";
 * assert.deepEqual(describe([1, 2, 3]), { n: 3, mean: 2, sd: 1, min: 1, max: 3 });
 * assert.deepEqual(describe([0.1, 0.1, 0.1]), { n: 3, mean: 0.1, sd: 0, min: 0.1, max: 0.1 });
 * ```
 */
export function describe(x: readonly number[]): Description {
  if (x.length === 0) throw new RangeError("Cannot describe an empty sample");
  const values = [...x];
  const m = meanAndVariance(values);
  return {
    n: values.length,
    mean: m.mean,
    sd: Math.sqrt(m.variance),
    min: min(values),
    max: max(values),
  };
}

/**
 * Mean and sample variance (divisor n − 1) from simple-statistics, exact for
 * constant samples: all-equal values give that value as the mean and a
 * variance of exactly 0. A single value has variance 0.
 *
 * @param x The sample.
 * @returns The mean and the sample variance.
 * @throws {RangeError} When `x` is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanAndVariance } from "./describe.ts";
 * // Mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; 5 / 3.
 * assert.deepEqual(meanAndVariance([1, 2, 3, 4]), { mean: 2.5, variance: 5 / 3 });
 * ```
 */
export function meanAndVariance(x: readonly number[]): Moments {
  if (x.length === 0) throw new RangeError("Cannot take the mean of an empty sample");
  const first = x[0]!;
  if (x.length === 1 || x.every((v) => v === first)) return { mean: first, variance: 0 };
  const values = [...x];
  return { mean: mean(values), variance: sampleVariance(values) };
}
