import assert from "node:assert/strict";
import fc from "fast-check";
import { holmAdjust, holmReject } from "../../lib/stats/holm.ts";

Deno.test("holmAdjust() follows the step-down rule on a worked example", () => {
  // Sorted p: 0.01, 0.02, 0.03, 0.04 (m = 4) → ×4, ×3, ×2, ×1 = 0.04, 0.06, 0.06, 0.04
  // → running maximum 0.04, 0.06, 0.06, 0.06, returned in input order.
  const adjusted = holmAdjust([0.03, 0.01, 0.04, 0.02]);
  [0.06, 0.04, 0.06, 0.06].forEach((e, i) => assert.ok(Math.abs(adjusted[i]! - e) < 1e-15));
  assert.deepEqual(holmReject([0.03, 0.01, 0.04, 0.02], 0.05), [false, true, false, false]);
  assert.deepEqual(holmAdjust([0.9, 0.8]), [1, 1]);
});

Deno.test("holmAdjust() never rejects more than unadjusted tests and never lowers a p-value", () => {
  const ps = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 });
  fc.assert(fc.property(ps, fc.double({ min: 0.001, max: 0.2, noNaN: true }), (p, alpha) => {
    const adjusted = holmAdjust(p);
    adjusted.forEach((q, i) => assert.ok(q >= p[i]! && q <= 1));
    const rejected = holmReject(p, alpha).filter(Boolean).length;
    assert.ok(rejected <= p.filter((x) => x < alpha).length);
  }), { numRuns: 300 });
});
