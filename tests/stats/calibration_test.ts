/**
 * Calibration of the decision rule by seeded simulation with the project's own
 * code (lib/stats/calibration.ts). Replicates are sized to run in well under a
 * minute; `deno task calibrate` reruns them with more replicates for the README.
 */
import assert from "node:assert/strict";
import {
  equivalencePower,
  familyWiseError,
  intervalCoverage,
  sequentialError,
  verdictRate,
} from "../../lib/stats/calibration.ts";

const ALPHA = 0.05;
const SEED = 2024;

for (const n of [5, 10]) {
  Deno.test(`the full verdict rule keeps its family-wise error at ${ALPHA} for 9 comparisons, n = ${n}`, () => {
    const r = familyWiseError({ n, m: 9, replicates: 2000, seed: SEED });
    assert.ok(
      r.rate <= ALPHA + 2 * Math.sqrt(ALPHA * (1 - ALPHA) / r.replicates),
      `FWER ${r.rate}`,
    );
  });
}

Deno.test("the shown 95% intervals cover the true difference at least 93.5% of the time at n = 5", () => {
  for (const sdB of [1, 3]) {
    const r = intervalCoverage({ n: 5, m: 1, sdB, replicates: 2000, seed: SEED });
    assert.ok(r.rate >= 0.935, `coverage ${r.rate} with sd ratio ${sdB}`);
  }
  const family = intervalCoverage({ n: 5, m: 9, replicates: 500, seed: SEED });
  assert.ok(family.rate >= 0.935, `simultaneous coverage of 9: ${family.rate}`);
});

Deno.test("'equivalent' is called at most alpha of the time when the true difference is δ", () => {
  for (const n of [5, 20]) {
    const r = verdictRate("equivalent", {
      n,
      m: 1,
      trueDiff: 1,
      sesoi: 1,
      replicates: 2000,
      seed: SEED,
    });
    assert.ok(r.rate <= ALPHA, `equivalent at the margin: ${r.rate} (n = ${n})`);
  }
});

Deno.test("'equivalent' has about 80% power at the planned n when there is no difference", () => {
  const r = equivalencePower({ m: 3, sesoi: 1, replicates: 1000, seed: SEED });
  assert.ok(r.rate >= 0.8 - 3 * r.se, `power ${r.rate} at n = ${r.n}`);
});

Deno.test("the sequential procedure keeps its null error at alpha over four looks", () => {
  const r = sequentialError({ m: 3, start: 5, step: 5, max: 20, replicates: 1000, seed: SEED });
  assert.ok(r.rate <= ALPHA + 2 * Math.sqrt(ALPHA * (1 - ALPHA) / r.replicates), `error ${r.rate}`);
});
