import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, meanAndVariance } from "../../lib/stats/describe.ts";

Deno.test("describe() gives n, mean, sample sd, min and max", () => {
  // [2, 4, 4, 4, 5, 5, 7, 9]: mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32;
  // sample variance 32/7, sd √(32/7) = 2.1380899.
  assert.deepEqual(describe([2, 4, 4, 4, 5, 5, 7, 9]), {
    n: 8,
    mean: 5,
    sd: Math.sqrt(32 / 7),
    min: 2,
    max: 9,
  });
});

Deno.test("describe() reports sd 0 for one value and exact values for constant samples", () => {
  assert.deepEqual(describe([3]), { n: 1, mean: 3, sd: 0, min: 3, max: 3 });
  // A plain sum would give mean 0.10000000000000002 and sd 1.7e-17.
  assert.deepEqual(describe([0.1, 0.1, 0.1]), { n: 3, mean: 0.1, sd: 0, min: 0.1, max: 0.1 });
  assert.deepEqual(meanAndVariance([0.8806, 0.8806, 0.8806]), { mean: 0.8806, variance: 0 });
});

Deno.test("describe() refuses an empty sample", () => {
  assert.throws(() => describe([]), RangeError);
  assert.throws(() => meanAndVariance([]), RangeError);
});

Deno.test("describe() keeps the mean within [min, max] and the sd non-negative", () => {
  const sample = fc.array(fc.integer({ min: -10000, max: 10000 }).map((i) => i / 100), {
    minLength: 1,
    maxLength: 20,
  });
  fc.assert(
    fc.property(sample, (x) => {
      const d = describe(x);
      assert.equal(d.n, x.length);
      assert.ok(d.min <= d.mean && d.mean <= d.max, `${d.min} ≤ ${d.mean} ≤ ${d.max}`);
      assert.ok(d.sd >= 0);
      assert.equal(d.sd === 0, new Set(x).size === 1);
    }),
    { numRuns: 200 },
  );
});
