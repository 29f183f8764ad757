import assert from "node:assert/strict";
import {
  type AnalysisOptions,
  analyzeStudy,
  decide,
  DEFAULT_ANALYSIS,
} from "../../lib/report/analyze.ts";
import { loadStudy } from "../../lib/report/load.ts";
import { holmAdjust } from "../../lib/stats/holm.ts";
import { PLACEMENT_EPOCHS, spec, tempDir, writeFixture } from "./_fixture.ts";

/** Fewer resamples keep the tests fast; everything else as in the report. */
const FAST: AnalysisOptions = { ...DEFAULT_ANALYSIS, resamples: 2000 };

async function placement(
  values = PLACEMENT_EPOCHS,
  options: Parameters<typeof writeFixture>[2] = {},
) {
  const tmp = await tempDir();
  const s = await spec("placement");
  await writeFixture(tmp.path, s, { values, ...options });
  const data = await loadStudy(tmp.path, s, "quick");
  await tmp.cleanup();
  assert.ok(data);
  return { s, data };
}

Deno.test("the analysis reproduces a convergence difference computed by hand", async () => {
  const { s, data } = await placement();
  const a = analyzeStudy(s, data, FAST);
  const c = a.questions.find((q) => q.question.id === "RQ1")!.comparisons[0]!;
  assert.equal(c.a, "pre_bn");
  assert.equal(c.b, "post_bn");
  // pre_bn 3,4,3,4,3 (mean 3.4, variance 0.3); post_bn 5,5,6,5,6 (mean 5.4, variance 0.3).
  assert.ok(Math.abs(c.summaryA.mean - 3.4) < 1e-12);
  assert.ok(Math.abs(c.summaryB.mean - 5.4) < 1e-12);
  assert.ok(Math.abs(c.diff - -2) < 1e-12);
  // se = sqrt(0.3/5 + 0.3/5) = sqrt(0.12); t = -2 / se; df = 8 (equal variances and sizes).
  assert.ok(Math.abs(c.welch!.t - -2 / Math.sqrt(0.12)) < 1e-9, `t = ${c.welch!.t}`);
  assert.ok(Math.abs(c.welch!.df - 8) < 1e-9, `df = ${c.welch!.df}`);
  assert.ok(c.interval!.upper < 0, "every resample of a 2-epoch gap with spread 1 stays below 0");
  assert.equal(c.decision, "detectable");
  // Exact permutation test: only 2 of the C(10,5) = 252 relabellings are as extreme.
  assert.equal(c.permutation!.permutations, 252);
  assert.ok(Math.abs(c.permutation!.p - 2 / 252) < 1e-12, `perm p = ${c.permutation!.p}`);
});

Deno.test("Holm adjustment runs over every comparison of the experiment, all questions together", async () => {
  const { s, data } = await placement();
  const a = analyzeStudy(s, data, FAST);
  const all = a.questions.flatMap((q) => q.comparisons);
  assert.equal(all.length, 9);
  assert.equal(a.familySize, 9);
  const expected = holmAdjust(all.map((c) => c.welch!.p));
  all.forEach((c, i) => assert.equal(c.pAdjusted, expected[i]));
  for (const c of all) assert.ok(c.pAdjusted! >= c.welch!.p);
});

Deno.test("accuracy per million parameters is derived as test accuracy over parameters in millions", async () => {
  const { s, data } = await placement();
  const run = data.runs.find((r) => r.variant === "baseline" && r.seed === 0)!;
  // The fixture gives baseline 400,000 parameters; accuracies are stored in percent.
  assert.ok(Math.abs(run.values.acc_per_mparam - run.values.test_acc / 100 / 0.4) < 1e-12);
  const v = analyzeStudy(s, data, FAST).variants.find((x) => x.variant === "baseline")!;
  assert.equal(v.params, 400_000);
});

Deno.test("accuracy metrics are reported in percent and gaps in percentage points", async () => {
  const { data } = await placement({
    baseline: { test_acc: [0.9, 0.91, 0.92, 0.93, 0.94], gap: [0.01, 0.02, 0.03, 0.04, 0.05] },
  });
  const runs = data.runs.filter((r) => r.variant === "baseline");
  assert.deepEqual(runs.map((r) => Math.round(r.values.test_acc * 1e6) / 1e6), [
    90,
    91,
    92,
    93,
    94,
  ]);
  assert.deepEqual(runs.map((r) => Math.round(r.values.gap * 1e6) / 1e6), [1, 2, 3, 4, 5]);
});

Deno.test("the same data always give the same numbers (seeded bootstraps)", async () => {
  const { s, data } = await placement();
  const first = analyzeStudy(s, data, FAST);
  const second = analyzeStudy(s, data, FAST);
  assert.deepEqual(
    first.questions.flatMap((q) => q.comparisons.map((c) => [c.interval, c.pAdjusted])),
    second.questions.flatMap((q) => q.comparisons.map((c) => [c.interval, c.pAdjusted])),
  );
  assert.deepEqual(first.curves, second.curves);
});

Deno.test("comparisons with a variant that has no runs are not testable and leave the Holm family", async () => {
  const { s, data } = await placement(PLACEMENT_EPOCHS, {
    variants: ["baseline", "post_bn", "pre_bn", "bn_dropout", "dropout_bn"],
  });
  const a = analyzeStudy(s, data, FAST);
  assert.deepEqual(a.missingVariants, ["classical"]);
  const untestable = a.questions.flatMap((q) => q.comparisons).filter((c) =>
    c.decision === "untestable"
  );
  assert.equal(untestable.length, 3);
  assert.equal(a.familySize, 6);
  assert.match(untestable[0]!.reason!, /at least 2 runs per variant/);
});

Deno.test("variants whose every run gave the same value show no difference", async () => {
  const { s, data } = await placement({
    pre_bn: { best_epoch: [4, 4, 4, 4, 4] },
    post_bn: { best_epoch: [4, 4, 4, 4, 4] },
  });
  const c = analyzeStudy(s, data, FAST).questions[0]!.comparisons[0]!;
  assert.equal(c.decision, "identical");
  assert.equal(c.diff, 0);
});

Deno.test("published values are compared in display units and goals name the variants that reach them", async () => {
  const tmp = await tempDir();
  const s = await spec("lenet5");
  await writeFixture(tmp.path, s, {
    values: {
      baseline: { test_acc: [0.87, 0.872, 0.874, 0.871, 0.873] },
      bn: { test_acc: [0.9, 0.91, 0.9, 0.91, 0.9] },
    },
  });
  const data = (await loadStudy(tmp.path, s, "quick"))!;
  await tmp.cleanup();
  const a = analyzeStudy(s, data, FAST);
  const check = a.crossChecks.find((c) => c.variant === "baseline" && c.metric === "val_acc")!;
  assert.ok(Math.abs(check.published - 89.2121) < 1e-9);
  const goal = a.goals[0]!;
  assert.equal(goal.atLeast, 88);
  assert.equal(goal.variants.find((v) => v.variant === "baseline")!.reaches, false);
  assert.equal(goal.variants.find((v) => v.variant === "bn")!.reaches, true);
});

Deno.test("the decision rule needs both a Holm-adjusted p below alpha and a CI that excludes 0", () => {
  const ci = (lower: number, upper: number) => ({
    lower,
    upper,
    method: "bca",
    distinctResamples: 126,
  });
  const base = { decision: "not_detectable" as const };
  assert.equal(decide({ ...base, pAdjusted: 0.01, interval: ci(0.2, 1) }, 0.05), "detectable");
  assert.equal(decide({ ...base, pAdjusted: 0.01, interval: ci(-1, -0.2) }, 0.05), "detectable");
  assert.equal(decide({ ...base, pAdjusted: 0.3, interval: ci(-0.5, 1) }, 0.05), "not_detectable");
  assert.equal(decide({ ...base, pAdjusted: 0.01, interval: ci(-0.1, 1) }, 0.05), "p_only");
  assert.equal(decide({ ...base, pAdjusted: 0.2, interval: ci(0.1, 1) }, 0.05), "ci_only");
  assert.equal(decide({ decision: "identical" }, 0.05), "identical");
});

Deno.test("learning curves average the seeds that reached each epoch", async () => {
  // pre_bn seeds 0 and 1 stop early (best epoch 1, patience 3: 4 epochs); the others run 6.
  const { s, data } = await placement({ pre_bn: { best_epoch: [1, 1, 3, 3, 3] } });
  const a = analyzeStudy(s, data, FAST);
  const points = a.curves.filter((p) => p.variant === "pre_bn" && p.metric === "val_loss");
  assert.deepEqual(points.map((p) => p.epoch), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(points.map((p) => p.n), [5, 5, 5, 5, 3, 3]);
  const epochFive = data.epochs.filter((e) => e.variant === "pre_bn" && e.epoch === 5).map((e) =>
    e.val_loss
  );
  const mean = epochFive.reduce((x, y) => x + y, 0) / epochFive.length;
  assert.ok(Math.abs(points[4]!.mean - mean) < 1e-12);
  assert.ok(points.every((p) => p.lower !== undefined && p.lower <= p.mean && p.mean <= p.upper!));
});
