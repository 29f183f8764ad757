import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bcaLevels,
  type BootstrapInterval,
  bootstrapMean,
  bootstrapMeanDiff,
  fewResamplesWarning,
  jackknifeAcceleration,
  type Statistic,
} from "../../lib/stats/bootstrap.ts";

const close = (a: number, b: number, tol: number) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tolerance ${tol})`);

// Accuracy-like samples of 20 runs each.
const x = [
  0.8806,
  0.8791,
  0.8833,
  0.8775,
  0.8810,
  0.8842,
  0.8768,
  0.8821,
  0.8799,
  0.8815,
  0.8783,
  0.8830,
  0.8804,
  0.8795,
  0.8827,
  0.8789,
  0.8812,
  0.8801,
  0.8838,
  0.8780,
];
const y = [
  0.8712,
  0.8745,
  0.8701,
  0.8733,
  0.8760,
  0.8721,
  0.8739,
  0.8698,
  0.8750,
  0.8728,
  0.8716,
  0.8742,
  0.8709,
  0.8755,
  0.8731,
  0.8719,
  0.8736,
  0.8704,
  0.8747,
  0.8725,
];
// Right-skewed sample of 15: BCa moves the interval well to the right of a symmetric one.
const skew = [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.6, 2.8, 4.5, 0.3, 0.2, 0.9, 0.15];

const mean: Statistic = ([s]) => s!.reduce((acc, v) => acc + v, 0) / s!.length;
const diff: Statistic = ([s, t]) => mean([s!]) - mean([t!]);

/**
 * Compare with scipy's BCa interval. The RNGs differ, so the ends are compared in units
 * of the interval's width (a tolerance relative to the ends themselves, ≈ 0.88 here,
 * would be far looser than the width of 0.0018): each of seeds 0–9 within 6% of the
 * width, and their average, which has less Monte-Carlo noise, within 1.5%. Over seeds
 * 0–99 the worst single-seed deviation seen was 4.3% of the width and the average
 * deviation 0.2%.
 */
function agreesWithScipy(
  run: (seed: number) => BootstrapInterval,
  reference: { lower: number; upper: number },
) {
  const width = reference.upper - reference.lower;
  let lower = 0;
  let upper = 0;
  const seeds = 10;
  for (let seed = 0; seed < seeds; seed++) {
    const ci = run(seed);
    close(ci.lower, reference.lower, 0.06 * width);
    close(ci.upper, reference.upper, 0.06 * width);
    lower += ci.lower / seeds;
    upper += ci.upper / seeds;
  }
  close(lower, reference.lower, 0.015 * width);
  close(upper, reference.upper, 0.015 * width);
}

// References: scipy.stats.bootstrap(data, statistic, n_resamples=10000, method="BCa",
// random_state=s, vectorized=True) from scipy 1.10.1, averaged over s = 0…39 to damp
// scipy's own Monte-Carlo noise (its per-seed sd is about 0.8% of the width for x).

Deno.test("bootstrapMean() agrees with scipy's BCa interval for n = 20", () => {
  // scipy seed 0: [0.879695, 0.881495]; mean over 40 seeds below.
  agreesWithScipy((seed) => bootstrapMean(x, { seed }), {
    lower: 0.8796788939546076,
    upper: 0.8815105372940369,
  });
});

Deno.test("bootstrapMean() corrects for skew like scipy's BCa", () => {
  // scipy seed 0: [0.4933, 1.8156]; a symmetric interval around 0.897 would be ±0.6.
  agreesWithScipy((seed) => bootstrapMean(skew, { seed }), {
    lower: 0.4954860871318065,
    upper: 1.8417217226257911,
  });
});

Deno.test("bootstrapMeanDiff() agrees with scipy's two-sample BCa interval", () => {
  // scipy seed 0: [0.0065651, 0.0089605]; mean over 40 seeds below.
  agreesWithScipy((seed) => bootstrapMeanDiff(x, y, { seed }), {
    lower: 0.006538106629467204,
    upper: 0.008943933230461243,
  });
});

Deno.test("jackknifeAcceleration() matches scipy's a_hat for one and two samples", () => {
  // a_hat from scipy.stats._resampling._bca_interval (scipy 1.10.1) on the same data.
  close(jackknifeAcceleration([x], mean), 0.0006900566578582235, 1e-9);
  close(jackknifeAcceleration([skew], mean), 0.0868470906877856, 1e-12);
  close(jackknifeAcceleration([x, y], diff), 0.0007715750985659629, 1e-9);
  close(jackknifeAcceleration([skew, x], diff), 0.08684678407403029, 1e-12);
  // Hand check: [0, 0, 3]: leave-one-out means 1.5, 1.5, 0 (mean 1); u = 2·(1 − θ₍₋ᵢ₎) =
  // −1, −1, 2; Σu³ = 6, Σu² = 6; a = (6/27) / (6 · (6/9)^1.5) = 0.0680414.
  close(jackknifeAcceleration([[0, 0, 3]], mean), (6 / 27) / (6 * (6 / 9) ** 1.5), 1e-15);
});

Deno.test("bcaLevels() matches scipy's adjusted percentile levels", () => {
  // scipy's _bca_interval with 10 draws of which 3 lie below the estimate and 1 on it:
  // mid-rank 3.5/10, z0 = Φ⁻¹(0.35) = −0.38532046640756773; α = 0.025.
  const z0 = -0.38532046640756773;
  const skewed = bcaLevels(z0, 0.0868470906877856, 0.95);
  close(skewed.lower, 0.009804482463246906, 1e-12);
  close(skewed.upper, 0.9248926882680707, 1e-12);
  const flat = bcaLevels(z0, 0.0006900566578582235, 0.95);
  close(flat.lower, 0.0031974393305203735, 1e-12);
  close(flat.upper, 0.8831802560465254, 1e-12);
  // No bias, no acceleration: the plain percentile levels.
  const plain = bcaLevels(0, 0, 0.9);
  close(plain.lower, 0.05, 1e-12);
  close(plain.upper, 0.95, 1e-12);
});

Deno.test("bcaLevels() handles an infinite bias correction and a vanishing denominator", () => {
  // Every resample above the estimate: z0 = −∞, both levels 0 (and +∞ → 1), not NaN.
  assert.deepEqual(bcaLevels(-Infinity, 0.05, 0.95), { lower: 0, upper: 0 });
  assert.deepEqual(bcaLevels(Infinity, -0.05, 0.95), { lower: 1, upper: 1 });
  // 1 − a(z0 + z) ≤ 0 for the upper end (a = 0.5, z0 + 1.96 > 2): the level takes
  // its limit 1 instead of wrapping round to the lower tail.
  const steep = bcaLevels(0.5, 0.5, 0.95);
  assert.equal(steep.upper, 1);
  assert.ok(steep.lower > 0 && steep.lower < 0.5);
  assert.throws(() => bcaLevels(NaN, 0, 0.95), RangeError);
  assert.throws(() => bcaLevels(0, 0, 1), RangeError);
});

Deno.test("bootstrap intervals are reproducible from their seed and change with it", () => {
  assert.deepEqual(bootstrapMean(x, { seed: 7 }), bootstrapMean(x, { seed: 7 }));
  assert.deepEqual(bootstrapMeanDiff(x, y, { seed: 7 }), bootstrapMeanDiff(x, y, { seed: 7 }));
  assert.notDeepEqual(bootstrapMean(x, { seed: 7 }), bootstrapMean(x, { seed: 8 }));
  assert.notDeepEqual(bootstrapMeanDiff(x, y, { seed: 7 }), bootstrapMeanDiff(x, y, { seed: 8 }));
  // The default seed is 0.
  assert.deepEqual(bootstrapMean(skew), bootstrapMean(skew, { seed: 0 }));
});

Deno.test("bootstrap intervals report their settings and widen with the confidence level", () => {
  const ci = bootstrapMean(x);
  assert.equal(ci.resamples, 10000);
  assert.equal(ci.confidence, 0.95);
  assert.equal(ci.method, "bca");
  // n = 20: C(39, 20) = 68,923,264,410 distinct resamples; two groups multiply.
  assert.equal(ci.distinctResamples, 68923264410);
  assert.equal(bootstrapMeanDiff(x, y).distinctResamples, 68923264410 * 68923264410);
  const narrow = bootstrapMean(skew, { confidence: 0.8, resamples: 2000, seed: 1 });
  const wide = bootstrapMean(skew, { confidence: 0.99, resamples: 2000, seed: 1 });
  assert.equal(narrow.resamples, 2000);
  assert.ok(wide.lower < narrow.lower && narrow.upper < wide.upper);
});

Deno.test("bootstrap intervals collapse to the exact value on constant data", () => {
  // A plain sum of three 0.1s would give 0.10000000000000002.
  const flat = bootstrapMean([0.1, 0.1, 0.1]);
  assert.deepEqual([flat.estimate, flat.lower, flat.upper], [0.1, 0.1, 0.1]);
  const both = bootstrapMeanDiff([0.3, 0.3], [0.1, 0.1, 0.1]);
  assert.deepEqual([both.estimate, both.lower, both.upper], [0.3 - 0.1, 0.3 - 0.1, 0.3 - 0.1]);
  // One constant group still leaves the other's spread.
  const one = bootstrapMeanDiff([0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4], { seed: 2 });
  assert.ok(one.lower < one.estimate && one.estimate < one.upper);
});

Deno.test("bootstrap intervals stay finite when every resample lies on one side", () => {
  // With one resample of [0, 1] (estimate 0.5) the draw is 0, 0.5 or 1, so z0 can be ±∞.
  // A draw of 1 gives z0 = −∞, both levels 0, and the interval [estimate, draw] = [0.5, 1].
  let oneSided = 0;
  for (let seed = 0; seed < 20; seed++) {
    const ci = bootstrapMean([0, 1], { resamples: 1, seed });
    assert.ok(Number.isFinite(ci.lower) && Number.isFinite(ci.upper), JSON.stringify(ci));
    assert.ok(ci.lower <= 0.5 && 0.5 <= ci.upper);
    if (ci.lower < ci.upper) oneSided++;
  }
  assert.ok(oneSided > 0, "no seed drew a resample off the estimate");
});

Deno.test("bootstrap intervals give NaN ends for non-finite data", () => {
  const ci = bootstrapMean([1, NaN, 3]);
  assert.ok(Number.isNaN(ci.lower) && Number.isNaN(ci.upper));
});

Deno.test("bootstrap functions refuse tiny groups and invalid options", () => {
  assert.throws(() => bootstrapMean([1]), RangeError);
  assert.throws(() => bootstrapMeanDiff([1, 2], [3]), RangeError);
  assert.throws(() => bootstrapMean([1, 2], { resamples: 0 }), RangeError);
  assert.throws(() => bootstrapMean([1, 2], { resamples: 2.5 }), RangeError);
  assert.throws(() => bootstrapMean([1, 2], { confidence: 1 }), RangeError);
  assert.throws(() => bootstrapMean([1, 2], { seed: 0.5 }), RangeError);
});

Deno.test("bootstrap intervals contain the estimate and stay inside the data's range", () => {
  // Accuracy-like values (4 decimals), the domain the harness uses.
  const sample = fc.array(fc.integer({ min: 0, max: 10000 }).map((i) => i / 10000), {
    minLength: 2,
    maxLength: 8,
  });
  fc.assert(
    fc.property(sample, sample, fc.integer({ min: 0, max: 2 ** 31 }), (a, b, seed) => {
      const m = bootstrapMean(a, { seed, resamples: 500 });
      assert.ok(m.lower <= m.estimate && m.estimate <= m.upper, JSON.stringify(m));
      // Every resample mean lies within [min, max] of the data, so the interval does too
      // (up to the rounding of a sum: three 0.8625s average to 0.8625000000000002).
      const eps = 1e-12;
      assert.ok(
        Math.min(...a) - eps <= m.lower && m.upper <= Math.max(...a) + eps,
        JSON.stringify(m),
      );
      const d = bootstrapMeanDiff(a, b, { seed, resamples: 500 });
      assert.ok(d.lower <= d.estimate && d.estimate <= d.upper, JSON.stringify(d));
      assert.ok(Number.isFinite(d.lower) && Number.isFinite(d.upper));
    }),
    { numRuns: 100 },
  );
});

Deno.test("BCa intervals hold the estimate strictly inside for varied samples of 5 or more", () => {
  // The widening to the estimate is a safety net, not what places it inside: for
  // non-constant data with n ≥ 5 the BCa ends themselves straddle it (3,000 runs offline).
  const sample = fc.array(fc.integer({ min: 0, max: 10000 }).map((i) => i / 10000), {
    minLength: 5,
    maxLength: 10,
  }).filter((v) => new Set(v).size > 1);
  fc.assert(
    fc.property(sample, sample, fc.nat(), (a, b, seed) => {
      const m = bootstrapMean(a, { seed, resamples: 2000 });
      assert.ok(m.lower < m.estimate && m.estimate < m.upper, JSON.stringify(m));
      const d = bootstrapMeanDiff(a, b, { seed, resamples: 2000 });
      assert.ok(d.lower < d.estimate && d.estimate < d.upper, JSON.stringify(d));
    }),
    { numRuns: 50 },
  );
});

Deno.test("bcaLevels() stays in [0, 1] and keeps lower ≤ upper", () => {
  fc.assert(
    fc.property(
      fc.double({ min: -10, max: 10, noNaN: true }),
      fc.double({ min: -0.5, max: 0.5, noNaN: true }),
      fc.double({ min: 0.5, max: 0.999, noNaN: true }),
      (z0, a, confidence) => {
        const { lower, upper } = bcaLevels(z0, a, confidence);
        assert.ok(0 <= lower && lower <= upper && upper <= 1, `${lower}, ${upper}`);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("fewResamplesWarning() warns only for n ≤ 5 and counts distinct resamples", () => {
  // n = 5: C(9, 5) = 126 multisets; n = 3: C(5, 3) = 10 (aaa, bbb, ccc, aab, aac, bba,
  // bbc, cca, ccb, abc).
  assert.match(
    fewResamplesWarning(5)!,
    /n = 5 per group the bootstrap has only 126 distinct resamples/,
  );
  assert.match(fewResamplesWarning(3)!, /only 10 distinct resamples/);
  assert.match(fewResamplesWarning(1)!, /only 1 distinct resample per group/);
  assert.equal(fewResamplesWarning(6), undefined);
  assert.equal(fewResamplesWarning(Infinity), undefined);
  assert.throws(() => fewResamplesWarning(0), RangeError);
  assert.throws(() => fewResamplesWarning(2.5), RangeError);
});
