import assert from "node:assert/strict";
import { type AnalysisOptions, analyzeStudy, DEFAULT_ANALYSIS } from "../../lib/report/analyze.ts";
import { loadStudy } from "../../lib/report/load.ts";
import { tQuantile } from "../../lib/stats/quantile.ts";
import { tMeanInterval, tPredictionInterval } from "../../lib/stats/tinterval.ts";
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
  // RQ1 is a family of one: the 95% Welch interval −2 ± t(0.975; 8) · se.
  const half = tQuantile(0.975, 8) * Math.sqrt(0.12);
  assert.ok(Math.abs(c.interval!.lower - (-2 - half)) < 1e-9);
  assert.ok(Math.abs(c.interval!.upper - (-2 + half)) < 1e-9);
  // post_bn peaked at the 6-epoch cap in 2 runs: censored, so the rank test (Gehan) decides.
  assert.deepEqual(c.censoring, { a: 0, b: 2, cap: 6 });
  assert.equal(c.method, "gehan");
  assert.equal(c.superiority, 0);
  assert.equal(c.decision, "better");
  // Exact permutation test: only 2 of the C(10,5) = 252 relabellings are as extreme.
  assert.equal(c.permutation!.permutations, 252);
  assert.ok(Math.abs(c.permutation!.p - 2 / 252) < 1e-12, `perm p = ${c.permutation!.p}`);
});

Deno.test("each research question is its own Bonferroni family, and p_adj agrees with the interval", async () => {
  const { s, data } = await placement();
  const a = analyzeStudy(s, data, FAST);
  const rq3 = a.questions.find((q) => q.question.id === "RQ3")!.comparisons;
  assert.equal(rq3.length, 5);
  for (const c of rq3) {
    assert.equal(c.familySize, 5);
    assert.equal(c.level, 0.01);
    assert.ok(Math.abs(c.pAdjusted! - Math.min(1, 5 * c.welch!.p)) < 1e-12);
    const excludes = c.interval!.lower > 0 || c.interval!.upper < 0;
    assert.equal(excludes, c.pAdjusted! < 0.05);
  }
  const rq1 = a.questions.find((q) => q.question.id === "RQ1")!.comparisons[0]!;
  assert.equal(rq1.familySize, 1);
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

Deno.test("comparisons with a variant that has no runs are not testable and leave their family", async () => {
  const { s, data } = await placement(PLACEMENT_EPOCHS, {
    variants: ["baseline", "post_bn", "pre_bn", "bn_dropout", "dropout_bn"],
  });
  const a = analyzeStudy(s, data, FAST);
  assert.deepEqual(a.missingVariants, ["classical"]);
  const untestable = a.questions.flatMap((q) => q.comparisons).filter((c) =>
    c.decision === "untestable"
  );
  assert.equal(untestable.length, 3);
  const rq3 = a.questions.find((q) => q.question.id === "RQ3")!.comparisons;
  assert.ok(rq3.every((c) => c.familySize === 4));
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

Deno.test("a published value is judged against the Student-t prediction interval of one run, with the interval of the mean beside it", async () => {
  const tmp = await tempDir();
  const s = await spec("se_residual");
  // se_cnn: mean 90.9, sd 0.158 (pp); se_resnet: far below the published 92.62.
  await writeFixture(tmp.path, s, {
    profile: "full",
    values: {
      se_cnn: { test_acc: [0.907, 0.909, 0.911, 0.908, 0.91] },
      se_resnet: { test_acc: [0.9, 0.901, 0.899, 0.9, 0.9] },
    },
  });
  const data = (await loadStudy(tmp.path, s, "full"))!;
  await tmp.cleanup();
  const a = analyzeStudy(s, data, FAST);
  const cnn = a.crossChecks.find((c) => c.variant === "se_cnn" && c.metric === "test_acc")!;
  const xs = [90.7, 90.9, 91.1, 90.8, 91.0];
  const close = (got: { lower: number; upper: number } | undefined, want: typeof got) =>
    assert.ok(
      got && want && Math.abs(got.lower - want.lower) < 1e-9 &&
        Math.abs(got.upper - want.upper) < 1e-9,
      `${JSON.stringify(got)} vs ${JSON.stringify(want)}`,
    );
  close(cnn.interval, tMeanInterval(xs, FAST.confidence));
  close(cnn.prediction, tPredictionInterval(xs, FAST.confidence));
  assert.ok(
    cnn.prediction!.upper - cnn.prediction!.lower > cnn.interval!.upper - cnn.interval!.lower,
  );
  // 90.94 lies inside both: mean 90.9 ± 2.776·0.158/√5 = [90.70, 91.10].
  assert.equal(cnn.inside, true);
  assert.equal(cnn.reasons, undefined);
  const res = a.crossChecks.find((c) => c.variant === "se_resnet" && c.metric === "test_acc")!;
  assert.equal(res.inside, false);
  const aspects = res.reasons!.map((d) => d.aspect);
  assert.ok(aspects.includes("architecture") && aspects.includes("augmentation"), `${aspects}`);
  assert.ok(
    !aspects.includes("profile"),
    "the quick and smoke profiles' deviations are not full's",
  );
  assert.ok(
    res.reasons!.every((d) => d.metrics === undefined || d.metrics.includes("test_acc")),
    "only deviations bearing on test accuracy",
  );
});

Deno.test("an undetermined comparison says how many seeds would settle it", async () => {
  const { s, data } = await placement();
  const a = analyzeStudy(s, data, FAST);
  const all = a.questions.flatMap((q) => q.comparisons);
  const open = all.filter((c) => c.decision === "undetermined");
  assert.ok(open.length > 0);
  for (const c of open) {
    assert.ok(c.powerNote, `${c.a} vs ${c.b} has no seeds-needed figure`);
    assert.ok(c.powerNote.seedsToResolve >= c.powerNote.seedsToDetect);
    assert.ok(c.powerNote.detectable > 0);
  }
  for (const c of all.filter((c) => c.decision !== "undetermined")) {
    assert.equal(c.powerNote, undefined);
  }
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
