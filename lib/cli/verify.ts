/**
 * `deno task verify`: check stored results (integrity) and, with `--rerun`
 * and always for the smoke profile, retrain them and compare (reproduction).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { join } from "node:path";
import type { BackendChoice } from "../backends/select.ts";
import { GoldenError } from "../errors.ts";
import { exists, tryLockFile } from "../fs.ts";
import { listSpecs, loadSpec, PROFILES } from "../spec.ts";
import {
  GOLDEN_DIR,
  type GoldenFile,
  goldenPath,
  readGolden,
  selectResults,
} from "../store/golden.ts";
import { readRecords, readRows } from "../store/records.ts";
import type { RunRow } from "../store/schema.ts";
import { runStudy } from "../study/study.ts";
import { checkExact, checkReproduction, type CheckResult, type StudyResults } from "../verify.ts";
import {
  choiceOption,
  coresOption,
  listOption,
  parseCommand,
  resultsRoot,
  stringOption,
} from "./args.ts";

const USAGE = `Usage: deno task verify [options]

Check results against the golden files in golden/. For each golden file:
  integrity     recompute the summary of the stored results/<experiment>/<profile>/
                runs.csv and compare it with the golden hashes (row-level diff on failure);
  reproduction  (--rerun, and always for smoke) retrain the golden seeds and compare:
                exactly when the environment fingerprint matches, statistically otherwise.

Options:
  -e, --experiment NAME   only these experiments, repeatable (default: all)
      --profile P         only this profile (default: all golden files)
      --rerun             also retrain and compare every study
      --results DIR       stored results root (default: $BNLAB_RESULTS, else results)
      --workers K         parallel runs when retraining (default: number of cores)
      --data-dir DIR      folder holding the four Fashion-MNIST .gz files
  -h, --help              show this help`;

const OPTIONS = {
  experiment: { type: "string", short: "e", multiple: true },
  profile: { type: "string" },
  rerun: { type: "boolean" },
  results: { type: "string" },
  workers: { type: "string" },
  "data-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Run the command; returns the exit code (1 when any check fails). */
export async function run(argv: string[]): Promise<number> {
  const values = parseCommand("verify", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const experiments = listOption(values.experiment);
  for (const name of experiments) await loadSpec(name);
  const profile = values.profile === undefined
    ? undefined
    : choiceOption("profile", values.profile, PROFILES, "quick");
  const goldens = await goldenFiles(experiments, profile);
  const unblessed = await withoutGolden(experiments, profile ?? "smoke");
  for (const name of unblessed) {
    console.log(
      `verify: ${name} has no golden file ${
        goldenPath(name, profile ?? "smoke")
      }; bless one with ` +
        `\`${blessCommand(name, profile ?? "smoke")}\``,
    );
  }
  if (goldens.length === 0) {
    const name = experiments[0] ?? "<experiment>";
    throw new GoldenError(
      `No golden file matches${experiments.length ? ` ${experiments.join(", ")}` : ""}${
        profile ? ` (profile ${profile})` : ""
      } in ${GOLDEN_DIR}/. Bless one from stored or freshly trained runs with ` +
        `\`${blessCommand(name, profile ?? "smoke")}\`, then rerun verify.`,
    );
  }
  const options: VerifyOptions = {
    rerun: values.rerun === true,
    results: await resultsRoot(stringOption(values.results)),
    workers: coresOption("workers", values.workers, navigator.hardwareConcurrency),
    dataDir: stringOption(values["data-dir"]),
  };
  let failed = 0;
  for (const path of goldens) {
    const golden = await readGolden(path);
    for (const check of await verifyGolden(golden, options)) {
      console.log(`${check.pass ? "PASS" : "FAIL"} ${check.kind} ${check.study}: ${check.detail}`);
      for (const line of check.diff) console.log(`    ${line}`);
      if (!check.pass) failed++;
    }
  }
  console.log(failed === 0 ? "verify: all checks passed" : `verify: ${failed} check(s) failed`);
  return failed === 0 ? 0 : 1;
}

/** Options of {@linkcode verifyGolden}. */
export interface VerifyOptions {
  rerun: boolean;
  results: string;
  workers: number;
  dataDir?: string | undefined;
  /** Force a backend for retraining (default: the golden file's, when available). */
  backend?: BackendChoice;
}

/**
 * Every check of one golden file: integrity of stored results (when present,
 * required for non-smoke profiles), and reproduction when asked or smoke.
 */
export async function verifyGolden(
  golden: GoldenFile,
  options: VerifyOptions,
): Promise<CheckResult[]> {
  const study = `${golden.experiment}/${golden.profile}`;
  const checks: CheckResult[] = [];
  const stored = join(options.results, golden.experiment, golden.profile);
  const env = golden.environment;
  const storedResults = await readStudy(
    stored,
    (r) => r.backend === env.backend && Number(r.threads) === env.threads,
  );
  if (storedResults) checks.push(checkExact(golden, storedResults, "integrity"));
  else if (golden.profile !== "smoke") {
    checks.push({
      kind: "integrity",
      study,
      pass: false,
      detail: `no stored results in ${stored}`,
      diff: [],
    });
  }
  if (options.rerun || golden.profile === "smoke") {
    checks.push(checkReproduction(golden, await retrain(golden, options)));
  }
  return checks;
}

/** Retrain the golden file's runs into a scratch folder under the results root. */
async function retrain(golden: GoldenFile, options: VerifyOptions): Promise<StudyResults> {
  const scratch = join(options.results, ".verify");
  await removeAbandoned(scratch);
  const out = join(scratch, String(Deno.pid));
  await Deno.remove(out, { recursive: true }).catch(() => {});
  // Held while this process retrains: a later verify removes the folder if it is free.
  const owner = await tryLockFile(join(out, ".owner"), options.results);
  const backend = options.backend ?? pickBackend(golden);
  try {
    await runStudy({
      experiments: [await loadSpec(golden.experiment)],
      variants: Object.keys(golden.variants),
      seeds: golden.seeds,
      profile: golden.profile as (typeof PROFILES)[number],
      backend,
      workers: options.workers,
      threads: golden.environment.threads > 0 ? golden.environment.threads : 1,
      out,
      load: options.dataDir ? { dataDir: options.dataDir } : {},
      synthetic: golden.dataset.id === "synthetic",
      saveModels: false,
      bless: false,
      datasets: { [golden.experiment]: golden.dataset.id },
      quiet: !options.rerun,
    }, ["verify", "--rerun"]);
    const fresh = await readStudy(join(out, golden.experiment, golden.profile), () => true);
    if (!fresh) {
      throw new GoldenError(`Retraining ${golden.experiment}/${golden.profile} stored no results.`);
    }
    return fresh;
  } finally {
    await owner?.release();
    await Deno.remove(out, { recursive: true }).catch(() => {});
    // Not recursive: another verify's folder keeps it (and is left alone).
    await Deno.remove(scratch).catch(() => {});
  }
}

/**
 * Remove the scratch folders of verify processes that were killed before they
 * could clean up: a folder whose `.owner` lock no live process holds.
 */
async function removeAbandoned(scratch: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(scratch));
  } catch {
    return; // no scratch folder yet
  }
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    const dir = join(scratch, entry.name);
    const lock = await tryLockFile(join(dir, ".owner")).catch(() => undefined);
    if (!lock) continue; // in use by a running verify
    await lock.release();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The golden file's backend; `auto` (native when it loads, else wasm) for native and tensorflow. */
function pickBackend(golden: GoldenFile): BackendChoice {
  const b = golden.environment.backend;
  return b === "wasm" || b === "cpu" ? b : "auto";
}

/**
 * The runs of `dir` that `select` keeps, with the environment their records
 * state, or `undefined` when none is stored. Throws `GoldenError` when the
 * selected runs mix environments.
 */
async function readStudy(
  dir: string,
  select: (run: RunRow) => boolean,
): Promise<StudyResults | undefined> {
  const records = await readRecords(dir);
  if (!records.some((r) => select(r.run))) return undefined;
  const rows = await readRows(dir);
  return selectResults(records, select, rows.runs);
}

/** The command that blesses `experiment`'s `profile` golden file. */
function blessCommand(experiment: string, profile: string): string {
  return profile === "smoke"
    ? `deno task study -e ${experiment} --profile smoke --seeds 2 --backend wasm --bless`
    : `deno task study -e ${experiment} --profile ${profile} --seeds 5 --bless`;
}

/** Chosen experiments (all when none is named) that have no golden file for `profile`. */
async function withoutGolden(experiments: string[], profile: string): Promise<string[]> {
  const names = experiments.length > 0 ? experiments : await listSpecs();
  const missing: string[] = [];
  for (const name of names) {
    if (!(await exists(goldenPath(name, profile)))) missing.push(name);
  }
  return missing;
}

async function goldenFiles(experiments: string[], profile: string | undefined): Promise<string[]> {
  if (!(await exists(GOLDEN_DIR))) return [];
  const paths: string[] = [];
  for await (const entry of Deno.readDir(GOLDEN_DIR)) {
    const m = entry.name.match(/^([a-z0-9_]+)\.([a-z]+)\.json$/);
    if (!entry.isFile || !m) continue;
    if (experiments.length > 0 && !experiments.includes(m[1]!)) continue;
    if (profile && m[2] !== profile) continue;
    paths.push(join(GOLDEN_DIR, entry.name));
  }
  return paths.sort();
}
