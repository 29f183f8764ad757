/**
 * The report's words: one plain sentence per comparison saying what the
 * numbers show under the decision rule (the Welch interval adjusted for the
 * question's family read four ways: better, worse, equivalent within ±δ,
 * undetermined), in the metric's own unit and direction, and a short summary
 * per research question. All numbers come from `analyze.ts`; nothing is
 * computed here.
 *
 * @module
 */
import type { Metric } from "../spec.ts";
import type { Comparison, Interval, QuestionResult } from "./analyze.ts";
import { fixed, pEquals, signed } from "./format.ts";
import { formatDiffShort, formatDiffWords, formatLevel, METRIC_INFO } from "./metrics.ts";

/** What a verdict needs besides the comparison. */
export interface VerdictContext {
  /** Family-wise error rate of each question. */
  alpha: number;
}

/** Bold label of a decision, e.g. "`pre_bn` better than `post_bn`". */
export function verdictLabel(c: Comparison): string {
  switch (c.decision) {
    case "better":
    case "worse": {
      const [winner, loser] = c.decision === "better" ? [c.a, c.b] : [c.b, c.a];
      return `\`${winner}\` better than \`${loser}\``;
    }
    case "equivalent":
      return `Equivalent within ±${formatDiffWords(c.metric, c.sesoi)}`;
    case "undetermined":
      return c.disagreement ? "Undetermined (the tests disagree)" : "Undetermined";
    case "identical":
      return "No difference";
    case "untestable":
      return "Not testable";
  }
}

/**
 * One line of plain words for a comparison, e.g. "**`pre_bn` better than
 * `post_bn`:** `pre_bn` reached its best validation loss 1.20 epochs earlier
 * than `post_bn` (99% CI 0.40–2.00 epochs, ...)." Markdown.
 */
export function verdictLine(c: Comparison, ctx: VerdictContext): string {
  const label = `**${verdictLabel(c)}:**`;
  const ab = `\`${c.a}\` − \`${c.b}\``;
  const ci = () => `${levelText(c)} CI ${intervalShort(c.metric, c.interval!)}`;
  const stats = () =>
    `${pEquals("p_adj", c.pAdjusted)}, Hedges' g = ${
      c.hedgesG === undefined ? "—" : fixed(c.hedgesG, 2)
    }, P(a > b) = ${fixed(c.superiority ?? NaN, 2)}`;
  switch (c.decision) {
    case "better":
    case "worse": {
      if (c.method === "gehan") {
        return `${label} ${order(c)} (rank test with best epochs at the cap tied, Gehan's test: ` +
          `${pEquals("p_adj", c.rank!.pAdjusted)}, P(a > b) = ${fixed(c.superiority!, 2)}). ` +
          `${censoringText(c)} The size of the difference is therefore not estimated.`;
      }
      return `${label} ${difference(c)} (${ci()}; ${stats()}).`;
    }
    case "equivalent": {
      const real = c.negligible
        ? " The interval excludes 0: the difference is real but smaller than the smallest effect of interest."
        : "";
      return `${label} ${ab} = ${formatDiffShort(c.metric, c.diff)}, and its ${ci()} lies inside ` +
        `±${formatDiffWords(c.metric, c.sesoi)} (${stats()}).${real}`;
    }
    case "undetermined": {
      const why = c.method === "gehan"
        ? `${censoringText(c)} The mean difference (${
          formatDiffShort(c.metric, c.diff)
        }) therefore measures the cap. ` +
          `The rank test with capped values tied (Gehan's test) does not order the variants ` +
          `(${
            pEquals("p_adj", c.rank!.pAdjusted)
          }), and equivalence cannot be shown under censoring.`
        : `${ab} = ${formatDiffShort(c.metric, c.diff)} (${ci()}; ${stats()}): the interval ` +
          `neither excludes 0 nor lies inside ±${formatDiffWords(c.metric, c.sesoi)}.`;
      return `${label} ${why}${disagreementText(c, ctx)}${powerText(c)}`;
    }
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
 * p_adj = 0.010); 2 undetermined (about 14–23 seeds per variant would settle them)."
 */
export function questionSummary(q: QuestionResult): string {
  const parts: string[] = [];
  const total = q.comparisons.length;
  if (total > 0 && q.comparisons.every((c) => c.decision === "identical")) {
    return "No difference: every run gave the same value.";
  }
  for (const c of q.comparisons) {
    if (c.decision !== "better" && c.decision !== "worse") continue;
    const [winner, loser, diff] = c.decision === "better"
      ? [c.a, c.b, c.diff]
      : [c.b, c.a, -c.diff];
    const size = c.method === "gehan"
      ? `rank test, ${pEquals("p_adj", c.rank!.pAdjusted)}`
      : `${formatDiffShort(c.metric, diff)}, ${pEquals("p_adj", c.pAdjusted)}`;
    parts.push(`\`${winner}\` better than \`${loser}\` (${size})`);
  }
  for (const c of q.comparisons) {
    if (c.decision !== "equivalent") continue;
    parts.push(
      `\`${c.a}\` and \`${c.b}\` equivalent within ±${formatDiffShort(c.metric, c.sesoi).slice(1)}`,
    );
  }
  const undetermined = q.comparisons.filter((c) => c.decision === "undetermined");
  if (undetermined.length > 0) {
    const seeds = undetermined.map((c) => c.powerNote?.seedsToResolve ?? NaN);
    const lo = Math.min(...seeds);
    const hi = Math.max(...seeds);
    const range = !Number.isFinite(lo)
      ? ""
      : ` (about ${lo === hi ? seedsWords(lo) : `${seedsWords(lo)}–${seedsWords(hi)}`} seeds ` +
        `per variant would settle ${undetermined.length === 1 ? "it" : "them"})`;
    const disagree = undetermined.filter((c) => c.disagreement).length;
    const censored = undetermined.filter((c) => c.method === "gehan").length;
    const notes = [
      ...(disagree > 0 ? [`the tests disagree in ${disagree}`] : []),
      ...(censored > 0 ? [`${censored} censored at the epoch cap`] : []),
    ];
    const noun = total === 1
      ? "undetermined"
      : `${plural(undetermined.length, "comparison")} undetermined`;
    parts.push(`${noun}${range}${notes.length > 0 ? `; ${notes.join(", ")}` : ""}`);
  }
  const none = q.comparisons.filter((c) => c.decision === "identical").length;
  if (none > 0) parts.push(`no difference at all in ${plural(none, "comparison")}`);
  const untestable = q.comparisons.filter((c) => c.decision === "untestable").length;
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

/** Confidence level of a comparison's interval in words, e.g. "98.3%". */
export function levelText(c: Pick<Comparison, "level">): string {
  const confidence = (1 - (c.level ?? 0.05)) * 100;
  const text = fixed(confidence, confidence >= 99.95 ? 2 : 1);
  return `${text.endsWith(".0") ? text.slice(0, -2) : text}%`;
}

function seedsWords(n: number): string {
  return Number.isFinite(n) ? String(n) : "more than 100,000";
}

function censoringText(c: Comparison): string {
  const cz = c.censoring!;
  return `${cz.a} of ${c.summaryA.n} runs of \`${c.a}\` and ${cz.b} of ${c.summaryB.n} of \`${c.b}\` ` +
    `had their best validation loss at the epoch cap (${cz.cap}), where training stopped, so their ` +
    `convergence epoch is only known to be at least ${cz.cap}.`;
}

function order(c: Comparison): string {
  const [x, y] = c.decision === "better" ? [c.a, c.b] : [c.b, c.a];
  const earlier = (c.decision === "better") === (c.better === "lower") ? "earlier" : "later";
  return c.metric === "best_epoch"
    ? `\`${x}\` reached its best validation loss ${earlier} than \`${y}\` in the rank order of the runs`
    : `\`${x}\` ranks ahead of \`${y}\``;
}

function disagreementText(c: Comparison, ctx: VerdictContext): string {
  if (c.disagreement === "welch") {
    return ` The tests disagree: Welch's adjusted interval excludes 0, but the rank test ` +
      `(Mann–Whitney ${pEquals("p", c.rank!.p)}) is not significant even at the unadjusted ` +
      `${ctx.alpha}, so the runs' order does not support the difference of means (one or two ` +
      `extreme runs may drive it); no verdict is drawn.`;
  }
  if (c.disagreement === "rank") {
    return ` The tests disagree: the rank test orders the runs consistently (${
      pEquals("p_adj", c.rank!.pAdjusted)
    }), but Welch's ${pEquals("p", c.welch!.p)} is not significant even at the unadjusted ` +
      `${ctx.alpha}; the difference of means is small against its spread.`;
  }
  return "";
}

function powerText(c: Comparison): string {
  const pn = c.powerNote;
  if (!pn) return "";
  const n = Math.min(c.summaryA.n, c.summaryB.n);
  const caveat = c.method === "gehan"
    ? " Under censoring more seeds help less than a larger epoch budget."
    : "";
  return ` With ${n} seeds per variant the smallest difference detectable with ${
    fixed(pn.power * 100, 0)
  }% power is ${formatDiffWords(c.metric, pn.detectable)}; about ${
    seedsWords(pn.seedsToResolve)
  } ` +
    `seeds per variant would settle it (${seedsWords(pn.seedsToDetect)} detect a difference of ${
      formatDiffWords(c.metric, c.sesoi)
    }; the rest are needed to show ` +
    `equivalence if there is none), judging by the observed spread.${caveat}`;
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

function intervalShort(metric: Metric, ci: Interval): string {
  const d = METRIC_INFO[metric].decimals;
  return `${signed(ci.lower, d)} to ${formatDiffShort(metric, ci.upper)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
