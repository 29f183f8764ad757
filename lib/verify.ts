/**
 * Checking results against golden files.
 *
 * - Integrity: recompute the summary of the stored runs.csv and compare both
 *   hashes with the golden file; on a mismatch, list the differing rows.
 * - Reproduction: compare freshly retrained runs. With the golden file's
 *   environment fingerprint the hashes must be identical (exact check);
 *   otherwise each variant's mean test accuracy must lie inside the golden
 *   tolerance (statistical check): the 95% BCa bootstrap interval of the
 *   golden runs' mean, widened on each side by 3 binomial standard errors of
 *   the test-set size, sqrt(p(1 − p) / n_test), the noise of evaluating on a
 *   finite test set.
 *
 * This module never imports TF.js; retraining is the caller's job.
 *
 * @module
 */
import {
  type Fingerprint,
  fingerprintOf,
  type GoldenFile,
  type GoldenRun,
  rowHash,
  RUN_METRICS,
  runsHash,
  sameFingerprint,
  sig6,
  summarize,
  summaryHash,
} from "./golden.ts";
import { bootstrapMean } from "./stats/bootstrap.ts";
import type { StudyMeta } from "./study/meta.ts";
import type { RunRow } from "./study/results.ts";

/** Which kind of check produced a result. */
export type CheckKind = "integrity" | "reproduction (exact)" | "reproduction (statistical)";

/** One line of verify's output. */
export interface CheckResult {
  kind: CheckKind;
  /** `<experiment>/<profile>`. */
  study: string;
  pass: boolean;
  /** What was compared, with the numbers. */
  detail: string;
  /** A short diff for failures. */
  diff: string[];
}

/** Stored or retrained results of one study. */
export interface StudyResults {
  meta: StudyMeta;
  runs: RunRow[];
}

/** Rows of the golden file's seeds only (a folder may hold more seeds). */
export function restrictToGolden(golden: GoldenFile, runs: readonly RunRow[]): RunRow[] {
  const seeds = new Set(golden.seeds.map(String));
  const variants = new Set(Object.keys(golden.variants));
  return runs.filter((r) => seeds.has(r.seed) && variants.has(r.variant));
}

/** Hash comparison of `results` with `golden` (integrity, or exact reproduction). */
export function checkExact(
  golden: GoldenFile,
  results: StudyResults,
  kind: CheckKind,
): CheckResult {
  const study = `${golden.experiment}/${golden.profile}`;
  const runs = restrictToGolden(golden, results.runs);
  const summary = summarize(runs, { ...results.meta, specHash: results.meta.specHash });
  const sHash = summaryHash(summary);
  const rHash = runsHash(runs);
  const pass = sHash === golden.summarySha256 && rHash === golden.runsSha256;
  const detail =
    `${runs.length} runs; summary ${short(sHash)} vs golden ${short(golden.summarySha256)}, ` +
    `runs ${short(rHash)} vs golden ${short(golden.runsSha256)}`;
  return {
    kind,
    study,
    pass,
    detail,
    diff: pass ? [] : diffRuns(golden, runs, summary.specHash, golden.specHash),
  };
}

/**
 * Statistical comparison of retrained `results` with `golden` (another
 * environment, `fresh` being the retrained runs' fingerprint). The detail
 * names the fingerprint fields that differ and says whether the retrained
 * rows happen to be identical to the golden ones all the same.
 */
export function checkStatistical(
  golden: GoldenFile,
  results: StudyResults,
  fresh: Fingerprint,
): CheckResult {
  const study = `${golden.experiment}/${golden.profile}`;
  const runs = restrictToGolden(golden, results.runs);
  const testSize = Number(runs[0]?.test_examples ?? 10000);
  const lines: string[] = [];
  const diff: string[] = [];
  for (const [variant, summary] of Object.entries(golden.variants)) {
    const goldenValues = golden.runs.filter((r) => r.variant === variant).map((r) => r.test_acc);
    const fresh = runs.filter((r) => r.variant === variant).map((r) => Number(r.test_acc));
    const { lower, upper } = tolerance(goldenValues, summary.test_acc.mean, testSize);
    const mean = fresh.reduce((a, b) => a + b, 0) / Math.max(1, fresh.length);
    const ok = fresh.length === goldenValues.length && mean >= lower && mean <= upper;
    const line = `${variant} test_acc mean ${mean.toFixed(4)} (n=${fresh.length}) in [${
      lower.toFixed(4)
    }, ${upper.toFixed(4)}]`;
    lines.push(line);
    if (!ok) diff.push(`${line}: no (golden mean ${summary.test_acc.mean})`);
  }
  return {
    kind: "reproduction (statistical)",
    study,
    pass: diff.length === 0,
    detail: `environment differs (${fingerprintDiff(golden.environment, fresh)}); ` +
      `${lines.length} variants compared; retrained rows ${
        runsHash(runs) === golden.runsSha256 ? "identical to" : "differ from"
      } the golden runs`,
    diff,
  };
}

/** The exact check when the fingerprints agree, else the statistical one. */
export function checkReproduction(golden: GoldenFile, results: StudyResults): CheckResult {
  const fresh = fingerprintOf(results.meta);
  return sameFingerprint(fresh, golden.environment)
    ? checkExact(golden, results, "reproduction (exact)")
    : checkStatistical(golden, results, fresh);
}

/**
 * The statistical tolerance of a variant's mean test accuracy: the seeded 95%
 * BCa bootstrap interval of the golden runs' mean widened by 3·√(p(1−p)/n_test).
 */
export function tolerance(
  values: number[],
  mean: number,
  testSize: number,
): { lower: number; upper: number } {
  const ci = bootstrapMean(values, { seed: 0 });
  const margin = 3 * Math.sqrt((mean * (1 - mean)) / testSize);
  return { lower: ci.lower - margin, upper: ci.upper + margin };
}

function diffRuns(
  golden: GoldenFile,
  runs: readonly RunRow[],
  specHash: string,
  goldenSpec: string,
): string[] {
  const diff: string[] = [];
  if (specHash !== goldenSpec) {
    diff.push(`spec hash ${short(specHash)} vs golden ${short(goldenSpec)}`);
  }
  const byKey = new Map(runs.map((r) => [`${r.variant}#${r.seed}`, r]));
  for (const g of golden.runs) {
    const row = byKey.get(`${g.variant}#${g.seed}`);
    if (!row) {
      diff.push(`${g.variant} seed ${g.seed}: missing`);
      continue;
    }
    byKey.delete(`${g.variant}#${g.seed}`);
    const changed = RUN_METRICS.filter((m) => sig6(Number(row[m])) !== g[m as keyof GoldenRun]);
    if (changed.length > 0) {
      diff.push(
        `${g.variant} seed ${g.seed}: ` +
          changed.map((m) => `${m} ${row[m]} vs golden ${g[m as keyof GoldenRun]}`).join(", "),
      );
    } else if (rowHash(row) !== g.row) {
      diff.push(
        `${g.variant} seed ${g.seed}: row differs below 6 significant digits or in a provenance column (row hash ${
          rowHash(row)
        } vs golden ${g.row})`,
      );
    }
  }
  for (const key of byKey.keys()) {
    diff.push(`${key.replace("#", " seed ")}: not in the golden file`);
  }
  return diff.slice(0, 20);
}

/** The fields in which two fingerprints differ, as `field: golden → fresh`. */
function fingerprintDiff(golden: Fingerprint, fresh: Fingerprint): string {
  const keys = [...new Set([...Object.keys(golden), ...Object.keys(fresh)])]
    .sort() as (keyof Fingerprint)[];
  const show = (v: unknown) => v === undefined ? "(not recorded)" : String(v);
  return keys
    .filter((k) => golden[k] !== fresh[k])
    .map((k) => `${k}: ${show(golden[k])} → ${show(fresh[k])}`)
    .join(", ");
}

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}
