import assert from "node:assert/strict";
import { decideComparison } from "../../lib/stats/decision.ts";
import { detectableEffect, seedsPerArm } from "../../lib/stats/power.ts";
import { probabilityOfSuperiority } from "../../lib/stats/rank.ts";
import { lookSchedule, sequentialBounds } from "../../lib/stats/sequential.ts";
import { welchTest } from "../../lib/stats/welch.ts";

const OPTS = { alpha: 0.05, familySize: 1, better: "higher" as const, sesoi: 1 };

Deno.test("decideComparison() is significant exactly when p_adj < alpha, at every family size", () => {
  const a = [10.2, 11.1, 10.6, 11.4, 10.9];
  for (const shift of [0.2, 0.6, 0.9, 1.2, 1.8, 3]) {
    const b = a.map((x, i) => x - shift + [0.3, -0.2, 0.1, -0.4, 0.2][i]!);
    for (const m of [1, 3, 9]) {
      const d = decideComparison(a, b, { ...OPTS, familySize: m, sesoi: undefined });
      const excludes = d.interval.lower > 0 || d.interval.upper < 0;
      assert.equal(excludes, d.pAdjusted < 0.05, `shift ${shift}, m ${m}`);
      assert.equal(d.pAdjusted, Math.min(1, m * welchTest(a, b).p));
    }
  }
});

Deno.test("decideComparison() reads better, worse, equivalent and undetermined off one interval", () => {
  const base = [5, 5.2, 4.9, 5.1, 4.8, 5.05, 4.95, 5.15];
  const plus = (d: number) => base.map((x) => x + d);
  assert.equal(decideComparison(plus(3), base, OPTS).verdict, "better");
  assert.equal(decideComparison(base, plus(3), OPTS).verdict, "worse");
  assert.equal(
    decideComparison(base, plus(3), { ...OPTS, better: "lower" }).verdict,
    "better",
  );
  const eq = decideComparison(plus(0.05), base, OPTS);
  assert.equal(eq.verdict, "equivalent");
  assert.equal(eq.negligible, false);
  const wide = decideComparison([1, 9, 3, 7, 5], [2, 8, 4, 6, 5], OPTS);
  assert.equal(wide.verdict, "undetermined");
  // Without a δ nothing is called equivalent.
  assert.equal(
    decideComparison(plus(0.05), base, { ...OPTS, sesoi: undefined }).verdict,
    "undetermined",
  );
});

Deno.test("decideComparison() reports a real disagreement between the rank test and Welch", () => {
  // Nine of ten runs of a lie above every run of b, but one extreme run of a drags its mean
  // down: the ranks are clear (p = 0.0015), Welch's p = 0.59 is not even below 0.05.
  const b = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const a = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, -20];
  const d = decideComparison(a, b, { ...OPTS, sesoi: 0.01 });
  assert.ok(d.rank.p < 0.05 && d.p >= 0.05);
  assert.equal(d.verdict, "undetermined");
  assert.equal(d.disagreement, "rank");
  // A mismatch of levels alone is no disagreement: Welch at p = 0.03 with m = 3 is simply
  // not significant, and the rank test need not be either.
  const x = [10.2, 11.1, 10.6, 11.4, 10.9];
  const y = [9.6, 10.4, 10.1, 10.9, 10.0];
  const mild = decideComparison(x, y, { ...OPTS, familySize: 3, sesoi: 0.1 });
  assert.equal(mild.disagreement, undefined);
});

Deno.test("decideComparison() decides censored values by the rank test and never calls them equivalent", () => {
  const d = decideComparison([3, 4, 3, 4, 3], [6, 6, 6, 5, 6], {
    alpha: 0.05,
    familySize: 1,
    better: "lower",
    sesoi: 5,
    censoredAt: 6,
  });
  assert.equal(d.method, "gehan");
  assert.deepEqual(d.censored, { a: 0, b: 4 });
  assert.equal(d.verdict, "better");
  const tied = decideComparison([6, 6, 5, 6, 6], [6, 6, 6, 6, 5], {
    alpha: 0.05,
    familySize: 1,
    better: "lower",
    sesoi: 5,
    censoredAt: 6,
  });
  assert.equal(tied.verdict, "undetermined");
});

Deno.test("probabilityOfSuperiority() counts pairs, ties half, and complements when swapped", () => {
  const a = [1, 4, 4, 7];
  const b = [2, 4, 6];
  assert.equal(probabilityOfSuperiority(a, b), (0 + 1.5 + 1.5 + 3) / 12);
  assert.equal(probabilityOfSuperiority(a, b) + probabilityOfSuperiority(b, a), 1);
});

Deno.test("detectableEffect() shrinks and seedsPerArm() grows as they should", () => {
  const v = { varA: 1, varB: 1 };
  assert.ok(
    detectableEffect(v, 10, 10, { alpha: 0.05 }) < detectableEffect(v, 5, 5, { alpha: 0.05 }),
  );
  assert.ok(
    detectableEffect(v, 5, 5, { alpha: 0.01 }) > detectableEffect(v, 5, 5, { alpha: 0.05 }),
  );
  const detect = seedsPerArm(v, 0.5, "detect", { alpha: 0.05 });
  const equivalence = seedsPerArm(v, 0.5, "equivalence", { alpha: 0.05 });
  assert.ok(equivalence > detect);
  assert.equal(seedsPerArm({ varA: 0, varB: 0 }, 0.5, "detect", { alpha: 0.05 }), 2);
  assert.throws(() => seedsPerArm(v, 0, "detect", { alpha: 0.05 }), RangeError);
});

Deno.test("sequentialBounds() keeps earlier boundaries when looks are added and ends near the fixed level", () => {
  const two = sequentialBounds([0.5, 1], 0.05);
  const three = sequentialBounds([0.5, 0.75, 1], 0.05);
  assert.ok(Math.abs(two.critical[0]! - three.critical[0]!) < 1e-9);
  assert.ok(Math.abs(three.spent[2]! - 0.05) < 1e-9);
  assert.ok(three.nominal[2]! < 0.05 && three.nominal[2]! > 0.035);
  assert.deepEqual(lookSchedule(5, 5, 20), [5, 10, 15, 20]);
  assert.throws(() => sequentialBounds([0.5, 0.4], 0.05), RangeError);
});
