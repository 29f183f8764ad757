import assert from "node:assert/strict";
import fc from "fast-check";
import { holmAdjust, holmReject } from "../../lib/stats/holm.ts";

const closeAll = (actual: number[], expected: number[]) => {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) =>
    assert.ok(Math.abs(actual[i]! - e) < 1e-15, `${actual[i]} vs ${e} at ${i}`)
  );
};

Deno.test("holmAdjust() follows the step-down rule on a worked example", () => {
  // Sorted p: 0.01, 0.02, 0.03, 0.04 (m = 4) → ×4, ×3, ×2, ×1 = 0.04, 0.06, 0.06, 0.04
  // → running maximum 0.04, 0.06, 0.06, 0.06, returned in input order.
  closeAll(holmAdjust([0.03, 0.01, 0.04, 0.02]), [0.06, 0.04, 0.06, 0.06]);
  assert.deepEqual(holmReject([0.03, 0.01, 0.04, 0.02], 0.05), [false, true, false, false]);
});

Deno.test("holmReject() reproduces Wikipedia's four-hypothesis Holm example", () => {
  // p = 0.01, 0.04, 0.03, 0.005 at α = 0.05. Sorted: 0.005 ≤ 0.05/4 = 0.0125 (reject),
  // 0.01 ≤ 0.05/3 = 0.0167 (reject), 0.03 > 0.05/2 = 0.025 (stop): H1 and H4 rejected.
  // Adjusted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04·1, 0.06) = 0.06.
  const p = [0.01, 0.04, 0.03, 0.005];
  assert.deepEqual(holmReject(p, 0.05), [true, false, false, true]);
  closeAll(holmAdjust(p), [0.03, 0.06, 0.06, 0.02]);
  // Plain Bonferroni (0.05/4 = 0.0125) would reject H4 only: Holm is uniformly more powerful.
});

Deno.test("holmAdjust() caps at 1, keeps ties and handles trivial families", () => {
  assert.deepEqual(holmAdjust([0.9, 0.8]), [1, 1]);
  assert.deepEqual(holmAdjust([0.02, 0.02, 0.02]), [0.06, 0.06, 0.06]);
  assert.deepEqual(holmAdjust([0.3]), [0.3]);
  assert.deepEqual(holmAdjust([]), []);
  assert.deepEqual(holmAdjust([0, 1]), [0, 1]);
});

Deno.test("holmAdjust() and holmReject() reject invalid inputs", () => {
  assert.throws(() => holmAdjust([0.1, NaN]), RangeError);
  assert.throws(() => holmAdjust([-0.1]), RangeError);
  assert.throws(() => holmAdjust([1.5]), RangeError);
  assert.throws(() => holmReject([0.1], 0), RangeError);
});

const pValues = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
  minLength: 1,
  maxLength: 20,
});

Deno.test("holmAdjust() never lowers a p-value, stays in [0, 1] and keeps the order of p-values", () => {
  fc.assert(
    fc.property(pValues, (p) => {
      const adjusted = holmAdjust(p);
      adjusted.forEach((q, i) => assert.ok(q >= p[i]! && q <= 1, `${q} for ${p[i]}`));
      // Monotone: a smaller raw p never gets a larger adjusted p.
      for (let i = 0; i < p.length; i++) {
        for (let j = 0; j < p.length; j++) {
          if (p[i]! <= p[j]!) assert.ok(adjusted[i]! <= adjusted[j]!);
        }
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("holmReject() never rejects more than unadjusted tests and matches the step-down rule", () => {
  fc.assert(
    fc.property(pValues, fc.double({ min: 0.001, max: 0.2, noNaN: true }), (p, alpha) => {
      const rejected = holmReject(p, alpha);
      // Every Holm rejection is also an unadjusted rejection at the same α.
      rejected.forEach((r, i) => assert.ok(!r || p[i]! < alpha));
      // Direct step-down: walk the sorted p-values, reject while p(k) · (m − k) < α.
      const m = p.length;
      const order = p.map((v, i) => ({ v, i })).sort((x, y) => x.v - y.v || x.i - y.i);
      const expected = new Array<boolean>(m).fill(false);
      for (let k = 0; k < m; k++) {
        if (!(Math.min(1, order[k]!.v * (m - k)) < alpha)) break;
        expected[order[k]!.i] = true;
      }
      assert.deepEqual(rejected, expected);
    }),
    { numRuns: 300 },
  );
});
