import assert from "node:assert/strict";
import { hedgesG } from "../../lib/stats/effect.ts";
import { exactPermutationTest } from "../../lib/stats/permutation.ts";
import { describe } from "../../lib/stats/describe.ts";
import fc from "fast-check";

Deno.test("hedgesG() matches a hand computation", () => {
  // a = [2, 4, 6], b = [1, 2, 3]: means 4 and 2, variances 4 and 1,
  // pooled sd = √((2·4 + 2·1) / 4) = √2.5 = 1.5811; d = 2 / 1.5811 = 1.2649;
  // J = 1 − 3 / (4·6 − 9) = 0.8; g = 1.01193.
  assert.ok(Math.abs(hedgesG([2, 4, 6], [1, 2, 3]) - 1.0119289) < 1e-6);
  assert.equal(hedgesG([1, 1], [1, 1]), 0);
  assert.equal(hedgesG([2, 2], [1, 1]), Infinity);
});

Deno.test("exactPermutationTest() enumerates every relabeling of a small example", () => {
  // [1,2,3] vs [4,5,6]: of the C(6,3) = 20 splits only this one and its mirror reach |diff| = 3.
  assert.deepEqual(exactPermutationTest([1, 2, 3], [4, 5, 6]), { p: 0.1, permutations: 20, observed: -3 });
  // Identical groups: every relabeling is at least as extreme as a zero difference.
  assert.equal(exactPermutationTest([1, 2], [1, 2]).p, 1);
  assert.throws(() => exactPermutationTest(new Array(15).fill(0), new Array(15).fill(1)), RangeError);
});

Deno.test("exactPermutationTest() gives p in (0, 1] and is symmetric", () => {
  const g = fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 6 });
  fc.assert(fc.property(g, g, (a, b) => {
    const ab = exactPermutationTest(a, b);
    assert.ok(ab.p > 0 && ab.p <= 1);
    assert.equal(ab.p, exactPermutationTest(b, a).p);
  }), { numRuns: 100 });
});

Deno.test("describe() gives n, mean, sample sd, min and max", () => {
  assert.deepEqual(describe([2, 4, 4, 4, 5, 5, 7, 9]), { n: 8, mean: 5, sd: Math.sqrt(32 / 7), min: 2, max: 9 });
  assert.deepEqual(describe([3]), { n: 1, mean: 3, sd: 0, min: 3, max: 3 });
  assert.throws(() => describe([]), RangeError);
});
