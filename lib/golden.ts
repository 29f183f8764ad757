/**
 * Golden files: hashed, human-readable summaries of committed studies, in
 * `golden/<experiment>.<profile>.json`. A golden file holds, for a study's
 * seeds, each variant's n / mean / sd / min / max of test accuracy, best epoch
 * and generalisation gap, every run's main metrics (6 significant digits)
 * and row hash,
 * the split hashes, the dataset digests and the environment fingerprint, plus
 *
 * - `runsSha256`: SHA-256 of the study's runs.csv in canonical form (rows
 *   sorted by variant and seed, every column except timings, full precision);
 * - `summarySha256`: SHA-256 of the canonical JSON of everything else in the
 *   file (sorted keys, numbers at 6 significant digits, no whitespace).
 *
 * Only `deno task study --bless` writes golden files. This module never
 * imports TF.js.
 *
 * @module
 */
import { join } from "node:path";
import { GoldenError } from "./errors.ts";
import { writeFileAtomic } from "./fs.ts";
import { canonicalJson, type Json, sha256Hex } from "./hash.ts";
import { describe } from "./stats/describe.ts";
import type { StudyMeta } from "./study/meta.ts";
import { readMeta } from "./study/meta.ts";
import { readResults, RUN_COLUMNS, type RunRow, TIMING_COLUMNS, toCsv } from "./study/results.ts";

/** Format tag of golden files. */
export const GOLDEN_FORMAT = "bnlab-golden-v1";
/** Folder of the golden files, relative to the project root. */
export const GOLDEN_DIR = "golden";

/** What makes two runs of one configuration bit-identical. */
export interface Fingerprint {
  tool: string;
  version: string;
  deno: string;
  tfjs: string;
  backend: string;
  threads: number;
  arch: string;
  /** Native library and CPU model: only for the native backend (JIT kernels depend on the CPU). */
  library?: string;
  cpu?: string;
}

/** n, mean, sd, min, max of one metric over a variant's seeds (6 significant digits). */
export interface MetricSummary {
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
}

/** The golden record of one run: main metrics (6 digits) and the hash of its full row. */
export type GoldenRun = Record<(typeof RUN_METRICS)[number], number> & {
  variant: string;
  seed: number;
  /** SHA-256 of the run's canonical CSV row (timing columns dropped), first 16 hex digits. */
  row: string;
};

/** Everything a golden file states (its hashes cover exactly this). */
export interface GoldenSummary {
  format: string;
  experiment: string;
  profile: string;
  seeds: number[];
  specHash: string;
  environment: Fingerprint;
  dataset: { id: string; digests: Record<string, string> };
  splits: Record<string, string>;
  variants: Record<string, Record<(typeof SUMMARY_METRICS)[number], MetricSummary>>;
  runs: GoldenRun[];
}

/** A golden file: the summary and its two hashes. */
export interface GoldenFile extends GoldenSummary {
  runsSha256: string;
  summarySha256: string;
}

/** Metrics summarised per variant. */
export const SUMMARY_METRICS = ["test_acc", "best_epoch", "gap"] as const;
/** Metrics recorded per run (readable diffs). */
export const RUN_METRICS = [
  "test_acc",
  "test_loss",
  "val_acc",
  "val_loss",
  "train_acc",
  "gap",
  "best_epoch",
  "epochs_run",
] as const;

/** Round to 6 significant digits (the golden files' number format). */
export function sig6(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

/** The environment fingerprint of a results folder's meta.json. */
export function fingerprintOf(meta: StudyMeta): Fingerprint {
  const native = meta.backend === "native";
  return {
    tool: meta.tool,
    version: meta.version,
    deno: meta.deno,
    tfjs: meta.tfjs,
    backend: meta.backend,
    threads: meta.threads,
    arch: meta.cpu.arch,
    ...(native && meta.library ? { library: meta.library } : {}),
    ...(native && meta.cpu.model ? { cpu: meta.cpu.model } : {}),
  };
}

/** True when two fingerprints promise bit-identical results. */
export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return canonicalJson(a as unknown as Json) === canonicalJson(b as unknown as Json);
}

const HASHED_COLUMNS = RUN_COLUMNS.filter((c) => !TIMING_COLUMNS.includes(c));

/** SHA-256 of `runs` in canonical form: sorted by (variant, seed), timing columns dropped. */
export function runsHash(runs: readonly RunRow[]): string {
  const rows = [...runs].sort(compareRuns).map((r) =>
    Object.fromEntries(HASHED_COLUMNS.map((c) => [c, r[c]]))
  );
  return sha256Hex(toCsv(rows, HASHED_COLUMNS));
}

/** Short hash of one run's canonical row (timing columns dropped). */
export function rowHash(run: RunRow): string {
  return sha256Hex(HASHED_COLUMNS.map((c) => run[c]).join(",")).slice(0, 16);
}

/** SHA-256 of a summary's canonical JSON (hash fields excluded). */
export function summaryHash(summary: GoldenSummary): string {
  const { runsSha256: _r, summarySha256: _s, ...rest } = summary as GoldenFile;
  return sha256Hex(canonicalJson(rest as unknown as Json, (n) => JSON.stringify(sig6(n))));
}

/** Build the golden summary of stored runs. Throws `GoldenError` for an empty study. */
export function summarize(runs: readonly RunRow[], meta: StudyMeta): GoldenSummary {
  if (runs.length === 0) {
    throw new GoldenError(`No runs of ${meta.experiment}/${meta.profile} to summarise.`);
  }
  const sorted = [...runs].sort(compareRuns);
  const variants: GoldenSummary["variants"] = {};
  for (const name of [...new Set(sorted.map((r) => r.variant))]) {
    const rows = sorted.filter((r) => r.variant === name);
    variants[name] = Object.fromEntries(
      SUMMARY_METRICS.map((m) => [m, summariseMetric(rows.map((r) => Number(r[m])))]),
    ) as GoldenSummary["variants"][string];
  }
  const splits: Record<string, string> = {};
  for (const r of sorted) splits[r.seed] = r.split_hash;
  return {
    format: GOLDEN_FORMAT,
    experiment: meta.experiment,
    profile: meta.profile,
    seeds: [...new Set(sorted.map((r) => Number(r.seed)))].sort((a, b) => a - b),
    specHash: meta.specHash,
    environment: fingerprintOf(meta),
    dataset: { id: meta.dataset.id, digests: meta.dataset.digests },
    splits,
    variants,
    runs: sorted.map((r) =>
      ({
        variant: r.variant,
        seed: Number(r.seed),
        row: rowHash(r),
        ...Object.fromEntries(RUN_METRICS.map((m) => [m, sig6(Number(r[m]))])),
      }) as GoldenRun
    ),
  };
}

/** The golden file of `summary` (with hashes) as pretty JSON, keys sorted. */
export function goldenText(summary: GoldenSummary, runs: readonly RunRow[]): string {
  const file: GoldenFile = {
    ...summary,
    runsSha256: runsHash(runs),
    summarySha256: summaryHash(summary),
  };
  return JSON.stringify(sortKeys(file), null, 2) + "\n";
}

/** Path of the golden file of (experiment, profile). */
export function goldenPath(experiment: string, profile: string, dir = GOLDEN_DIR): string {
  return join(dir, `${experiment}.${profile}.json`);
}

/** Write the golden file of the study stored in `resultsDir`; returns its path. */
export async function blessStudy(resultsDir: string, dir = GOLDEN_DIR): Promise<string> {
  const meta = await readMeta(resultsDir);
  if (!meta) throw new GoldenError(`${resultsDir} has no meta.json; run the study first.`);
  const { runs } = await readResults(resultsDir);
  const path = goldenPath(meta.experiment, meta.profile, dir);
  await writeFileAtomic(path, goldenText(summarize(runs, meta), runs));
  return path;
}

/**
 * Read and validate a golden file: JSON, format, required fields and its own
 * summary hash. Throws `GoldenError` naming the problem.
 */
export async function readGolden(path: string): Promise<GoldenFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new GoldenError(
        `There is no golden file ${path}; bless one with \`deno task study ... --bless\`.`,
      );
    }
    throw err;
  }
  let file: GoldenFile;
  try {
    file = JSON.parse(text);
  } catch (err) {
    throw new GoldenError(`Golden file ${path} is not valid JSON (${(err as Error).message}).`);
  }
  const missing = [
    "format",
    "experiment",
    "profile",
    "seeds",
    "environment",
    "variants",
    "runs",
    "runsSha256",
    "summarySha256",
  ]
    .filter((k) => !(k in (file ?? {})));
  if (
    typeof file !== "object" || file === null || missing.length > 0 || file.format !== GOLDEN_FORMAT
  ) {
    throw new GoldenError(
      `Golden file ${path} is malformed (missing ${missing.join(", ") || "format"}).`,
    );
  }
  const actual = summaryHash(file);
  if (actual !== file.summarySha256) {
    throw new GoldenError(
      `Golden file ${path} does not match its own hash (content ${
        actual.slice(0, 12)
      }…, recorded ` +
        `${
          String(file.summarySha256).slice(0, 12)
        }…): it was edited by hand. Re-bless it from results.`,
    );
  }
  return file;
}

function summariseMetric(values: number[]): MetricSummary {
  const d = describe(values);
  return { n: d.n, mean: sig6(d.mean), sd: sig6(d.sd), min: sig6(d.min), max: sig6(d.max) };
}

function compareRuns(
  a: { variant: string; seed: string | number },
  b: { variant: string; seed: string | number },
) {
  return a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : Number(a.seed) - Number(b.seed);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
