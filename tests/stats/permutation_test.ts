import assert from "node:assert/strict";
import fc from "fast-check";
import { binomial, exactPermutationTest } from "../../lib/stats/permutation.ts";

Deno.test("exactPermutationTest() enumerates every relabeling of a hand-countable example", () => {
  // [1, 2, 3] vs [4, 5, 6]: observed diff −3. Of the C(6, 3) = 20 splits, only the
  // observed one ({1,2,3}: −3) and its mirror ({4,5,6}: +3) reach |diff| = 3; the next
  // most extreme, {1,2,4} vs {3,5,6}, has |7/3 − 14/3| = 7/3. So p = 2/20 = 0.1.
  assert.deepEqual(exactPermutationTest([1, 2, 3], [4, 5, 6]), {
    p: 0.1,
    permutations: 20,
    observed: -3,
  });
});

Deno.test("exactPermutationTest() counts ties with the observed difference", () => {
  // [1, 2] vs [1, 2]: observed diff 0, so all C(4, 2) = 6 splits reach it: p = 1.
  assert.deepEqual(exactPermutationTest([1, 2], [1, 2]), { p: 1, permutations: 6, observed: 0 });
  // [0, 3] vs [1, 2]: diff 0 again; every split has |diff| ≥ 0, p = 1.
  assert.equal(exactPermutationTest([0, 3], [1, 2]).p, 1);
  // [1] vs [2, 3]: the 3 splits give |1 − 2.5| = 1.5, |2 − 2| = 0, |3 − 1.5| = 1.5: p = 2/3.
  assert.equal(exactPermutationTest([1], [2, 3]).p, 2 / 3);
});

Deno.test("exactPermutationTest() matches scipy's exact permutation test on 5 vs 5", () => {
  // scipy.stats.permutation_test((a, b), mean(a) − mean(b), permutation_type="independent",
  // n_resamples=np.inf) from scipy 1.10.1 enumerates the same 252 splits; with equal
  // group sizes its two-sided p (twice the smaller tail) equals the |diff| rule here.
  const a = [0.912, 0.905, 0.918, 0.909, 0.915];
  const r = exactPermutationTest(a, [0.901, 0.899, 0.907, 0.895, 0.903]);
  assert.equal(r.permutations, 252);
  assert.equal(r.p, 4 / 252); // scipy: 0.015873015873015872
  assert.ok(Math.abs(r.observed - 0.0108) < 1e-12);
  assert.equal(exactPermutationTest(a, [0.911, 0.899, 0.917, 0.895, 0.903]).p, 46 / 252); // scipy: 0.18253968253968253
});

Deno.test("exactPermutationTest() matches a brute-force enumeration for unequal groups", () => {
  // Python itertools over the C(10, 4) = 210 splits, counting |diff| ≥ |observed| − 1e-12:
  // 22 of 210. (scipy's p, twice the smaller tail, is 0.1333 here: the null is not
  // symmetric when na ≠ nb, so the two two-sided rules differ.)
  const r = exactPermutationTest([3.1, 2.4, 5.6, 4.0], [2.2, 1.9, 3.5, 2.8, 2.0, 3.3]);
  assert.equal(r.permutations, 210);
  assert.equal(r.p, 22 / 210);
  assert.ok(Math.abs(r.observed - 1.1583333333333332) < 1e-12);
});

Deno.test("exactPermutationTest() tolerates rounding on large values", () => {
  // Timing-like values near 1e5: observed = 300011.13/3 − 300013.29/3 = −0.72. In exact
  // rational arithmetic (Python fractions over the values × 100 as integers) 16 of the
  // 20 splits reach |diff| ≥ 0.72; in floats one tie lands ~1e-11 short, which an absolute
  // 1e-12 tolerance would drop (15/20). The tolerance scales with the largest |value|.
  const r = exactPermutationTest([100003.51, 100003.37, 100004.25], [
    100006.43,
    100004.13,
    100002.73,
  ]);
  assert.equal(r.p, 16 / 20);
});

Deno.test("exactPermutationTest() refuses empty groups, non-finite values and too many relabelings", () => {
  assert.throws(() => exactPermutationTest([], [1]), RangeError);
  assert.throws(() => exactPermutationTest([1, NaN], [1]), RangeError);
  // C(30, 15) = 155,117,520 > 1e6.
  assert.throws(
    () => exactPermutationTest(new Array(15).fill(0), new Array(15).fill(1)),
    RangeError,
  );
  // C(10, 5) = 252: fine by default, refused under a limit of 100.
  assert.throws(
    () => exactPermutationTest([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], { limit: 100 }),
    RangeError,
  );
});

Deno.test("binomial() gives exact small coefficients", () => {
  assert.equal(binomial(6, 3), 20);
  assert.equal(binomial(10, 5), 252);
  assert.equal(binomial(9, 5), 126);
  assert.equal(binomial(30, 15), 155117520);
  assert.equal(binomial(39, 20), 68923264410);
  assert.equal(binomial(5, 0), 1);
  assert.throws(() => binomial(3, 4), RangeError);
});

Deno.test("exactPermutationTest() gives p in (0, 1], symmetric in its groups", () => {
  const g = fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(g, g, (a, b) => {
      const ab = exactPermutationTest(a, b);
      assert.ok(ab.p > 0 && ab.p <= 1, `p = ${ab.p}`);
      // At least the observed split and (for equal sizes) its mirror count.
      assert.ok(ab.p >= (a.length === b.length ? 2 : 1) / ab.permutations);
      const ba = exactPermutationTest(b, a);
      assert.equal(ab.p, ba.p);
      assert.equal(ab.permutations, ba.permutations);
    }),
    { numRuns: 100 },
  );
});
