/**
 * The report's words: one plain sentence per comparison saying what the
 * numbers show under the decision rule (Holm-adjusted p < alpha AND the
 * bootstrap interval excludes 0), in the metric's own unit and direction, and
 * a short summary per research question. All numbers come from
 * `analyze.ts`; nothing is computed here.
 *
 * @module
 */
import type { Metric } from "../spec.ts";
import type { Comparison, Interval, QuestionResult } from "./analyze.ts";
import { fixed, pEquals, signed } from "./format.ts";
import { formatDiffShort, formatDiffWords, formatLevel, METRIC_INFO } from "./metrics.ts";

/** What a verdict needs besides the comparison. */
export interface VerdictContext {
  /** Significance level the Holm-adjusted p is held against. */
  alpha: number;
  /** Number of comparisons in the Holm family. */
  familySize: number;
  /** Confidence level of the intervals (0.95). */
  confidence: number;
}

/** Bold label of a decision, e.g. "Detectable difference". */
export function verdictLabel(c: Comparison): string {
  switch (c.decision) {
    case "detectable":
      return `Detectable, favours \`${favoured(c)}\``;
    case "not_detectable":
      return "No detectable difference";
    case "p_only":
    case "ci_only":
      return "Inconclusive (the tests disagree)";
    case "identical":
      return "No difference";
    case "untestable":
      return "Not testable";
  }
}

/**
 * One line of plain words for a comparison, e.g. "**Detectable, favours
 * `pre_bn`:** `pre_bn` reached its best validation loss 1.20 epochs earlier
 * than `post_bn` (95% CI 0.40–2.00 epochs; p_adj = 0.010)." Markdown.
 */
export function verdictLine(c: Comparison, ctx: VerdictContext): string {
  const label = c.decision === "not_detectable"
    ? `**${verdictLabel(c)}**`
    : `**${verdictLabel(c)}:**`;
  const level = pct(ctx.confidence);
  const pAdj = pEquals("p_adj", c.pAdjusted);
  const ab = `\`${c.a}\` − \`${c.b}\``;
  switch (c.decision) {
    case "detectable": {
      const ci = c.interval!;
      const lo = Math.min(Math.abs(ci.lower), Math.abs(ci.upper));
      const hi = Math.max(Math.abs(ci.lower), Math.abs(ci.upper));
      const range = `${fixed(lo, decimals(c.metric))}–${formatDiffWords(c.metric, hi)}`;
      return `${label} ${difference(c)} (${level} CI ${range}; ${pAdj}).`;
    }
    case "not_detectable": {
      const ci = c.interval!;
      const bound = Math.max(Math.abs(ci.lower), Math.abs(ci.upper));
      return `${label} at ${sizes(c)}: ${ab} = ${formatDiffShort(c.metric, c.diff)} ` +
        `(${level} CI ${
          intervalShort(c.metric, ci)
        }, ${pAdj}); the CI rules out differences larger ` +
        `than ${formatDiffWords(c.metric, bound)}.`;
    }
    case "p_only":
      return `${label} ${pAdj} is below ${ctx.alpha}, but the ${level} CI of ${ab} ` +
        `(${intervalShort(c.metric, c.interval!)}) includes 0. Point estimate: ${difference(c)}. ` +
        `Not counted as a detectable difference.`;
    case "ci_only":
      return `${label} the ${level} CI of ${ab} (${
        intervalShort(c.metric, c.interval!)
      }) excludes 0, ` +
        `but ${pAdj} (Holm over ${ctx.familySize} comparisons) is not below ${ctx.alpha}. Point estimate: ` +
        `${difference(c)}. Not counted as a detectable difference.`;
    case "identical":
      return `${label} every run of \`${c.a}\` and \`${c.b}\` gave the same ${
        METRIC_INFO[c.metric].noun
      } ` +
        `(${formatLevel(c.metric, c.summaryA.mean)}, n = ${c.summaryA.n} and ${c.summaryB.n}).`;
    case "untestable": {
      const perm = c.permutation ? `; exact permutation ${pEquals("p", c.permutation.p)}` : "";
      const estimate = Number.isFinite(c.diff)
        ? ` Point estimate: ${ab} = ${formatDiffShort(c.metric, c.diff)}${perm}.`
        : "";
      return `${label} ${c.reason ?? "the test could not be computed"}.${estimate}`;
    }
  }
}

/**
 * One short sentence answering a research question from its comparisons, for
 * FINDINGS.md and the README, e.g. "`pre_bn` better than `baseline` (+1.20 pp,
 * p_adj = 0.010); no detectable difference in the other 4 comparisons."
 */
export function questionSummary(q: QuestionResult): string {
  const parts: string[] = [];
  const found = q.comparisons.filter((c) => c.decision === "detectable");
  for (const c of found) {
    const [winner, loser, diff] = favoured(c) === c.a ? [c.a, c.b, c.diff] : [c.b, c.a, -c.diff];
    parts.push(
      `\`${winner}\` better than \`${loser}\` (${formatDiffShort(c.metric, diff)}, ${
        pEquals("p_adj", c.pAdjusted)
      })`,
    );
  }
  const count = (d: Comparison["decision"][]) =>
    q.comparisons.filter((c) => d.includes(c.decision)).length;
  const total = q.comparisons.length;
  const none = count(["not_detectable", "identical"]);
  if (total > 0 && count(["identical"]) === total) {
    return "No difference: every run gave the same value.";
  }
  const unclear = count(["p_only", "ci_only"]);
  const untestable = count(["untestable"]);
  if (none > 0) {
    if (none === total) {
      parts.push(
        total === 1
          ? "no detectable difference"
          : `no detectable difference in any of the ${total} comparisons`,
      );
    } else {parts.push(
        `no detectable difference in ${found.length > 0 ? "the other " : ""}${
          plural(none, "comparison")
        }`,
      );}
  }
  if (unclear > 0) parts.push(`${plural(unclear, "comparison")} inconclusive (the tests disagree)`);
  if (untestable > 0) {
    parts.push(`${plural(untestable, "comparison")} not testable (too few runs or no spread)`);
  }
  const sentence = parts.join("; ");
  return sentence.charAt(0).toUpperCase() + sentence.slice(1) + ".";
}

/** The variant the point estimate favours, given the metric's better direction. */
export function favoured(c: Pick<Comparison, "a" | "b" | "diff" | "better">): string {
  return (c.diff > 0) === (c.better === "higher") ? c.a : c.b;
}

/** The difference in words: "`a` reached its best validation loss 1.20 epochs earlier than `b`". */
function difference(c: Comparison): string {
  const info = METRIC_INFO[c.metric];
  const magnitude = formatDiffWords(c.metric, Math.abs(c.diff));
  const a = `\`${c.a}\``;
  const b = `\`${c.b}\``;
  if (c.diff === 0) return `${a} and ${b} had the same mean ${info.noun}`;
  const more = c.diff > 0;
  if (c.metric === "best_epoch") {
    return `${a} reached its best validation loss ${magnitude} ${
      more ? "later" : "earlier"
    } than ${b}`;
  }
  if (c.metric === "epochs_run") {
    return `${a} stopped training ${magnitude} ${more ? "later" : "earlier"} than ${b}`;
  }
  return `${a} had ${info.prose} ${magnitude} ${info.comparatives[more ? 1 : 0]} than ${b}`;
}

function sizes(c: Comparison): string {
  return c.summaryA.n === c.summaryB.n
    ? `n = ${c.summaryA.n} per variant`
    : `n = ${c.summaryA.n} and ${c.summaryB.n}`;
}

function intervalShort(metric: Metric, ci: Interval): string {
  const d = decimals(metric);
  return `${signed(ci.lower, d)} to ${formatDiffShort(metric, ci.upper)}`;
}

function decimals(metric: Metric): number {
  return METRIC_INFO[metric].decimals;
}

function pct(confidence: number): string {
  return `${fixed(confidence * 100, 0)}%`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
