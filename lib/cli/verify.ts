/**
 * `deno task verify`: check stored results (integrity) and, with `--rerun`
 * and always for the smoke profile, retrain them and compare (reproduction).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { join } from "node:path";
import type { BackendChoice } from "../backends/select.ts";
import { GoldenError, UsageError } from "../errors.ts";
import { exists } from "../fs.ts";
import { GOLDEN_DIR, type GoldenFile, readGolden } from "../golden.ts";
import { loadSpec, PROFILES } from "../spec.ts";
import { readMeta } from "../study/meta.ts";
import { readResults } from "../study/results.ts";
import { runStudy } from "../study/study.ts";
import { checkExact, checkReproduction, type CheckResult, type StudyResults } from "../verify.ts";
import { choiceOption, coresOption, listOption, parseCommand, stringOption } from "./args.ts";

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
      --results DIR       stored results root (default: results)
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
  if (goldens.length === 0) throw new UsageError("No golden file matches; see golden/.");
  const options: VerifyOptions = {
    rerun: values.rerun === true,
    results: stringOption(values.results) ?? "results",
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
  const storedResults = await readStudy(stored);
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
  const out = join(options.results, ".verify", String(Deno.pid));
  await Deno.remove(out, { recursive: true }).catch(() => {});
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
      quiet: true,
    }, ["verify", "--rerun"]);
    const fresh = await readStudy(join(out, golden.experiment, golden.profile));
    if (!fresh) {
      throw new GoldenError(`Retraining ${golden.experiment}/${golden.profile} stored no results.`);
    }
    return fresh;
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
}

/** The golden file's backend; `auto` (native when it loads, else wasm) for native and tensorflow. */
function pickBackend(golden: GoldenFile): BackendChoice {
  const b = golden.environment.backend;
  return b === "wasm" || b === "cpu" ? b : "auto";
}

async function readStudy(dir: string): Promise<StudyResults | undefined> {
  const meta = await readMeta(dir);
  if (!meta) return undefined;
  return { meta, runs: (await readResults(dir)).runs };
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
