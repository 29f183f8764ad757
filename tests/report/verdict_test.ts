import assert from "node:assert/strict";
import type { Comparison } from "../../lib/report/analyze.ts";
import { favoured, questionSummary, verdictLine } from "../../lib/report/verdict.ts";
import type { Question } from "../../lib/spec.ts";

const CTX = { alpha: 0.05, familySize: 9, confidence: 0.95 };

function comparison(overrides: Partial<Comparison>): Comparison {
  const summary = { n: 5, mean: 0, sd: 1, min: 0, max: 0 };
  return {
    question: "RQ1",
    metric: "best_epoch",
    better: "lower",
    a: "pre_bn",
    b: "post_bn",
    summaryA: summary,
    summaryB: summary,
    diff: 0,
    decision: "not_detectable",
    ...overrides,
  };
}

const ci = (lower: number, upper: number) => ({
  lower,
  upper,
  method: "bca",
  distinctResamples: 126,
});

Deno.test("a detectable earlier convergence is worded in epochs, favouring the faster variant", () => {
  const c = comparison({
    diff: -1.2,
    interval: ci(-2, -0.4),
    pAdjusted: 0.01,
    decision: "detectable",
  });
  assert.equal(
    verdictLine(c, CTX),
    "**Detectable, favours `pre_bn`:** `pre_bn` reached its best validation loss 1.20 epochs earlier " +
      "than `post_bn` (95% CI 0.40–2.00 epochs; p_adj = 0.010).",
  );
});

Deno.test("a detectable later convergence favours the other variant", () => {
  const c = comparison({
    diff: 1.2,
    interval: ci(0.4, 2),
    pAdjusted: 0.0004,
    decision: "detectable",
  });
  assert.equal(favoured(c), "post_bn");
  assert.equal(
    verdictLine(c, CTX),
    "**Detectable, favours `post_bn`:** `pre_bn` reached its best validation loss 1.20 epochs later " +
      "than `post_bn` (95% CI 0.40–2.00 epochs; p_adj < 0.001).",
  );
});

Deno.test("accuracy differences are worded in percentage points, in both directions", () => {
  const higher = comparison({
    metric: "test_acc",
    better: "higher",
    a: "classical",
    b: "baseline",
    diff: 0.8,
    interval: ci(0.3, 1.3),
    pAdjusted: 0.02,
    decision: "detectable",
  });
  assert.equal(
    verdictLine(higher, CTX),
    "**Detectable, favours `classical`:** `classical` had test accuracy 0.80 percentage points higher " +
      "than `baseline` (95% CI 0.30–1.30 percentage points; p_adj = 0.020).",
  );
  const lower = { ...higher, diff: -0.8, interval: ci(-1.3, -0.3) };
  assert.match(
    verdictLine(lower, CTX),
    /favours `baseline`:\*\* `classical` had test accuracy 0\.80 percentage points lower/,
  );
});

Deno.test("a smaller generalisation gap is better when lower is better", () => {
  const c = comparison({
    metric: "gap",
    a: "bn_dropout",
    b: "classical",
    diff: -0.6,
    interval: ci(-0.9, -0.3),
    pAdjusted: 0.001,
    decision: "detectable",
  });
  assert.match(
    verdictLine(c, CTX),
    /favours `bn_dropout`:\*\* `bn_dropout` had a generalisation gap 0\.60 percentage points smaller/,
  );
});

Deno.test("no detectable difference states the sample size and the largest difference the CI allows", () => {
  const c = comparison({
    metric: "test_acc",
    better: "higher",
    diff: 0.1,
    interval: ci(-0.35, 0.8),
    pAdjusted: 0.62,
    decision: "not_detectable",
  });
  assert.equal(
    verdictLine(c, CTX),
    "**No detectable difference** at n = 5 per variant: `pre_bn` − `post_bn` = +0.10 pp (95% CI −0.35 to " +
      "+0.80 pp, p_adj = 0.620); the CI rules out differences larger than 0.80 percentage points.",
  );
});

Deno.test("disagreeing tests are called inconclusive and not counted as detectable", () => {
  const pOnly = comparison({
    diff: -0.6,
    interval: ci(-1.3, 0.1),
    pAdjusted: 0.03,
    decision: "p_only",
  });
  assert.match(
    verdictLine(pOnly, CTX),
    /^\*\*Inconclusive \(the tests disagree\):\*\* p_adj = 0\.030 is below 0\.05, but the 95% CI/,
  );
  assert.match(verdictLine(pOnly, CTX), /Not counted as a detectable difference\.$/);
  const ciOnly = comparison({
    diff: -0.6,
    interval: ci(-1.3, -0.1),
    pAdjusted: 0.12,
    decision: "ci_only",
  });
  assert.match(
    verdictLine(ciOnly, CTX),
    /excludes 0, but p_adj = 0\.120 \(Holm over 9 comparisons\) is not below 0\.05/,
  );
});

Deno.test("untestable comparisons say why", () => {
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

Deno.test("a question summary lists detectable differences and counts the rest", () => {
  const question: Question = {
    id: "RQ3",
    question: "Which regulariser helps?",
    metric: "test_acc",
    better: "higher",
    comparisons: [["a", "base"], ["b", "base"], ["c", "base"]],
  };
  const common = { metric: "test_acc" as const, better: "higher" as const, b: "base" };
  const summary = questionSummary({
    question,
    comparisons: [
      comparison({
        ...common,
        a: "a",
        diff: 1.5,
        interval: ci(0.5, 2.5),
        pAdjusted: 0.004,
        decision: "detectable",
      }),
      comparison({ ...common, a: "b", diff: 0.2, interval: ci(-0.5, 0.9), pAdjusted: 0.7 }),
      comparison({ ...common, a: "c", diff: -0.3, interval: ci(-0.9, 0.3), pAdjusted: 0.7 }),
    ],
  });
  assert.equal(
    summary,
    "`a` better than `base` (+1.50 pp, p_adj = 0.004); no detectable difference in the other 2 comparisons.",
  );
  const none = questionSummary({
    question,
    comparisons: [comparison({ ...common, a: "b", interval: ci(-1, 1), pAdjusted: 1 })],
  });
  assert.equal(none, "No detectable difference.");
});
