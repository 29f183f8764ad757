import assert from "node:assert/strict";
import type { Comparison } from "../../lib/report/analyze.ts";
import { favoured, levelText, questionSummary, verdictLine } from "../../lib/report/verdict.ts";
import type { Question } from "../../lib/spec.ts";

const CTX = { alpha: 0.05 };

function comparison(overrides: Partial<Comparison>): Comparison {
  const summary = { n: 5, mean: 0, sd: 1, min: 0, max: 0 };
  return {
    question: "RQ1",
    metric: "test_acc",
    better: "higher",
    a: "classical",
    b: "baseline",
    summaryA: summary,
    summaryB: summary,
    diff: 0,
    sesoi: 0.5,
    familySize: 1,
    level: 0.05,
    welch: { t: 0, df: 8, p: 0.5 },
    pAdjusted: 0.5,
    hedgesG: 0,
    superiority: 0.5,
    rank: { p: 0.5, pAdjusted: 0.5, method: "exact" },
    method: "welch",
    decision: "undetermined",
    ...overrides,
  };
}

const ci = (lower: number, upper: number) => ({
  lower,
  upper,
  method: "welch",
  distinctResamples: 126,
});

Deno.test("verdictLine() words a better variant in percentage points with its adjusted CI, g and P(a > b)", () => {
  const c = comparison({
    diff: 0.8,
    interval: ci(0.6, 1.0),
    level: 0.05 / 3,
    familySize: 3,
    pAdjusted: 0.02,
    hedgesG: 2.5,
    superiority: 0.96,
    decision: "better",
  });
  assert.equal(
    verdictLine(c, CTX),
    "**`classical` better than `baseline`:** `classical` had test accuracy 0.80 percentage points " +
      "higher than `baseline` (98.3% CI +0.60 to +1.00 pp; p_adj = 0.020, Hedges' g = 2.50, " +
      "P(a > b) = 0.96).",
  );
  const worse = { ...c, diff: -0.8, interval: ci(-1.0, -0.6), decision: "worse" as const };
  assert.match(verdictLine(worse, CTX), /^\*\*`baseline` better than `classical`:\*\*/);
  assert.equal(favoured(worse), "baseline");
});

Deno.test("verdictLine() calls an interval inside ±δ equivalent, and says when it also excludes 0", () => {
  const c = comparison({ diff: 0.1, interval: ci(-0.2, 0.4), decision: "equivalent" });
  assert.match(verdictLine(c, CTX), /^\*\*Equivalent within ±0\.50 percentage points:\*\*/);
  assert.match(verdictLine(c, CTX), /lies inside ±0\.50 percentage points/);
  const real = { ...c, interval: ci(0.05, 0.3), negligible: true };
  assert.match(verdictLine(real, CTX), /real but smaller than the smallest effect of interest/);
});

Deno.test("verdictLine() gives every undetermined comparison the seeds that would settle it", () => {
  const c = comparison({
    diff: 0.3,
    interval: ci(-0.5, 1.1),
    powerNote: { detectable: 1.4, seedsToDetect: 22, seedsToResolve: 29, power: 0.8, level: 0.05 },
  });
  const line = verdictLine(c, CTX);
  assert.match(line, /^\*\*Undetermined:\*\* `classical` − `baseline` = \+0\.30 pp/);
  assert.match(line, /neither excludes 0 nor lies inside ±0\.50 percentage points/);
  assert.match(line, /smallest difference detectable with 80% power is 1\.40 percentage points/);
  assert.match(line, /about 29 seeds per variant would settle it \(22 detect a difference/);
});

Deno.test("verdictLine() explains a real disagreement between Welch and the rank test", () => {
  const c = comparison({
    diff: 1.2,
    interval: ci(0.1, 2.3),
    rank: { p: 0.31, pAdjusted: 0.31, method: "exact" },
    disagreement: "welch",
  });
  const line = verdictLine(c, CTX);
  assert.match(line, /^\*\*Undetermined \(the tests disagree\):\*\*/);
  assert.match(
    line,
    /rank test \(Mann–Whitney p = 0\.310\) is not significant even at the unadjusted 0\.05/,
  );
});

Deno.test("verdictLine() words a censored convergence comparison from the rank test, without a size", () => {
  const c = comparison({
    metric: "best_epoch",
    better: "lower",
    a: "pre_bn",
    b: "post_bn",
    diff: -1.8,
    interval: ci(-2.5, -1.1),
    censoring: { a: 0, b: 4, cap: 6 },
    method: "gehan",
    superiority: 0.1,
    rank: { p: 0.02, pAdjusted: 0.02, method: "asymptotic" },
    decision: "better",
  });
  const line = verdictLine(c, CTX);
  assert.match(line, /`pre_bn` reached its best validation loss earlier than `post_bn`/);
  assert.match(line, /Gehan's test: p_adj = 0\.020/);
  assert.match(line, /4 of 5 of `post_bn` had their best validation loss at the epoch cap \(6\)/);
  assert.match(line, /not estimated/);
});

Deno.test("verdictLine() says why a comparison is untestable", () => {
  const c = comparison({
    diff: NaN,
    decision: "untestable",
    reason: "at least 2 runs per variant are needed (pre_bn: 1, post_bn: 5)",
  });
  assert.equal(
    verdictLine(c, CTX),
    "**Not testable:** at least 2 runs per variant are needed (pre_bn: 1, post_bn: 5).",
  );
});

Deno.test("levelText() writes the adjusted confidence level", () => {
  assert.equal(levelText({ level: 0.05 }), "95%");
  assert.equal(levelText({ level: 0.05 / 3 }), "98.3%");
  assert.equal(levelText({ level: 0.01 }), "99%");
});

Deno.test("questionSummary() lists verdicts and the seeds the undetermined ones need", () => {
  const question: Question = {
    id: "RQ3",
    question: "Which regulariser helps?",
    metric: "test_acc",
    better: "higher",
    sesoi: 0.005,
    comparisons: [["a", "base"], ["b", "base"], ["c", "base"]],
  };
  const common = { b: "base", familySize: 3 };
  const note = (n: number) => ({
    detectable: 1,
    seedsToDetect: n - 3,
    seedsToResolve: n,
    power: 0.8,
    level: 0.05 / 3,
  });
  const summary = questionSummary({
    question,
    comparisons: [
      comparison({ ...common, a: "a", diff: 1.5, pAdjusted: 0.004, decision: "better" }),
      comparison({ ...common, a: "b", diff: 0.2, powerNote: note(14) }),
      comparison({ ...common, a: "c", diff: -0.3, powerNote: note(23), disagreement: "rank" }),
    ],
  });
  assert.equal(
    summary,
    "`a` better than `base` (+1.50 pp, p_adj = 0.004); 2 comparisons undetermined (about 14–23 " +
      "seeds per variant would settle them); the tests disagree in 1.",
  );
  const same = questionSummary({
    question,
    comparisons: [comparison({ a: "b", decision: "equivalent" })],
  });
  assert.equal(same, "`b` and `baseline` equivalent within ±0.50 pp.");
});
