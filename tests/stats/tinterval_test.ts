import assert from "node:assert/strict";
import { rngAt } from "../../lib/rng.ts";
import { normals } from "../../lib/stats/calibration.ts";
import { tMeanInterval, tPredictionInterval } from "../../lib/stats/tinterval.ts";

/** Share of `replicates` simulated samples of size n whose interval covers its target. */
function coverage(
  n: number,
  replicates: number,
  covers: (sample: number[], next: number) => boolean,
): number {
  const rng = rngAt(20240616, "tinterval", n);
  let hits = 0;
  for (let r = 0; r < replicates; r++) {
    const [next, ...sample] = normals(rng, n + 1, 0.9, 0.01);
    if (covers(sample, next!)) hits++;
  }
  return hits / replicates;
}

Deno.test("tMeanInterval() covers the population mean 95% of the time at n = 5 (simulation)", () => {
  const hit = coverage(5, 20_000, (s) => {
    const ci = tMeanInterval(s);
    return ci.lower <= 0.9 && 0.9 <= ci.upper;
  });
  // 20,000 replicates: binomial sd 0.0015, so ±0.006 is four sds.
  assert.ok(Math.abs(hit - 0.95) < 0.006, `coverage ${hit}`);
});

Deno.test("tPredictionInterval() covers one more run 95% of the time at n = 5, the interval of the mean far less (simulation)", () => {
  const predicted = coverage(5, 20_000, (s, next) => {
    const pi = tPredictionInterval(s);
    return pi.lower <= next && next <= pi.upper;
  });
  assert.ok(Math.abs(predicted - 0.95) < 0.006, `prediction coverage ${predicted}`);
  const byMean = coverage(5, 20_000, (s, next) => {
    const ci = tMeanInterval(s);
    return ci.lower <= next && next <= ci.upper;
  });
  // A single run lies inside the mean's interval with probability P(|T₄| ≤ 2.776/√6) = 0.680;
  // 20,000 replicates: binomial sd 0.0033.
  assert.ok(Math.abs(byMean - 0.680) < 0.013, `mean-interval coverage of one run ${byMean}`);
});

Deno.test("the Student-t intervals agree with scipy.stats.t at n = 3 and 90%", () => {
  // scipy.stats.t.ppf(0.95, 2) = 2.919985580355516; sample [0.88, 0.90, 0.91]: mean 0.896667,
  // sd 0.0152753; half-widths 2.919986·sd/√3 = 0.0257518 and 2.919986·sd·√(4/3) = 0.0515036.
  const x = [0.88, 0.9, 0.91];
  const ci = tMeanInterval(x, 0.9);
  const pi = tPredictionInterval(x, 0.9);
  assert.ok(Math.abs(ci.upper - ci.mean - 0.0257518) < 1e-6, `${ci.upper - ci.mean}`);
  assert.ok(Math.abs(pi.upper - pi.mean - 0.0515036) < 1e-6, `${pi.upper - pi.mean}`);
  assert.equal(ci.df, 2);
});

Deno.test("the Student-t intervals refuse fewer than 2 values and give zero width for a constant sample", () => {
  assert.throws(() => tMeanInterval([1]), RangeError);
  assert.throws(() => tPredictionInterval([1, 2], 1), RangeError);
  assert.deepEqual(tPredictionInterval([0.9, 0.9, 0.9]), {
    mean: 0.9,
    lower: 0.9,
    upper: 0.9,
    df: 2,
    confidence: 0.95,
  });
});
