import assert from "node:assert/strict";
import fc from "fast-check";
import { welchTest } from "../../lib/stats/welch.ts";

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tolerance ${tol})`);

// Reference values: scipy.stats.ttest_ind(a, b, equal_var=False) from scipy 1.10.1
// (numpy 1.24.2), run once by hand; df and se from the Welch–Satterthwaite formula
// in numpy. The rounded values in the test names are those printed on Wikipedia's
// "Welch's t-test" page for the same data.

Deno.test("welchTest() matches Wikipedia's first Welch example (t −2.46, df 25.0, p 0.021)", () => {
  const a = [
    27.5,
    21.0,
    19.0,
    23.6,
    17.0,
    17.9,
    16.9,
    20.1,
    21.9,
    22.6,
    23.1,
    19.6,
    19.0,
    21.7,
    21.4,
  ];
  const b = [
    27.1,
    22.0,
    20.8,
    23.4,
    23.4,
    23.5,
    25.8,
    22.0,
    24.8,
    20.2,
    21.9,
    22.1,
    22.9,
    20.5,
    24.4,
  ];
  const r = welchTest(a, b);
  close(r.t, -2.455356398286006);
  close(r.df, 24.988529290231416);
  close(r.p, 0.021378001462866985, 1e-9);
  close(r.se, 0.8824245100137552);
  close(r.meanDiff, -2.166666666666668, 1e-12);
});

Deno.test("welchTest() matches Wikipedia's second Welch example (t −1.57, df 9.9, p 0.149)", () => {
  const a = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
  const b = [
    21.5,
    22.8,
    21.0,
    23.0,
    21.6,
    23.6,
    22.5,
    20.7,
    23.4,
    21.8,
    20.7,
    21.7,
    21.5,
    22.5,
    23.6,
    21.5,
    22.5,
    23.5,
    21.5,
    21.8,
  ];
  const r = welchTest(a, b);
  close(r.t, -1.5654335235985037);
  close(r.df, 9.904741248650831);
  close(r.p, 0.14884169660532834, 1e-9);
  close(r.se, 0.9741710376141942);
});

Deno.test("welchTest() matches Wikipedia's third Welch example (t −2.22, df 24.5, p 0.036)", () => {
  const a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
  const b = [
    28.2,
    26.6,
    20.1,
    23.3,
    25.2,
    22.1,
    17.7,
    27.6,
    20.6,
    13.7,
    23.2,
    17.5,
    20.6,
    18.0,
    23.9,
    21.6,
    24.3,
    20.4,
    23.9,
    13.3,
  ];
  const r = welchTest(a, b);
  close(r.t, -2.225512039969852);
  close(r.df, 24.524634944257343);
  close(r.p, 0.035484530830010325, 1e-9);
  close(r.se, 0.9975232486408261);
});

Deno.test("welchTest() matches scipy on accuracy-like samples of five seeds", () => {
  const r = welchTest([0.912, 0.905, 0.918, 0.909, 0.915], [0.901, 0.899, 0.907, 0.895, 0.903]);
  close(r.t, 3.572322488940369);
  close(r.df, 7.877452875557524);
  close(r.p, 0.007455825482346862, 1e-9);
  close(r.se, 0.0030232432915661975, 1e-15);
  close(r.meanDiff, 0.0108, 1e-12);
});

Deno.test("welchTest() matches a hand computation with equal variances", () => {
  // a = [1, 2, 3, 4], b = [2, 3, 4, 5]: both variances 5/3, so s²/n = 5/12 each;
  // se = √(10/12) = 0.9128709; t = −1 / se = −1.0954451;
  // df = (10/12)² / (2 · (5/12)² / 3) = (100/144) / (50/432) = 6 (= na + nb − 2 here).
  // p = 2·F_t(−1.0954451; 6); scipy 1.10.1 gives 0.3153335962012296.
  const r = welchTest([1, 2, 3, 4], [2, 3, 4, 5]);
  close(r.se, Math.sqrt(10 / 12), 1e-15);
  close(r.t, -1 / Math.sqrt(10 / 12), 1e-12);
  close(r.df, 6, 1e-12);
  close(r.p, 0.3153335962012296, 1e-9);
});

Deno.test("welchTest() follows its conventions for constant groups", () => {
  assert.deepEqual(welchTest([1, 1], [1, 1]), { t: 0, df: 2, p: 1, meanDiff: 0, se: 0 });
  assert.deepEqual(welchTest([2, 2], [1, 1, 1]), { t: Infinity, df: 3, p: 0, meanDiff: 1, se: 0 });
  assert.deepEqual(welchTest([1, 1], [2, 2]).t, -Infinity);
  // Constant groups are recognised exactly: summing three 0.1s alone would
  // leave a variance of ~3e-34 and a finite t of ~1e16.
  assert.deepEqual(welchTest([0.1, 0.1, 0.1], [0.2, 0.2, 0.2]), {
    t: -Infinity,
    df: 4,
    p: 0,
    meanDiff: 0.1 - 0.2,
    se: 0,
  });
  // One constant group: df = nb − 1 exactly, from the other group alone;
  // se = √(1/3), t = (0.7 − 2)/se = −2.2516660; scipy 1.10.1: p = 0.15317382621950254.
  const one = welchTest([0.7, 0.7, 0.7], [1, 2, 3]);
  close(one.df, 2, 1e-12);
  close(one.se, Math.sqrt(1 / 3), 1e-15);
  close(one.t, -2.251666049839541, 1e-12);
  close(one.p, 0.15317382621950254, 1e-9);
});

Deno.test("welchTest() rejects groups of fewer than 2 values", () => {
  assert.throws(() => welchTest([1], [1, 2]), RangeError);
  assert.throws(() => welchTest([1, 2], []), RangeError);
});

// Metric-like values with two decimals (subnormal floats would make variances underflow to 0).
const sample = fc.array(fc.integer({ min: -10000, max: 10000 }).map((i) => i / 100), {
  minLength: 2,
  maxLength: 12,
});

Deno.test("welchTest() gives p in [0, 1] and is symmetric in its groups", () => {
  fc.assert(
    fc.property(sample, sample, (a, b) => {
      const ab = welchTest(a, b);
      const ba = welchTest(b, a);
      assert.ok(ab.p >= 0 && ab.p <= 1, `p = ${ab.p}`);
      assert.ok(ab.df > 0, `df = ${ab.df}`);
      assert.equal(ab.p, ba.p);
      assert.equal(ab.df, ba.df);
      assert.equal(ab.t, -ba.t);
      assert.equal(ab.meanDiff, -ba.meanDiff);
    }),
    { numRuns: 200 },
  );
});

Deno.test("welchTest() df lies between min(na, nb) − 1 and na + nb − 2", () => {
  // A known bound of the Welch–Satterthwaite approximation.
  const varied = sample.filter((x) => new Set(x).size > 1);
  fc.assert(
    fc.property(varied, varied, (a, b) => {
      const { df } = welchTest(a, b);
      assert.ok(df >= Math.min(a.length, b.length) - 1 - 1e-9, `df = ${df}`);
      assert.ok(df <= a.length + b.length - 2 + 1e-9, `df = ${df}`);
    }),
    { numRuns: 200 },
  );
});
