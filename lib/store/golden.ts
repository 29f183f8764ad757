/**
 * Golden files: hashed, human-readable summaries of committed studies, in
 * `golden/<experiment>.<profile>.json` (format v2). A golden file holds, for
 * the runs a `--bless` selected (one environment), each variant's n / mean /
 * sd / min / max of test accuracy, best epoch and generalisation gap over the
 * runs that did not diverge and the number that diverged; every run's status,
 * main metrics (6 significant digits; null when not finite), configuration
 * hash and row hash; the split hashes, the dataset digests and the
 * environment fingerprint; plus
 *
 * - `runsSha256`: SHA-256 of the runs' canonical CSV (rows sorted by variant
 *   and seed, every column except timings, full precision);
 * - `summarySha256`: SHA-256 of the canonical JSON of everything else in the
 *   file (sorted keys, numbers at 6 significant digits, no whitespace).
 *
 * Only `deno task study --bless` writes golden files. This module never
 * imports TF.js; its one import above the store is the descriptive
 * `lib/stats/describe.ts` (n, mean, sd, min, max).
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { GoldenError } from "../errors.ts";
import { parseJsonText, writeFileAtomic } from "../fs.ts";
import { canonicalJson, type Json, sha256Hex } from "../hash.ts";
import { describe } from "../stats/describe.ts";
import type { StudyMeta } from "./meta.ts";
import type { RunEnvironment, RunRecord } from "./records.ts";
import { isFiniteCell, RUN_COLUMNS, runKey, type RunRow, TIMING_COLUMNS } from "./schema.ts";
import { toCsv } from "./table.ts";

/** Format tag of golden files (v2: per-run status and configuration hash, no spec hash). */
export const GOLDEN_FORMAT = "bnlab-golden-v2";
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

/**
 * n, mean, sd, min, max of one metric over a variant's runs that did not
 * diverge (6 significant digits; `null` when every run diverged).
 */
export interface MetricSummary {
  n: number;
  mean: number | null;
  sd: number | null;
  min: number | null;
  max: number | null;
}

/** The golden record of one run: status, main metrics (6 digits; null if non-finite), hashes. */
export type GoldenRun = Record<(typeof RUN_METRICS)[number], number | null> & {
  variant: string;
  seed: number;
  status: string;
  /** Epoch the run diverged at, 0 for runs that did not. */
  diverged_epoch: number;
  /** First 16 hex digits of the run's configuration hash. */
  config: string;
  /** SHA-256 of the run's canonical CSV row (timing columns dropped), first 16 hex digits. */
  row: string;
  /**
   * CPU model the run was trained on: recorded only when the blessed runs ran
   * on several CPU models (native backend, a cluster of mixed nodes), so that
   * `verify` can check each run exactly where its CPU matches.
   */
  cpu?: string;
};

/** Per variant: the summaries over runs that did not diverge, and how many diverged. */
export type VariantSummary = Record<(typeof SUMMARY_METRICS)[number], MetricSummary> & {
  diverged: number;
};

/** Everything a golden file states (its hashes cover exactly this). */
export interface GoldenSummary {
  format: string;
  experiment: string;
  profile: string;
  seeds: number[];
  environment: Fingerprint;
  dataset: { id: string; digests: Record<string, string> };
  splits: Record<string, string>;
  variants: Record<string, VariantSummary>;
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

/** What a golden summary is made from: rows of one environment and that environment. */
export interface StudyResults {
  experiment: string;
  profile: string;
  environment: Fingerprint;
  dataset: { id: string; digests: Record<string, string> };
  runs: RunRow[];
  /** CPU model per run (`variant#seed`), when the runs ran on several CPU models. */
  cpus?: Record<string, string>;
}

/** Round to 6 significant digits (the golden files' number format). */
export function sig6(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

/** The environment fingerprint of a folder's meta.json or of one run's environment. */
export function fingerprintOf(meta: StudyMeta | RunEnvironment): Fingerprint {
  const native = meta.backend === "native";
  const arch = "arch" in meta ? meta.arch : meta.cpu.arch;
  const cpu = "arch" in meta ? meta.cpu : meta.cpu.model;
  return {
    tool: meta.tool,
    version: meta.version,
    deno: meta.deno,
    tfjs: meta.tfjs,
    backend: meta.backend,
    threads: meta.threads,
    arch,
    ...(native && meta.library ? { library: meta.library } : {}),
    ...(native && cpu ? { cpu } : {}),
  };
}

/**
 * The golden input of the runs of `records` that `select` keeps, with their
 * rows taken from `rows` (the CSV a person may have edited) when given.
 * Throws `GoldenError` when nothing is selected or when the selected runs
 * mix environments or dataset files (a golden file states one).
 */
export function selectResults(
  records: readonly RunRecord[],
  select: (run: RunRow) => boolean,
  rows?: readonly RunRow[],
): StudyResults {
  const chosen = records.filter((r) => select(r.run));
  if (chosen.length === 0) {
    throw new GoldenError(`No stored runs match the selection.`);
  }
  const first = chosen[0]!;
  const environment = fingerprintOf(first.environment);
  const dataset = first.environment.dataset;
  // Runs may differ in CPU model (the nodes of a cluster); everything else is one environment.
  const cpus: Record<string, string> = {};
  for (const r of chosen) {
    const fp = fingerprintOf(r.environment);
    if (fp.cpu !== undefined) cpus[`${r.run.variant}#${r.run.seed}`] = fp.cpu;
    if (!sameFingerprint(withoutCpu(fp), withoutCpu(environment))) {
      throw new GoldenError(
        `The selected runs of ${first.run.experiment}/${first.run.profile} mix settings: ` +
          `${r.run.variant} seed ${r.run.seed} ran with ${canonicalJson(fp as unknown as Json)}, ` +
          `${first.run.variant} seed ${first.run.seed} with ` +
          `${canonicalJson(environment as unknown as Json)}. A golden file states one ` +
          `environment: choose the runs with --backend/--threads/--seeds, or rerun them into a ` +
          `fresh folder.`,
      );
    }
    if (canonicalJson(r.environment.dataset as unknown as Json) !== canonicalJson(dataset)) {
      throw new GoldenError(
        `The selected runs of ${first.run.experiment}/${first.run.profile} were trained on ` +
          `different dataset files; a golden file states one dataset.`,
      );
    }
  }
  const byKey = rows ? new Map(rows.map((r) => [runKey(r), r])) : undefined;
  const runs = byKey ? [...byKey.values()].filter(select) : chosen.map((r) => r.run);
  const mixed = new Set(Object.values(cpus)).size > 1;
  return {
    experiment: first.run.experiment,
    profile: first.run.profile,
    environment,
    dataset: { id: dataset.id, digests: dataset.digests },
    runs,
    ...(mixed ? { cpus } : {}),
  };
}

/** `fp` without its CPU model (the part of a fingerprint that may vary between nodes). */
export function withoutCpu(fp: Fingerprint): Fingerprint {
  const { cpu: _cpu, ...rest } = fp;
  return rest;
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

/**
 * Build the golden summary of stored runs. Diverged runs are listed (with
 * their status and epoch) and counted per variant, but left out of the
 * means. Throws `GoldenError` for an empty study.
 */
export function summarize(results: StudyResults): GoldenSummary {
  const { runs } = results;
  if (runs.length === 0) {
    throw new GoldenError(`No runs of ${results.experiment}/${results.profile} to summarise.`);
  }
  const sorted = [...runs].sort(compareRuns);
  const variants: GoldenSummary["variants"] = {};
  for (const name of [...new Set(sorted.map((r) => r.variant))]) {
    const rows = sorted.filter((r) => r.variant === name);
    const ok = rows.filter((r) => r.status === "ok");
    variants[name] = {
      ...Object.fromEntries(
        SUMMARY_METRICS.map((m) => [m, summariseMetric(ok.map((r) => Number(r[m])))]),
      ),
      diverged: rows.length - ok.length,
    } as VariantSummary;
  }
  const splits: Record<string, string> = {};
  for (const r of sorted) splits[r.seed] = r.split_hash;
  return {
    format: GOLDEN_FORMAT,
    experiment: results.experiment,
    profile: results.profile,
    seeds: [...new Set(sorted.map((r) => Number(r.seed)))].sort((a, b) => a - b),
    environment: results.environment,
    dataset: results.dataset,
    splits,
    variants,
    runs: sorted.map((r) =>
      ({
        variant: r.variant,
        seed: Number(r.seed),
        status: r.status,
        diverged_epoch: r.diverged_epoch === "" ? 0 : Number(r.diverged_epoch),
        config: r.config_hash.slice(0, 16),
        row: rowHash(r),
        ...(results.cpus?.[`${r.variant}#${r.seed}`]
          ? { cpu: results.cpus[`${r.variant}#${r.seed}`] }
          : {}),
        ...Object.fromEntries(
          RUN_METRICS.map((m) => [m, isFiniteCell(r[m]) ? sig6(Number(r[m])) : null]),
        ),
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

/**
 * Write the golden file of `results` into `dir`; returns its path. Refuses
 * symbolic links under `dir`.
 */
export async function writeGolden(results: StudyResults, dir = GOLDEN_DIR): Promise<string> {
  const path = goldenPath(results.experiment, results.profile, dir);
  await writeFileAtomic(path, goldenText(summarize(results), results.runs), { root: dir });
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
  const file = parseJsonText(path, text, (m) => new GoldenError(`Golden file ${m}.`)) as GoldenFile;
  if (typeof file !== "object" || file === null || Array.isArray(file)) {
    throw new GoldenError(`Golden file ${path} is malformed (not a JSON object).`);
  }
  const missing = [
    "format",
    "experiment",
    "profile",
    "seeds",
    "environment",
    "dataset",
    "splits",
    "variants",
    "runs",
    "runsSha256",
    "summarySha256",
  ]
    .filter((k) => !(k in (file ?? {})));
  if (
    missing.length > 0 || file.format !== GOLDEN_FORMAT
  ) {
    throw new GoldenError(
      missing.length > 0
        ? `Golden file ${path} is malformed (missing ${missing.join(", ")}).`
        : `Golden file ${path} has format ${JSON.stringify(file.format)}, not ${GOLDEN_FORMAT}; ` +
          `re-bless it with \`deno task study ... --bless\` (or migrate it).`,
    );
  }
  const parsed = GoldenFileSchema.safeParse(file);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GoldenError(
      `Golden file ${path} is malformed (${issue.path.join(".") || "(root)"}: ${issue.message}); ` +
        `it was edited by hand or damaged. Restore it from version control, or re-bless it ` +
        `with \`deno task study ... --bless\`.`,
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

const num = z.number().nullable();
const MetricSummarySchema = z.object({
  n: z.number().int().nonnegative(),
  mean: num,
  sd: num,
  min: num,
  max: num,
});
/** The shape of a golden file (format v2), checked on every read. */
const GoldenFileSchema = z.object({
  format: z.literal(GOLDEN_FORMAT),
  experiment: z.string(),
  profile: z.string(),
  seeds: z.array(z.number().int()),
  environment: z.object({
    tool: z.string(),
    version: z.string(),
    deno: z.string(),
    tfjs: z.string(),
    backend: z.string(),
    threads: z.number(),
    arch: z.string(),
    library: z.string().optional(),
    cpu: z.string().optional(),
  }),
  dataset: z.object({ id: z.string(), digests: z.record(z.string(), z.string()) }),
  splits: z.record(z.string(), z.string()),
  variants: z.record(
    z.string(),
    z.object({
      ...Object.fromEntries(SUMMARY_METRICS.map((m) => [m, MetricSummarySchema])),
      diverged: z.number().int().nonnegative(),
    }),
  ),
  runs: z.array(z.object({
    ...Object.fromEntries(RUN_METRICS.map((m) => [m, num])),
    variant: z.string(),
    seed: z.number().int(),
    status: z.string(),
    diverged_epoch: z.number().int().nonnegative(),
    config: z.string(),
    row: z.string(),
    cpu: z.string().optional(),
  })),
  runsSha256: z.string(),
  summarySha256: z.string(),
});

function summariseMetric(values: number[]): MetricSummary {
  if (values.length === 0) return { n: 0, mean: null, sd: null, min: null, max: null };
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
