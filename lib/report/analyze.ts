/**
 * The numbers of the report, computed from one study's runs: per-variant
 * summaries with bootstrap intervals, every research-question comparison
 * (Welch t, Holm adjustment over the experiment's whole family, BCa bootstrap
 * interval of the difference, Hedges' g, exact permutation p for small
 * groups) with its decision, cross-checks against the seed study's published
 * values and goals, and the learning curves. Values are in display units
 * (accuracies in percent, see `metrics.ts`). No wording here: see `verdict.ts`.
 *
 * Every random draw is seeded from `AnalysisOptions.seed` and the name of the
 * quantity it estimates, so the numbers do not depend on evaluation order.
 *
 * @module
 */
import { bootstrapMean, bootstrapMeanDiff, fewResamplesWarning } from "../stats/bootstrap.ts";
import { describe } from "../stats/describe.ts";
import { hedgesG } from "../stats/effect.ts";
import { holmAdjust } from "../stats/holm.ts";
import { exactPermutationTest } from "../stats/permutation.ts";
import { welchTest } from "../stats/welch.ts";
import { intSeedAt } from "../rng.ts";
import type { Metric, Question, Spec } from "../spec.ts";
import type { EpochValues, RunValues, StudyData } from "./load.ts";
import { METRIC_INFO } from "./metrics.ts";

/** Settings of the analysis. */
export interface AnalysisOptions {
  /** Bootstrap resamples per interval (the report uses 10,000). */
  resamples: number;
  /** Confidence level of every interval (0.95). */
  confidence: number;
  /** Root seed of every bootstrap. */
  seed: number;
  /** Significance level of the decision rule, applied to Holm-adjusted p (0.05). */
  alpha: number;
  /** Largest group size for which the exact permutation test is run (10). */
  permutationMaxN: number;
}

/** The report's settings: 10,000 resamples, 95% intervals, alpha 0.05, permutation up to n = 10. */
export const DEFAULT_ANALYSIS: AnalysisOptions = {
  resamples: 10_000,
  confidence: 0.95,
  seed: 20_240_601,
  alpha: 0.05,
  permutationMaxN: 10,
};

/** Mean, spread and range of a sample (display units). */
export interface Summary {
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
}

/** A confidence interval of a mean or a difference of means (display units). */
export interface Interval {
  lower: number;
  upper: number;
  /** Bootstrap method as reported by `lib/stats` (e.g. "bca"), or "exact" when every value is equal. */
  method: string;
  /** Distinct bootstrap resamples possible for this sample size (few for n ≤ 5). */
  distinctResamples: number;
}

/** Metrics summarised for every variant (the seed study's list, plus what questions use). */
export const TABLE_METRICS = [
  "test_acc",
  "best_epoch",
  "gap",
  "acc_per_mparam",
] as const satisfies readonly Metric[];

/** One variant's runs, summarised. */
export interface VariantSummary {
  variant: string;
  description: string;
  seeds: number[];
  /** Parameter count (identical across seeds; the most common value if not). */
  params: number;
  /** Every metric of the runs, summarised. */
  metrics: Record<Metric, Summary>;
  /** Bootstrap intervals of the mean, for test accuracy, best epoch, gap and published metrics (n ≥ 2). */
  intervals: Partial<Record<Metric, Interval>>;
}

/** How a comparison came out under the decision rule. */
export type Decision =
  /** Holm-adjusted p < alpha and the CI excludes 0. */
  | "detectable"
  /** Holm-adjusted p ≥ alpha and the CI includes 0. */
  | "not_detectable"
  /** Holm-adjusted p < alpha but the CI includes 0. */
  | "p_only"
  /** The CI excludes 0 but Holm-adjusted p ≥ alpha. */
  | "ci_only"
  /** Every run of both variants gave the same value: no difference at all. */
  | "identical"
  /** Too few runs, or no spread to test (see `reason`). */
  | "untestable";

/** One comparison mean(a) − mean(b) of a research question. */
export interface Comparison {
  question: string;
  metric: Metric;
  better: "higher" | "lower";
  a: string;
  b: string;
  summaryA: Summary;
  summaryB: Summary;
  /** mean(a) − mean(b), display units. */
  diff: number;
  /** BCa bootstrap interval of the difference (undefined when a group has fewer than 2 runs). */
  interval?: Interval;
  /** Welch's t-test (undefined when it cannot be computed). */
  welch?: { t: number; df: number; p: number };
  /** Holm-adjusted p over the experiment's family (undefined when Welch is). */
  pAdjusted?: number;
  /** Hedges' g (bias-corrected standardised difference), when defined. */
  hedgesG?: number;
  /** Exact permutation test of the difference in means, for groups of at most `permutationMaxN`. */
  permutation?: { p: number; permutations: number };
  /** `fewResamplesWarning` for the smaller group, when it has one. */
  fewResamples?: string;
  decision: Decision;
  /** Why a comparison is untestable, in words. */
  reason?: string;
}

/** A research question with its comparisons. */
export interface QuestionResult {
  question: Question;
  comparisons: Comparison[];
}

/** A published value beside ours. */
export interface CrossCheck {
  variant: string;
  metric: Metric;
  /** Published value in display units. */
  published: number;
  source: string;
  ours?: Summary;
  interval?: Interval;
  /** Whether the published value lies inside our interval (undefined without one). */
  inside?: boolean;
}

/** A goal of the seed study and which variants' means reach it. */
export interface GoalCheck {
  metric: Metric;
  /** Target in display units. */
  atLeast: number;
  source: string;
  variants: { variant: string; mean: number; interval?: Interval; reaches: boolean }[];
}

/** One point of a learning curve: a variant's mean over the seeds that reached `epoch`. */
export interface CurvePoint {
  variant: string;
  metric: "val_loss" | "val_acc";
  epoch: number;
  n: number;
  mean: number;
  /** Bootstrap band of the mean (undefined below 2 seeds). */
  lower?: number;
  upper?: number;
}

/** Everything the report says about one study. */
export interface StudyAnalysis {
  spec: Spec;
  data: StudyData;
  options: AnalysisOptions;
  variants: VariantSummary[];
  /** Spec variants without any run in this study. */
  missingVariants: string[];
  questions: QuestionResult[];
  /** Comparisons in the Holm family (those with a Welch p). */
  familySize: number;
  crossChecks: CrossCheck[];
  goals: GoalCheck[];
  curves: CurvePoint[];
}

/**
 * Analyse one study. Pure: the same data and options always give the same
 * numbers. Comparisons naming a variant without runs are `untestable`.
 */
export function analyzeStudy(
  spec: Spec,
  data: StudyData,
  options: AnalysisOptions = DEFAULT_ANALYSIS,
): StudyAnalysis {
  const byVariant = groupBy(data.runs, (r) => r.variant);
  const seedOf = (...path: (string | number)[]) =>
    intSeedAt(options.seed, spec.name, data.profile, ...path);
  const intervalMetrics = new Set<Metric>([
    "test_acc",
    "best_epoch",
    "gap",
    ...spec.published.map((p) => p.metric),
  ]);
  for (const goal of spec.goals) intervalMetrics.add(goal.metric);

  const variants: VariantSummary[] = [];
  for (const v of spec.variants) {
    const runs = byVariant.get(v.name);
    if (!runs) continue;
    const metrics = {} as Record<Metric, Summary>;
    const intervals: Partial<Record<Metric, Interval>> = {};
    for (const metric of Object.keys(runs[0]!.values) as Metric[]) {
      const xs = runs.map((r) => r.values[metric]);
      metrics[metric] = summarize(xs);
      if (intervalMetrics.has(metric)) {
        const ci = meanInterval(xs, options, seedOf("mean", metric, v.name));
        if (ci) intervals[metric] = ci;
      }
    }
    variants.push({
      variant: v.name,
      description: v.description,
      seeds: runs.map((r) => r.seed),
      params: mode(runs.map((r) => r.params)),
      metrics,
      intervals,
    });
  }
  const missingVariants = spec.variants.map((v) => v.name).filter((n) => !byVariant.has(n));

  const questions = spec.questions.map((q) => ({
    question: q,
    comparisons: q.comparisons.map(([a, b]) =>
      compare(q, a, b, byVariant, options, seedOf("diff", q.id, q.metric, a, b))
    ),
  }));
  const family = questions.flatMap((q) => q.comparisons).filter((c) => c.welch !== undefined);
  const adjusted = holmAdjust(family.map((c) => c.welch!.p));
  family.forEach((c, i) => {
    c.pAdjusted = adjusted[i]!;
    c.decision = decide(c, options.alpha);
  });

  const summaries = new Map(variants.map((v) => [v.variant, v]));
  const crossChecks = spec.published.map((p): CrossCheck => {
    const published = p.value * METRIC_INFO[p.metric].scale;
    const v = summaries.get(p.variant);
    const interval = v?.intervals[p.metric];
    return {
      variant: p.variant,
      metric: p.metric,
      published,
      source: p.source,
      ...(v ? { ours: v.metrics[p.metric] } : {}),
      ...(interval
        ? { interval, inside: interval.lower <= published && published <= interval.upper }
        : {}),
    };
  });
  const goals = spec.goals.map((g): GoalCheck => {
    const atLeast = g.atLeast * METRIC_INFO[g.metric].scale;
    return {
      metric: g.metric,
      atLeast,
      source: g.source,
      variants: variants.map((v) => {
        const interval = v.intervals[g.metric];
        const mean = v.metrics[g.metric].mean;
        return {
          variant: v.variant,
          mean,
          ...(interval ? { interval } : {}),
          reaches: mean >= atLeast,
        };
      }),
    };
  });
  return {
    spec,
    data,
    options,
    variants,
    missingVariants,
    questions,
    familySize: family.length,
    crossChecks,
    goals,
    curves: learningCurves(spec, data.epochs, options, seedOf),
  };
}

/**
 * The decision rule: detectable when the Holm-adjusted p is below `alpha` AND
 * the interval of the difference excludes 0; the two disagreeing is reported
 * as such (`p_only`, `ci_only`). Untestable and identical comparisons keep
 * their decision.
 */
export function decide(
  c: Pick<Comparison, "pAdjusted" | "interval" | "decision">,
  alpha: number,
): Decision {
  if (c.decision === "untestable" || c.decision === "identical") return c.decision;
  if (c.pAdjusted === undefined || c.interval === undefined) return "untestable";
  const significant = c.pAdjusted < alpha;
  const excludesZero = c.interval.lower > 0 || c.interval.upper < 0;
  if (significant && excludesZero) return "detectable";
  if (!significant && !excludesZero) return "not_detectable";
  return significant ? "p_only" : "ci_only";
}

function compare(
  q: Question,
  a: string,
  b: string,
  byVariant: Map<string, RunValues[]>,
  options: AnalysisOptions,
  seed: number,
): Comparison {
  const xa = (byVariant.get(a) ?? []).map((r) => r.values[q.metric]);
  const xb = (byVariant.get(b) ?? []).map((r) => r.values[q.metric]);
  const summaryA = summarize(xa);
  const summaryB = summarize(xb);
  const base: Comparison = {
    question: q.id,
    metric: q.metric,
    better: q.better,
    a,
    b,
    summaryA,
    summaryB,
    diff: summaryA.mean - summaryB.mean,
    decision: "untestable",
  };
  if (xa.length < 2 || xb.length < 2) {
    return {
      ...base,
      reason: `at least 2 runs per variant are needed (${a}: ${xa.length}, ${b}: ${xb.length})`,
    };
  }
  const small = Math.min(xa.length, xb.length);
  const warning = fewResamplesWarning(small);
  const common = {
    ...(warning ? { fewResamples: warning } : {}),
    ...(xa.length <= options.permutationMaxN && xb.length <= options.permutationMaxN
      ? { permutation: permutation(xa, xb) }
      : {}),
  };
  if (summaryA.sd === 0 && summaryB.sd === 0) {
    const exact: Interval = {
      lower: base.diff,
      upper: base.diff,
      method: "exact",
      distinctResamples: 1,
    };
    if (base.diff === 0) return { ...base, ...common, interval: exact, decision: "identical" };
    return {
      ...base,
      ...common,
      interval: exact,
      reason:
        "every run of each variant gave the same value, so there is no spread to test against",
    };
  }
  const boot = bootstrapMeanDiff(xa, xb, {
    resamples: options.resamples,
    confidence: options.confidence,
    seed,
  });
  const w = welchTest(xa, xb);
  const g = hedgesG(xa, xb);
  const result: Comparison = {
    ...base,
    ...common,
    ...(Number.isFinite(g) ? { hedgesG: g } : {}),
  };
  if (Number.isFinite(boot.lower) && Number.isFinite(boot.upper)) {
    result.interval = {
      lower: boot.lower,
      upper: boot.upper,
      method: boot.method,
      distinctResamples: boot.distinctResamples,
    };
  }
  if (Number.isFinite(w.p) && Number.isFinite(w.t) && Number.isFinite(w.df)) {
    result.welch = { t: w.t, df: w.df, p: w.p };
    result.decision = "not_detectable"; // provisional; settled by decide() after Holm
  } else {
    result.reason = "Welch's t-test is undefined for these values";
  }
  return result;
}

function permutation(xa: number[], xb: number[]): { p: number; permutations: number } {
  const r = exactPermutationTest(xa, xb);
  return { p: r.p, permutations: r.permutations };
}

/** Bootstrap interval of a mean; exact when all values are equal; undefined below 2 values. */
function meanInterval(xs: number[], options: AnalysisOptions, seed: number): Interval | undefined {
  if (xs.length < 2) return undefined;
  if (xs.every((x) => x === xs[0])) {
    return { lower: xs[0]!, upper: xs[0]!, method: "exact", distinctResamples: 1 };
  }
  const r = bootstrapMean(xs, {
    resamples: options.resamples,
    confidence: options.confidence,
    seed,
  });
  if (!Number.isFinite(r.lower) || !Number.isFinite(r.upper)) return undefined;
  return {
    lower: r.lower,
    upper: r.upper,
    method: r.method,
    distinctResamples: r.distinctResamples,
  };
}

function learningCurves(
  spec: Spec,
  epochs: EpochValues[],
  options: AnalysisOptions,
  seedOf: (...path: (string | number)[]) => number,
): CurvePoint[] {
  const points: CurvePoint[] = [];
  const byVariant = groupBy(epochs, (e) => e.variant);
  for (const v of spec.variants) {
    const rows = byVariant.get(v.name);
    if (!rows) continue;
    const byEpoch = groupBy(rows, (e) => e.epoch);
    const epochNumbers = [...byEpoch.keys()].sort((x, y) => x - y);
    for (const metric of ["val_loss", "val_acc"] as const) {
      for (const epoch of epochNumbers) {
        const xs = byEpoch.get(epoch)!.map((e) => e[metric]);
        const s = summarize(xs);
        const ci = meanInterval(xs, options, seedOf("curve", metric, v.name, epoch));
        points.push({
          variant: v.name,
          metric,
          epoch,
          n: s.n,
          mean: s.mean,
          ...(ci ? { lower: ci.lower, upper: ci.upper } : {}),
        });
      }
    }
  }
  return points;
}

function summarize(xs: number[]): Summary {
  if (xs.length === 0) return { n: 0, mean: NaN, sd: NaN, min: NaN, max: NaN };
  const d = describe(xs);
  return { n: d.n, mean: d.mean, sd: xs.length < 2 ? NaN : d.sd, min: d.min, max: d.max };
}

function mode(xs: number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((p, q) => q[1] - p[1] || p[0] - q[0])[0]![0];
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
