import assert from "node:assert/strict";
import fc from "fast-check";
import { welchTest } from "../../lib/stats/welch.ts";

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

Deno.test("welchTest() matches Wikipedia's Welch example (scipy 1.10: t −2.2255, df 24.52, p 0.0355)", () => {
  const a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
  const b = [28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3, 20.4, 23.9, 13.3];
  const r = welchTest(a, b);
  // Reference values from scipy.stats.ttest_ind(a, b, equal_var=False), scipy 1.10.1.
  close(r.t, -2.225512039969852);
  close(r.df, 24.524634944257343);
  close(r.p, 0.035484530830010325, 1e-7);
});

Deno.test("welchTest() matches scipy on accuracy-like samples of five seeds", () => {
  const r = welchTest([0.912, 0.905, 0.918, 0.909, 0.915], [0.901, 0.899, 0.907, 0.895, 0.903]);
  close(r.t, 3.572322488940369, 1e-9);
  close(r.df, 7.877452875557524, 1e-9);
  close(r.p, 0.007455825482346862, 1e-7);
  close(r.meanDiff, 0.0108, 1e-12);
});

Deno.test("welchTest() handles zero variance by convention and rejects tiny groups", () => {
  assert.deepEqual(welchTest([1, 1], [1, 1]).p, 1);
  assert.deepEqual(welchTest([2, 2], [1, 1]), { t: Infinity, df: 2, p: 0, meanDiff: 1, se: 0 });
  assert.throws(() => welchTest([1], [1, 2]), RangeError);
});

// Metric-like values with two decimals (subnormal floats make variances underflow to 0).
const sample = fc.array(fc.integer({ min: -10000, max: 10000 }).map((i) => i / 100), { minLength: 2, maxLength: 12 })
  .filter((x) => new Set(x).size > 1);

Deno.test("welchTest() gives p in [0, 1] and is symmetric in its groups", () => {
  fc.assert(fc.property(sample, sample, (a, b) => {
    const ab = welchTest(a, b);
    const ba = welchTest(b, a);
    assert.ok(ab.p >= 0 && ab.p <= 1);
    close(ab.p, ba.p, 1e-12);
    close(ab.t, -ba.t, 1e-9);
  }), { numRuns: 200 });
});
