/**
 * The numbers of the report, computed from one study's runs: per-variant
 * summaries with bootstrap intervals, every research-question comparison
 * decided by `lib/stats/decision.ts` (Welch t interval adjusted for the
 * question's family, Bonferroni; verdict better / worse / equivalent within
 * the question's δ / undetermined; the rank test, BCa bootstrap and exact
 * permutation p as robustness checks; Hedges' g and P(a > b); for undetermined
 * comparisons the seeds it would take), censoring of convergence metrics at
 * the epoch cap, cross-checks against the seed study's published values and
 * goals, and the learning curves. Values are in display units
 * (accuracies in percent, see `metrics.ts`). No wording here: see `verdict.ts`.
 *
 * Every random draw is seeded from `AnalysisOptions.seed` and the name of the
 * quantity it estimates, so the numbers do not depend on evaluation order.
 *
 * @module
 */
import { bootstrapMean, bootstrapMeanDiff, fewResamplesWarning } from "../stats/bootstrap.ts";
import { decideComparison, type Verdict } from "../stats/decision.ts";
import { describe } from "../stats/describe.ts";
import { hedgesG } from "../stats/effect.ts";
import { type TInterval, tMeanInterval, tPredictionInterval } from "../stats/tinterval.ts";
import { exactPermutationTest } from "../stats/permutation.ts";
import { detectableEffect, seedsPerArm } from "../stats/power.ts";
import { intSeedAt } from "../rng.ts";
import {
  type Deviation,
  deviationsFor,
  type Metric,
  type ProfileName,
  PROFILES,
  type Question,
  resolveRun,
  type Spec,
} from "../spec.ts";
import type { EpochValues, RunValues, StudyData } from "./load.ts";
import type { LookRecord } from "./looks.ts";
import { METRIC_INFO } from "./metrics.ts";

/** Settings of the analysis. */
export interface AnalysisOptions {
  /** Bootstrap resamples per interval (the report uses 10,000). */
  resamples: number;
  /** Confidence level of every interval (0.95). */
  confidence: number;
  /** Root seed of every bootstrap. */
  seed: number;
  /** Family-wise error rate of each research question's family of comparisons (0.05). */
  alpha: number;
  /** Largest group size for which the exact permutation test is run (10). */
  permutationMaxN: number;
  /** Power the seeds-needed figures aim at (0.8). */
  power: number;
  /**
   * Nominal per-comparison level of each question (by id), when a sequential
   * design sets it; otherwise α / m for a question with m testable comparisons.
   */
  levels?: Record<string, number>;
}

/** The report's settings: 10,000 resamples, 95% intervals, alpha 0.05, permutation up to n = 10. */
export const DEFAULT_ANALYSIS: AnalysisOptions = {
  resamples: 10_000,
  confidence: 0.95,
  seed: 20_240_601,
  alpha: 0.05,
  permutationMaxN: 10,
  power: 0.8,
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
  /** The variant's epoch budget in this profile: a best epoch there is right-censored. */
  epochCap: number;
  /** Runs whose best epoch is at the cap (convergence not observed). */
  censored: number;
}

/**
 * How a comparison came out: a verdict of the decision rule (`lib/stats/decision.ts`),
 * or no test at all.
 */
export type Decision =
  | Verdict
  /** Every run of both variants gave the same value: no difference at all. */
  | "identical"
  /** Too few runs, or no spread to test (see `reason`). */
  | "untestable";

/** Seeds it would take to settle an undetermined comparison (display units). */
export interface PowerNote {
  /** Smallest true difference the current seeds detect with `power` at the comparison's level. */
  detectable: number;
  /** Seeds per variant to detect a difference of δ with `power`. */
  seedsToDetect: number;
  /** Seeds per variant to show equivalence within ±δ with `power` when there is no difference. */
  seedsToResolve: number;
  /** The power aimed at (0.8). */
  power: number;
  /** The per-comparison level planned for (α / m). */
  level: number;
}

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
  /** The question's smallest effect size of interest δ, display units. */
  sesoi: number;
  /** Testable comparisons in the question's family (m). */
  familySize: number;
  /** Nominal two-sided level of the comparison (α / m, or a sequential look's). */
  level?: number;
  /** The primary interval: Welch t at confidence 1 − level (undefined when untestable). */
  interval?: Interval;
  /** BCa bootstrap interval at the same level, a robustness check. */
  bootstrap?: Interval;
  /** Welch's t-test, unadjusted. */
  welch?: { t: number; df: number; p: number };
  /** Welch p on the family scale (Bonferroni, min(1, p · α / level)). */
  pAdjusted?: number;
  /** Hedges' g (bias-corrected standardised difference), when defined. */
  hedgesG?: number;
  /** P(a > b) + ½ P(a = b) over all pairs of runs (censored values tied at the cap). */
  superiority?: number;
  /** Mann–Whitney (Gehan under censoring) test: unadjusted and family-scale p. */
  rank?: { p: number; pAdjusted: number; method: "exact" | "asymptotic" };
  /** Exact permutation test of the difference in means, for groups of at most `permutationMaxN`. */
  permutation?: { p: number; permutations: number };
  /** `fewResamplesWarning` for the smaller group, when it has one. */
  fewResamples?: string;
  decision: Decision;
  /** Equivalent although the interval excludes 0 (a real but negligible difference). */
  negligible?: boolean;
  /** A real disagreement between Welch's interval and the rank test. */
  disagreement?: "welch" | "rank";
  /** Best epochs at the epoch cap, per variant, and the cap (convergence metrics only). */
  censoring?: { a: number; b: number; cap: number };
  /** Verdict from Welch's interval, or from the rank test because of censoring. */
  method?: "welch" | "gehan";
  /** For undetermined comparisons: what more seeds would buy. */
  powerNote?: PowerNote;
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
  /** Student-t interval of our mean at the analysis' confidence (n ≥ 2). */
  interval?: TInterval;
  /**
   * Student-t prediction interval of one more run of ours, mean ± t·sd·√(1 + 1/n) (n ≥ 2):
   * a published value is a single run, so this is the interval it is judged against.
   */
  prediction?: TInterval;
  /** Whether the published value lies inside our prediction interval (undefined without one). */
  inside?: boolean;
  /**
   * When it lies outside: the spec's recorded deviations that apply to this profile, variant
   * and metric, the likely reasons.
   */
  reasons?: Deviation[];
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
  /** The sequential record, when the study added seeds in rounds and its last look is this data. */
  sequential?: LookRecord;
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

  const capOf = (variant: string) => epochCap(spec, variant, data.profile);
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
      epochCap: capOf(v.name),
      censored: runs.filter((r) => r.values.best_epoch >= capOf(v.name)).length,
    });
  }
  const missingVariants = spec.variants.map((v) => v.name).filter((n) => !byVariant.has(n));

  const questions = spec.questions.map((q) => {
    const testable = q.comparisons.filter(([a, b]) => testableData(q, a, b, byVariant));
    const familySize = Math.max(1, testable.length);
    const level = options.levels?.[q.id] ?? options.alpha / familySize;
    return {
      question: q,
      comparisons: q.comparisons.map(([a, b]) =>
        compare(q, a, b, byVariant, options, {
          seed: seedOf("diff", q.id, q.metric, a, b),
          familySize,
          level,
          cap: Math.min(capOf(a), capOf(b)),
        })
      ),
    };
  });

  const summaries = new Map(variants.map((v) => [v.variant, v]));
  const crossChecks = spec.published.map((p): CrossCheck => {
    const published = p.value * METRIC_INFO[p.metric].scale;
    const v = summaries.get(p.variant);
    const xs = (byVariant.get(p.variant) ?? []).map((r) => r.values[p.metric]);
    if (!v || xs.length < 2) {
      return {
        variant: p.variant,
        metric: p.metric,
        published,
        source: p.source,
        ...(v ? { ours: v.metrics[p.metric] } : {}),
      };
    }
    const prediction = tPredictionInterval(xs, options.confidence);
    const inside = prediction.lower <= published && published <= prediction.upper;
    const reasons = inside ? undefined : deviationsFor(spec, data.profile as ProfileName, p.variant)
      .filter((d) => d.metrics === undefined || d.metrics.includes(p.metric));
    return {
      variant: p.variant,
      metric: p.metric,
      published,
      source: p.source,
      ours: v.metrics[p.metric],
      interval: tMeanInterval(xs, options.confidence),
      prediction,
      inside,
      ...(reasons ? { reasons } : {}),
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
    crossChecks,
    goals,
    curves: learningCurves(spec, data.epochs, options, seedOf),
  };
}

/** Whether both variants have at least 2 runs with spread (the comparison enters its family). */
function testableData(
  q: Question,
  a: string,
  b: string,
  byVariant: Map<string, RunValues[]>,
): boolean {
  const xa = (byVariant.get(a) ?? []).map((r) => r.values[q.metric]);
  const xb = (byVariant.get(b) ?? []).map((r) => r.values[q.metric]);
  if (xa.length < 2 || xb.length < 2) return false;
  return !(xa.every((x) => x === xa[0]) && xb.every((x) => x === xb[0]));
}

/** Metrics whose values are right-censored at the epoch budget. */
const CENSORED_METRICS: ReadonlySet<Metric> = new Set(["best_epoch", "epochs_run"]);

/**
 * The epoch budget of `variant` in `profile`: a best epoch equal to it is
 * right-censored (the run might have improved with more epochs). Infinity
 * for a profile name the spec does not know.
 */
export function epochCap(spec: Spec, variant: string, profile: string): number {
  if (!(PROFILES as readonly string[]).includes(profile)) return Infinity;
  return resolveRun(spec, variant, profile as ProfileName).train.epochs;
}

function compare(
  q: Question,
  a: string,
  b: string,
  byVariant: Map<string, RunValues[]>,
  options: AnalysisOptions,
  family: { seed: number; familySize: number; level: number; cap: number },
): Comparison {
  const xa = (byVariant.get(a) ?? []).map((r) => r.values[q.metric]);
  const xb = (byVariant.get(b) ?? []).map((r) => r.values[q.metric]);
  const summaryA = summarize(xa);
  const summaryB = summarize(xb);
  const sesoi = q.sesoi * METRIC_INFO[q.metric].scale;
  const censors = CENSORED_METRICS.has(q.metric) && Number.isFinite(family.cap);
  const base: Comparison = {
    question: q.id,
    metric: q.metric,
    better: q.better,
    a,
    b,
    summaryA,
    summaryB,
    diff: summaryA.mean - summaryB.mean,
    sesoi,
    familySize: family.familySize,
    decision: "untestable",
    ...(censors
      ? {
        censoring: {
          a: xa.filter((x) => x >= family.cap).length,
          b: xb.filter((x) => x >= family.cap).length,
          cap: family.cap,
        },
      }
      : {}),
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
  const level = family.level;
  const d = decideComparison(xa, xb, {
    alpha: options.alpha,
    familySize: family.familySize,
    better: q.better,
    sesoi,
    level,
    ...(censors ? { censoredAt: family.cap } : {}),
  });
  const boot = bootstrapMeanDiff(xa, xb, {
    resamples: options.resamples,
    confidence: 1 - level,
    seed: family.seed,
  });
  const g = hedgesG(xa, xb);
  const result: Comparison = {
    ...base,
    ...common,
    level,
    interval: {
      lower: d.interval.lower,
      upper: d.interval.upper,
      method: "welch",
      distinctResamples: boot.distinctResamples,
    },
    ...(Number.isFinite(boot.lower) && Number.isFinite(boot.upper)
      ? {
        bootstrap: {
          lower: boot.lower,
          upper: boot.upper,
          method: boot.method,
          distinctResamples: boot.distinctResamples,
        },
      }
      : {}),
    welch: { t: d.interval.estimate / d.interval.se, df: d.interval.df, p: d.p },
    pAdjusted: d.pAdjusted,
    ...(Number.isFinite(g) ? { hedgesG: g } : {}),
    superiority: d.rank.probability,
    rank: { p: d.rank.p, pAdjusted: d.rank.pAdjusted, method: d.rank.method },
    decision: d.verdict,
    ...(d.negligible ? { negligible: true } : {}),
    ...(d.disagreement ? { disagreement: d.disagreement } : {}),
    method: d.method,
  };
  if (d.verdict === "undetermined") {
    const v = { varA: summaryA.sd ** 2, varB: summaryB.sd ** 2 };
    const planned = options.alpha / family.familySize;
    result.powerNote = {
      detectable: detectableEffect(v, xa.length, xb.length, {
        alpha: level,
        power: options.power,
      }),
      seedsToDetect: seedsPerArm(v, sesoi, "detect", { alpha: planned, power: options.power }),
      seedsToResolve: seedsPerArm(v, sesoi, "equivalence", {
        alpha: planned,
        power: options.power,
      }),
      power: options.power,
      level: planned,
    };
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
