/**
 * `deno task study`: train every (experiment, variant, seed) of the chosen
 * profile and store the results; resumable, one writer per results folder.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { dirname, join, resolve } from "node:path";
import { BACKEND_CHOICES, initBackend } from "../backends/select.ts";
import { UsageError } from "../errors.ts";
import { DATASETS } from "../data/datasets.ts";
import { loadModel } from "../models/io.ts";
import { checkBatchMemory, inferShapes } from "../models/shapes.ts";
import { listSpecs, loadSpec, type ProfileName, PROFILES, resolveRun, type Spec } from "../spec.ts";
import { resolveDataset } from "../study/datasets.ts";
import { runStudy, type StudyOptions } from "../study/study.ts";
import { evaluate } from "../train/loop.ts";
import {
  choiceOption,
  coresOption,
  durationOption,
  intOption,
  listOption,
  parseCommand,
  RESULTS_ENV,
  resultsRoot,
  seedListOption,
  stringOption,
} from "./args.ts";

const USAGE = `Usage: deno task study [options]

Train every experiment's variants over several seeds and store per-epoch and
per-run metrics as CSV in <out>/<experiment>/<profile>/. Rerunning the same
command skips completed runs (a killed study loses only the runs in flight).

Options:
  -e, --experiment NAME   experiment to run, repeatable, or "all" (default: all)
      --variant NAME      only these variants, repeatable (default: all)
      --seeds N           run seeds 1..N (default: 5)
      --seed-list 1,2,3   run exactly these seeds
      --profile P         smoke | quick | full (default: quick)
      --backend B         auto | native | wasm | cpu | tensorflow (default: auto)
      --workers K         parallel runs, one per worker (default: number of cores)
      --threads T         threads per run for the native backend (default: 1)
      --out DIR           results folder (default: $BNLAB_RESULTS, else results; a
                          folder outside the checkout needs BNLAB_RESULTS=DIR, which
                          deno task also grants read and write access to)
      --data-dir DIR      folder holding the four Fashion-MNIST .gz files
      --synthetic         train on a small generated dataset (tests and demos)
      --save-models       also save each trained model (TF.js weights format)
      --evaluate PATH     evaluate a saved model folder on its test set and exit
      --bless             write golden/<experiment>.<profile>.json from exactly the runs
                          this command selects (--seeds/--seed-list, --variant,
                          --backend, --threads), training any that are missing first
      --until-resolved    add seeds in rounds (--seeds N first, then --round-seeds more) until
                          every comparison is settled or --max-seeds is reached; a
                          group-sequential design keeps the error at 0.05 over all looks, and
                          each look is recorded in <out>/<experiment>/<profile>/looks.json
      --max-seeds N       cap on seeds per variant for --until-resolved
      --round-seeds K     seeds added per round (default: 5)
      --time-limit D      stop training within D of the command's start (5400, 90m,
                          1h30m): a run stops after the last epoch expected to end in
                          time and keeps a checkpoint (partial/ of its results folder);
                          runs stopped or not started make the study exit 8, and the
                          same command continues them where they stopped
      --timings           print where each run's time went (dataset, split and
                          model, training steps, validation, test) and a
                          summary with worker start-up and idle worker time
      --shard i/N         train only the runs at positions i, i+N, i+2N, … of the study's
                          canonical order (experiment, variant, seed); any number of
                          shards may share one results folder (a CI matrix, an indexed job)

Slurm (--launcher slurm: one array task per missing run, each a --shard of this study):
      --launcher L        local | slurm (default: local)
      --partition P       sbatch --partition
      --time T            time limit per array task (sbatch --time, e.g. 2:00:00)
      --cpus-per-task C   CPUs per task, also each run's --threads (default: --threads)
      --mem M             memory per task (sbatch --mem, e.g. 2G)
      --array-limit K     at most K array tasks at once
      --sbatch LINE       extra #SBATCH option, repeatable (e.g. --sbatch=--account=proj)
      --requeue           let Slurm requeue tasks after preemption or node failure
      --dry-run           print the sbatch script and submit nothing
      --wait              follow the array until it finishes, then summarise
  -h, --help              show this help

Experiments: see experiments/*.json.`;

const OPTIONS = {
  experiment: { type: "string", short: "e", multiple: true },
  variant: { type: "string", multiple: true },
  seeds: { type: "string" },
  "seed-list": { type: "string" },
  profile: { type: "string" },
  backend: { type: "string" },
  workers: { type: "string" },
  threads: { type: "string" },
  out: { type: "string" },
  "data-dir": { type: "string" },
  synthetic: { type: "boolean" },
  "save-models": { type: "boolean" },
  evaluate: { type: "string" },
  bless: { type: "boolean" },
  "until-resolved": { type: "boolean" },
  "max-seeds": { type: "string" },
  "round-seeds": { type: "string" },
  shard: { type: "string" },
  launcher: { type: "string" },
  partition: { type: "string" },
  time: { type: "string" },
  "cpus-per-task": { type: "string" },
  mem: { type: "string" },
  "array-limit": { type: "string" },
  sbatch: { type: "string", multiple: true },
  requeue: { type: "boolean" },
  "dry-run": { type: "boolean" },
  wait: { type: "boolean" },
  poll: { type: "string" },
  timings: { type: "boolean" },
  "time-limit": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Run the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const values = parseCommand("study", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const evaluatePath = stringOption(values.evaluate);
  if (evaluatePath !== undefined) return await evaluateSaved(evaluatePath, values);
  // Flags of --until-resolved are checked before anything touches the disk.
  const plan = values["until-resolved"] === true ? roundsPlan(values) : undefined;
  if (!plan && (values["max-seeds"] !== undefined || values["round-seeds"] !== undefined)) {
    throw new UsageError("--max-seeds and --round-seeds only apply with --until-resolved.");
  }
  if (values["time-limit"] !== undefined && (plan || values.launcher === "slurm")) {
    throw new UsageError(
      "--time-limit applies to a local study of fixed seeds; with --launcher slurm give each " +
        "array task --time, and leave it out of --until-resolved.",
    );
  }
  const options = await parseStudyOptions(values);
  const launcher = choiceOption("launcher", values.launcher, ["local", "slurm"] as const, "local");
  const slurmOnly = [
    "partition",
    "time",
    "cpus-per-task",
    "mem",
    "array-limit",
    "sbatch",
    "requeue",
    "dry-run",
    "wait",
    "poll",
  ].filter((name) => values[name] !== undefined);
  if (launcher === "slurm") {
    if (options.shard || plan) {
      throw new UsageError(
        "--launcher slurm makes its own shards; leave out --shard and --until-resolved.",
      );
    }
    const { launchSlurm, parseLaunchOptions } = await import("./launch.ts");
    return await launchSlurm(options, parseLaunchOptions(values, options.threads));
  }
  if (slurmOnly.length > 0) {
    throw new UsageError(
      `--${slurmOnly[0]} only applies with --launcher slurm; add it, or leave the option out.`,
    );
  }
  if (plan) {
    const { runUntilResolved } = await import("./rounds.ts");
    const outcomes = await runUntilResolved(options, plan, ["study", ...argv]);
    for (const o of outcomes) {
      console.log(
        `study: ${o.experiment}: ${o.looks} look(s), ${o.seeds} seeds per variant, ` +
          (o.stopped === "resolved" ? "every comparison settled" : "stopped at the seed cap"),
      );
    }
    return 0;
  }
  await runStudy(options, ["study", ...argv]);
  return 0;
}

/** The sequential plan of --until-resolved; the first look is --seeds N (seeds 1..N). */
function roundsPlan(
  values: Record<string, unknown>,
): { start: number; step: number; max: number; alpha: number } {
  if (values["seed-list"] !== undefined || values.variant !== undefined || values.bless === true) {
    throw new UsageError(
      "--until-resolved adds seeds 1, 2, 3, … to every variant, so it takes --seeds N for the " +
        "first look and cannot be combined with --seed-list, --variant or --bless.",
    );
  }
  if (values["max-seeds"] === undefined) {
    throw new UsageError("--until-resolved needs --max-seeds N, the cap on seeds per variant.");
  }
  const start = intOption("seeds", values.seeds, 5, { max: 1000 });
  const max = intOption("max-seeds", values["max-seeds"], start, {
    min: Math.max(2, start),
    max: 1000,
  });
  const step = intOption("round-seeds", values["round-seeds"], 5, { max: 1000 });
  if (start < 2) {
    throw new UsageError("--until-resolved needs --seeds of at least 2 for the first look.");
  }
  return { start, step, max, alpha: 0.05 };
}

/** Validate every option before anything is written. Throws `UsageError`. */
export async function parseStudyOptions(values: Record<string, unknown>): Promise<StudyOptions> {
  const names = listOption(values.experiment);
  const known = await listSpecs();
  const chosen = names.length === 0 || names.includes("all") ? known : names;
  const experiments: Spec[] = [];
  for (const name of chosen) experiments.push(await loadSpec(name));
  const variants = listOption(values.variant);
  for (const v of variants) {
    if (!experiments.some((s) => s.variants.some((x) => x.name === v))) {
      throw new UsageError(`No chosen experiment has a variant "${v}".`);
    }
  }
  const seedList = stringOption(values["seed-list"]);
  if (seedList !== undefined && values.seeds !== undefined) {
    throw new UsageError("Give either --seeds or --seed-list, not both.");
  }
  const seeds = seedList !== undefined
    ? seedListOption(seedList)
    : Array.from({ length: intOption("seeds", values.seeds, 5, { max: 1000 }) }, (_, i) => i + 1);
  const profile = choiceOption("profile", values.profile, PROFILES, "quick");
  const backend = choiceOption("backend", values.backend, BACKEND_CHOICES, "auto");
  const workers = coresOption("workers", values.workers, navigator.hardwareConcurrency);
  const threads = coresOption("threads", values.threads, 1);
  checkArchitectures(experiments, variants, profile);
  const dataDir = stringOption(values["data-dir"]);
  const timeLimit = values["time-limit"] === undefined
    ? undefined
    : durationOption("time-limit", values["time-limit"]);
  const out = await resultsRoot(stringOption(values.out));
  await checkWritable(out); // last: the only check that touches the disk
  return {
    experiments,
    variants,
    seeds,
    profile,
    backend,
    workers,
    threads,
    out,
    load: dataDir ? { dataDir } : {},
    synthetic: values.synthetic === true,
    saveModels: values["save-models"] === true,
    bless: values.bless === true,
    ...(values.shard !== undefined ? { shard: shardOption(values.shard) } : {}),
    timings: values.timings === true,
    ...(timeLimit !== undefined ? { timeLimit } : {}),
  };
}

/** `--shard i/N` with 0 ≤ i < N. Throws `UsageError` otherwise. */
export function shardOption(value: unknown): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(String(value).trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new UsageError(
      `--shard must be i/N with N ≥ 1 and 0 ≤ i < N (for example --shard 0/4 … --shard 3/4), ` +
        `got "${String(value)}".`,
    );
  }
  return { index, count };
}

/**
 * Infer the shapes of every chosen variant's model (no weights, no TF.js) so
 * that an architecture that cannot work stops the study before anything is
 * written. Throws `UsageError` naming the experiment, variant and layer.
 */
function checkArchitectures(experiments: Spec[], variants: string[], profile: ProfileName): void {
  for (const spec of experiments) {
    const classes = DATASETS[spec.dataset.id]!.classes.length;
    for (const v of spec.variants) {
      if (variants.length > 0 && !variants.includes(v.name)) continue;
      const where = `Experiment ${spec.name}, variant "${v.name}"`;
      const config = resolveRun(spec, v.name, profile);
      const shapes = inferShapes(config.layers, classes, where);
      checkBatchMemory(shapes, Math.max(config.train.batchSize, config.eval.batchSize), where);
    }
  }
}

/**
 * Check that `dir` can be written, leaving nothing behind: folders created
 * for the check are removed again (the study creates them when it stores its
 * first run). Throws `UsageError` naming the folder.
 */
async function checkWritable(dir: string): Promise<void> {
  // The topmost folder of `dir` that does not exist yet: only a folder known
  // to be missing (NotFound) counts; one that cannot be looked at is left alone.
  let created: string | undefined;
  for (let d = resolve(dir); dirname(d) !== d; d = dirname(d)) {
    const missing = await Deno.lstat(d).then(
      () => false,
      (err) => err instanceof Deno.errors.NotFound,
    );
    if (!missing) break;
    created = d;
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${Deno.pid}`);
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (err) {
    const hint = err instanceof Deno.errors.NotCapable
      ? ` The tasks may write only to results/ and to the folder named by ${RESULTS_ENV}; to ` +
        `use this one, run \`${RESULTS_ENV}=${dir} deno task study ...\` (an absolute path).`
      : "";
    throw new UsageError(
      `Cannot write to the output folder ${dir} (${(err as Error).message.split("\n")[0]}).${hint}`,
    );
  } finally {
    if (created) await Deno.remove(created, { recursive: true }).catch(() => {});
  }
}

async function evaluateSaved(path: string, values: Record<string, unknown>): Promise<number> {
  const backend = await initBackend(
    choiceOption("backend", values.backend, BACKEND_CHOICES, "auto"),
    {
      threads: coresOption("threads", values.threads, 1),
    },
  );
  const { model, info } = await loadModel(path);
  try {
    const spec = await loadSpec(info.experiment);
    const dataDir = stringOption(values["data-dir"]);
    const { dataset } = await resolveDataset(spec, {
      ...(dataDir ? { dataDir } : {}),
      ...(info.dataset === "synthetic" ? { synthetic: {} } : { force: info.dataset }),
    });
    const config = resolveRun(spec, info.variant, "full");
    const all = Uint32Array.from({ length: dataset.test.count }, (_, i) => i);
    const result = evaluate(model, dataset.test.images, dataset.test.labels, all, config.eval);
    console.log(
      `${info.experiment}/${info.variant} seed ${info.seed} on ${dataset.id} test set ` +
        `(${dataset.test.count} images, ${backend.name}): accuracy ${result.acc.toFixed(4)}, ` +
        `loss ${result.loss.toFixed(4)}`,
    );
    return 0;
  } finally {
    model.dispose();
  }
}
