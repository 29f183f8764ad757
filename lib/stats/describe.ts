/**
 * Descriptive statistics of a sample.
 *
 * @module
 */
import { max, mean, min, sampleStandardDeviation } from "simple-statistics";

/** n, mean, sample standard deviation (n − 1), minimum and maximum. */
export interface Description {
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
}

/**
 * Describe a sample. The sd is the sample standard deviation (divisor n − 1),
 * defined as 0 for a single value. Throws `RangeError` for an empty sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describe } from "./describe.ts";
 * assert.deepEqual(describe([1, 2, 3]), { n: 3, mean: 2, sd: 1, min: 1, max: 3 });
 * ```
 */
export function describe(x: readonly number[]): Description {
  if (x.length === 0) throw new RangeError("Cannot describe an empty sample");
  const values = [...x];
  return {
    n: values.length,
    mean: mean(values),
    sd: values.length > 1 ? sampleStandardDeviation(values) : 0,
    min: min(values),
    max: max(values),
  };
}
