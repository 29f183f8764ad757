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
  type GoldenFile,
  type GoldenRun,
  rowHash,
  RUN_METRICS,
  runsHash,
  sameFingerprint,
  sig6,
  type StudyResults,
  summarize,
  summaryHash,
} from "./store/golden.ts";
import type { RunRow } from "./store/schema.ts";
import { bootstrapMean } from "./stats/bootstrap.ts";

export type { StudyResults };

/** Which kind of check produced a result. */
export type CheckKind =
  | "integrity"
  | "reproduction (exact)"
  | "reproduction (statistical)"
  | "reproduction (exact + statistical)";

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
  const summary = runs.length > 0 ? summarize({ ...results, runs }) : undefined;
  const sHash = summary ? summaryHash(summary) : "(no runs)";
  const rHash = runsHash(runs);
  const pass = sHash === golden.summarySha256 && rHash === golden.runsSha256;
  const diverged = runs.filter((r) => r.status === "diverged").length;
  const detail = `${runs.length} runs${diverged ? ` (${diverged} diverged)` : ""}; summary ${
    short(sHash)
  } vs golden ${short(golden.summarySha256)}, runs ${short(rHash)} vs golden ${
    short(golden.runsSha256)
  }`;
  const diff = pass ? [] : diffRuns(golden, runs);
  if (!pass && summary && !sameFingerprint(summary.environment, golden.environment)) {
    diff.unshift(
      `environment differs (${fingerprintDiff(golden.environment, results.environment)})`,
    );
  }
  return { kind, study, pass, detail, diff };
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
    const goldenOk = golden.runs.filter((r) => r.variant === variant && r.status === "ok");
    const goldenValues = goldenOk.map((r) => r.test_acc as number);
    const rows = runs.filter((r) => r.variant === variant);
    const fresh = rows.filter((r) => r.status === "ok").map((r) => Number(r.test_acc));
    const diverged = rows.length - fresh.length;
    const note = diverged || summary.diverged
      ? ` (diverged: ${diverged} retrained, ${summary.diverged} golden; left out of the means)`
      : "";
    if (goldenValues.length === 0 || fresh.length === 0) {
      const line = `${variant}: ${fresh.length} finished run(s) vs ${goldenValues.length} golden` +
        note;
      lines.push(line);
      if (fresh.length !== goldenValues.length || diverged !== summary.diverged) diff.push(line);
      continue;
    }
    const { lower, upper } = tolerance(goldenValues, summary.test_acc.mean!, testSize);
    const mean = fresh.reduce((a, b) => a + b, 0) / Math.max(1, fresh.length);
    const ok = fresh.length === goldenValues.length && mean >= lower && mean <= upper;
    const line = `${variant} test_acc mean ${mean.toFixed(4)} (n=${fresh.length}) in [${
      lower.toFixed(4)
    }, ${upper.toFixed(4)}]${note}`;
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
  const fresh = results.environment;
  const exact = golden.runs.filter((r) => sameFingerprint(runFingerprint(golden, r), fresh));
  if (exact.length === golden.runs.length) {
    return checkExact(golden, results, "reproduction (exact)");
  }
  if (exact.length === 0) return checkStatistical(golden, results, fresh);
  return checkMixed(golden, results, fresh, exact);
}

/** The fingerprint a golden run was trained with (its own CPU model where recorded). */
export function runFingerprint(golden: GoldenFile, run: GoldenRun): Fingerprint {
  return run.cpu === undefined ? golden.environment : { ...golden.environment, cpu: run.cpu };
}

/**
 * A golden study whose runs ran on several CPU models (a cluster of mixed
 * nodes), retrained on one of them: the runs whose CPU matches must give
 * identical rows (row hashes), and every variant's mean must pass the
 * statistical check; the detail says which runs were checked which way.
 */
function checkMixed(
  golden: GoldenFile,
  results: StudyResults,
  fresh: Fingerprint,
  exact: GoldenRun[],
): CheckResult {
  const statistical = checkStatistical(golden, results, fresh);
  const rows = new Map(
    restrictToGolden(golden, results.runs).map((r) => [
      `${r.variant}#${r.seed}`,
      r,
    ]),
  );
  const diff: string[] = [];
  for (const g of exact) {
    const row = rows.get(`${g.variant}#${g.seed}`);
    if (!row) diff.push(`${g.variant} seed ${g.seed}: missing (exact check)`);
    else if (rowHash(row) !== g.row) {
      diff.push(
        `${g.variant} seed ${g.seed}: row ${
          rowHash(row)
        } vs golden ${g.row} (same CPU: must match)`,
      );
    }
  }
  const others = golden.runs.length - exact.length;
  return {
    kind: "reproduction (exact + statistical)",
    study: `${golden.experiment}/${golden.profile}`,
    pass: diff.length === 0 && statistical.pass,
    detail: `exact for the ${exact.length} run(s) trained on this CPU (${fresh.cpu ?? "?"}): ` +
      `${exact.length - diff.length} identical; statistical for the ${others} trained on other ` +
      `CPUs: ${statistical.detail}`,
    diff: [...diff, ...statistical.diff],
  };
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

function diffRuns(golden: GoldenFile, runs: readonly RunRow[]): string[] {
  const diff: string[] = [];
  const byKey = new Map(runs.map((r) => [`${r.variant}#${r.seed}`, r]));
  for (const g of golden.runs) {
    const row = byKey.get(`${g.variant}#${g.seed}`);
    if (!row) {
      diff.push(`${g.variant} seed ${g.seed}: missing`);
      continue;
    }
    byKey.delete(`${g.variant}#${g.seed}`);
    if (row.config_hash.slice(0, 16) !== g.config) {
      diff.push(
        `${g.variant} seed ${g.seed}: configuration ${row.config_hash.slice(0, 16)} vs golden ` +
          `${g.config} (the spec or a setting changed since blessing)`,
      );
      continue;
    }
    if (row.status !== g.status) {
      diff.push(`${g.variant} seed ${g.seed}: status ${row.status} vs golden ${g.status}`);
      continue;
    }
    const value = (m: (typeof RUN_METRICS)[number]) =>
      Number.isFinite(Number(row[m])) ? sig6(Number(row[m])) : null;
    const changed = RUN_METRICS.filter((m) => value(m) !== g[m as keyof GoldenRun]);
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
