import assert from "node:assert/strict";
import fc from "fast-check";
import { bootstrapMean, bootstrapMeanDiff, fewResamplesWarning } from "../../lib/stats/bootstrap.ts";

const x = [0.8806, 0.8791, 0.8833, 0.8775, 0.8810, 0.8842, 0.8768, 0.8821, 0.8799, 0.8815, 0.8783, 0.8830, 0.8804, 0.8795, 0.8827, 0.8789, 0.8812, 0.8801, 0.8838, 0.8780];
const y = [0.8712, 0.8745, 0.8701, 0.8733, 0.8760, 0.8721, 0.8739, 0.8698, 0.8750, 0.8728, 0.8716, 0.8742, 0.8709, 0.8755, 0.8731, 0.8719, 0.8736, 0.8704, 0.8747, 0.8725];

/** |ours − reference| within `tol` of the interval's width. */
function near(ours: number, reference: number, width: number, tol = 0.05) {
  assert.ok(Math.abs(ours - reference) <= tol * width, `${ours} vs scipy ${reference}`);
}

Deno.test("bootstrapMean() agrees with scipy's BCa interval (different RNG, within 5% of the width)", () => {
  // scipy.stats.bootstrap((x,), np.mean, n_resamples=10000, method="BCa", random_state=0), scipy 1.10.1
  const ci = bootstrapMean(x, { seed: 1 });
  near(ci.lower, 0.879695, 0.0018);
  near(ci.upper, 0.881495, 0.0018);
  assert.equal(ci.resamples, 10000);
});

Deno.test("bootstrapMean() corrects for skew like scipy's BCa", () => {
  // Right-skewed sample: BCa's interval sits far to the right of the symmetric one.
  // scipy (seeds 0, 1, 2): [0.4933, 1.8156], [0.4933, 1.8433], [0.4933, 1.8700].
  const skew = [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.6, 2.8, 4.5, 0.3, 0.2, 0.9, 0.15];
  const ci = bootstrapMean(skew, { seed: 3 });
  near(ci.lower, 0.4933, 1.35, 0.06);
  near(ci.upper, 1.84, 1.35, 0.06);
});

Deno.test("bootstrapMeanDiff() agrees with scipy's two-sample BCa interval", () => {
  // scipy.stats.bootstrap((x, y), mean(x) − mean(y), method="BCa", random_state=0): [0.0065651, 0.0089605]
  const ci = bootstrapMeanDiff(x, y, { seed: 1 });
  near(ci.lower, 0.006565121234360879, 0.0024);
  near(ci.upper, 0.008960469849937425, 0.0024);
  assert.equal(ci.distinctResamples, 68923264410 ** 2);
});

Deno.test("bootstrap intervals are reproducible from their seed and change with it", () => {
  assert.deepEqual(bootstrapMean(x, { seed: 7 }), bootstrapMean(x, { seed: 7 }));
  assert.notDeepEqual(bootstrapMean(x, { seed: 7 }), bootstrapMean(x, { seed: 8 }));
});

Deno.test("bootstrap intervals contain the estimate and collapse on constant data", () => {
  // Accuracy-like values (4 decimals), the domain the harness uses.
  const sample = fc.array(fc.integer({ min: 0, max: 10000 }).map((i) => i / 10000), { minLength: 2, maxLength: 8 });
  fc.assert(fc.property(sample, sample, fc.integer(), (a, b, seed) => {
    const m = bootstrapMean(a, { seed, resamples: 500 });
    assert.ok(m.lower <= m.estimate && m.estimate <= m.upper);
    const d = bootstrapMeanDiff(a, b, { seed, resamples: 500 });
    assert.ok(d.lower <= d.estimate && d.estimate <= d.upper);
  }), { numRuns: 100 });
  const flat = bootstrapMean([0.5, 0.5, 0.5]);
  assert.deepEqual([flat.lower, flat.upper], [0.5, 0.5]);
});

Deno.test("fewResamplesWarning() warns only for n ≤ 5 and counts distinct resamples", () => {
  assert.match(fewResamplesWarning(5)!, /n = 5 per group the bootstrap has only 126 distinct resamples/);
  assert.equal(fewResamplesWarning(6), undefined);
});
