/**
 * Every comparison as plain data a person can reuse: one flat record per
 * comparison (display units: accuracies in percent and percentage points),
 * written as JSON and CSV next to each experiment's report page and printed
 * by `deno task compare`.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { Comparison, StudyAnalysis } from "./analyze.ts";
import { METRIC_INFO } from "./metrics.ts";

/** Columns of the comparisons CSV, in order. */
export const COMPARISON_COLUMNS = [
  "experiment",
  "profile",
  "question",
  "metric",
  "unit",
  "better",
  "a",
  "b",
  "n_a",
  "n_b",
  "mean_a",
  "sd_a",
  "mean_b",
  "sd_b",
  "diff",
  "sesoi",
  "family_size",
  "level",
  "ci_lower",
  "ci_upper",
  "welch_t",
  "welch_df",
  "p",
  "p_adj",
  "hedges_g",
  "p_a_gt_b",
  "rank_p",
  "rank_p_adj",
  "bca_lower",
  "bca_upper",
  "permutation_p",
  "censored_a",
  "censored_b",
  "epoch_cap",
  "method",
  "verdict",
  "negligible",
  "disagreement",
  "detectable_diff",
  "seeds_to_detect",
  "seeds_to_resolve",
  "reason",
] as const;

/** One comparison as a flat record (numbers, or null where not defined). */
export type ComparisonRecord = Record<
  (typeof COMPARISON_COLUMNS)[number],
  string | number | boolean | null
>;

/** The flat record of one comparison. */
export function comparisonRecord(
  c: Comparison,
  experiment: string,
  profile: string,
): ComparisonRecord {
  const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);
  return {
    experiment,
    profile,
    question: c.question,
    metric: c.metric,
    unit: METRIC_INFO[c.metric]?.diffShort ?? "",
    better: c.better,
    a: c.a,
    b: c.b,
    n_a: c.summaryA.n,
    n_b: c.summaryB.n,
    mean_a: num(c.summaryA.mean),
    sd_a: num(c.summaryA.sd),
    mean_b: num(c.summaryB.mean),
    sd_b: num(c.summaryB.sd),
    diff: num(c.diff),
    sesoi: num(c.sesoi),
    family_size: c.familySize,
    level: num(c.level),
    ci_lower: num(c.interval?.lower),
    ci_upper: num(c.interval?.upper),
    welch_t: num(c.welch?.t),
    welch_df: num(c.welch?.df),
    p: num(c.welch?.p),
    p_adj: num(c.pAdjusted),
    hedges_g: num(c.hedgesG),
    p_a_gt_b: num(c.superiority),
    rank_p: num(c.rank?.p),
    rank_p_adj: num(c.rank?.pAdjusted),
    bca_lower: num(c.bootstrap?.lower),
    bca_upper: num(c.bootstrap?.upper),
    permutation_p: num(c.permutation?.p),
    censored_a: c.censoring ? c.censoring.a : null,
    censored_b: c.censoring ? c.censoring.b : null,
    epoch_cap: c.censoring ? c.censoring.cap : null,
    method: c.method ?? null,
    verdict: c.decision,
    negligible: c.negligible ?? false,
    disagreement: c.disagreement ?? null,
    detectable_diff: num(c.powerNote?.detectable),
    seeds_to_detect: c.powerNote ? finiteOrNull(c.powerNote.seedsToDetect) : null,
    seeds_to_resolve: c.powerNote ? finiteOrNull(c.powerNote.seedsToResolve) : null,
    reason: c.reason ?? null,
  };
}

/** Every comparison of an analysis, in question order. */
export function comparisonRecords(a: StudyAnalysis): ComparisonRecord[] {
  return a.questions.flatMap((q) =>
    q.comparisons.map((c) => comparisonRecord(c, a.spec.name, a.data.profile))
  );
}

/** Records as pretty JSON (a final newline). */
export function recordsJson(records: ComparisonRecord[]): string {
  return JSON.stringify(records, null, 2) + "\n";
}

/** Records as CSV with {@linkcode COMPARISON_COLUMNS}; null cells are empty. */
export function recordsCsv(records: ComparisonRecord[]): string {
  return stringify(
    records.map((r) => COMPARISON_COLUMNS.map((k) => (r[k] === null ? "" : String(r[k])))),
    { header: true, columns: [...COMPARISON_COLUMNS], eof: true },
  );
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
