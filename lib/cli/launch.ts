/**
 * `deno task study --launcher slurm`: plan the study exactly as a local one
 * (`planRuns`), write an sbatch script with one array task per missing run
 * next to the results, submit it, and print how to follow it; with `--wait`,
 * follow the array until it has finished, then merge and summarise like a
 * local study.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { resolve } from "node:path";
import { plannedBackend } from "../backends/select.ts";
import { LauncherError, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../fs.ts";
import {
  finished,
  queued,
  sbatchScript,
  type SlurmSettings,
  submissionDir,
  submit,
} from "../launch/slurm.ts";
import { regenerateCsv } from "../store/records.ts";
import { planRuns, type StudyOptions, variantOrder } from "../study/study.ts";
import { formatDuration } from "../study/progress.ts";
import { intOption, stringOption } from "./args.ts";

/** Options of the Slurm launcher, from the command line. */
export interface LaunchOptions {
  settings: SlurmSettings;
  dryRun: boolean;
  wait: boolean;
  /** Seconds between looks at the queue while waiting. */
  poll: number;
}

/** Parse the launcher's options. Throws `UsageError` for bad values. */
export function parseLaunchOptions(
  values: Record<string, unknown>,
  threads: number,
): LaunchOptions {
  const cpus = intOption("cpus-per-task", values["cpus-per-task"], threads, { max: 1024 });
  const limit = values["array-limit"] === undefined
    ? undefined
    : intOption("array-limit", values["array-limit"], 1, { max: 100_000 });
  return {
    settings: {
      partition: stringOption(values.partition),
      time: stringOption(values.time),
      cpusPerTask: cpus,
      mem: stringOption(values.mem),
      arrayLimit: limit,
      requeue: values.requeue === true,
      extra: (Array.isArray(values.sbatch) ? values.sbatch : []).map(String),
    },
    dryRun: values["dry-run"] === true,
    wait: values.wait === true,
    poll: intOption("poll", values.poll, 5, { max: 3600 }),
  };
}

/** The `deno task study` arguments that select the same study on every node. */
function selectionArgs(options: StudyOptions, backend: string, threads: number): string[] {
  return [
    ...options.experiments.flatMap((s) => ["-e", s.name]),
    ...options.variants.flatMap((v) => ["--variant", v]),
    "--seed-list",
    options.seeds.join(","),
    "--profile",
    options.profile,
    "--backend",
    backend,
    "--threads",
    String(threads),
    "--workers",
    "1",
    ...(options.load.dataDir ? ["--data-dir", resolve(options.load.dataDir)] : []),
    ...(options.synthetic ? ["--synthetic"] : []),
    ...(options.saveModels ? ["--save-models"] : []),
  ];
}

/** Submit the study's missing runs as a Slurm array; returns the exit code. */
export async function launchSlurm(given: StudyOptions, launch: LaunchOptions): Promise<number> {
  // Each array task trains with --threads = --cpus-per-task: plan with the same run keys.
  const options = { ...given, threads: launch.settings.cpusPerTask };
  if (options.bless) {
    throw new UsageError(
      "--bless cannot be combined with --launcher slurm; once the array has finished, bless with " +
        "the same study command without --launcher (it trains nothing and blesses the stored runs).",
    );
  }
  // The nodes must train exactly the configuration planned here, so the backend is named.
  const planned = plannedBackend(options.backend, launch.settings.cpusPerTask);
  const runs = await planRuns(options);
  const missing = runs.filter((r) => !r.stored).map((r) => r.index);
  const out = resolve(options.out);
  const jobName = `bnlab-${options.profile}`;
  const dir = submissionDir(out, jobName);
  if (missing.length === 0) {
    console.log(`study: all ${runs.length} runs are stored in ${options.out}/; nothing to submit.`);
    return 0;
  }
  const script = sbatchScript({
    indices: missing,
    count: runs.length,
    root: Deno.cwd(),
    out,
    studyArgs: selectionArgs(options, planned.name, launch.settings.cpusPerTask),
    jobName,
    dir,
  }, launch.settings);
  if (launch.dryRun) {
    console.log(script);
    console.error(
      `study: dry run: ${missing.length} of ${runs.length} runs would be submitted; nothing written.`,
    );
    return 0;
  }
  const path = `${dir}/job.sbatch`;
  await writeFileAtomic(path, script, { root: options.out });
  await Deno.mkdir(`${dir}/logs`, { recursive: true });
  const jobId = await submit(path);
  await writeFileAtomic(
    `${dir}/job.json`,
    JSON.stringify(
      { jobId, runs: runs.length, submitted: missing, script: "job.sbatch" },
      null,
      2,
    ) +
      "\n",
    { root: options.out },
  );
  console.log(
    `study: submitted Slurm job ${jobId}: ${missing.length} array task(s), one per missing run ` +
      `(${runs.length - missing.length} of ${runs.length} already stored).\n` +
      `  script: ${path}\n  logs:   ${dir}/logs/\n` +
      `  follow: squeue -r -j ${jobId}   ·   deno task status --profile ${options.profile}`,
  );
  if (!launch.wait) return 0;
  return await waitFor(jobId, options, launch);
}

/** Follow `jobId` until no array task is pending or running, then merge and summarise. */
async function waitFor(
  jobId: string,
  options: StudyOptions,
  launch: LaunchOptions,
): Promise<number> {
  const started = Date.now();
  let last = "";
  for (;;) {
    const tasks = await queued(jobId);
    if (tasks.length === 0) break;
    const running = tasks.filter((t) => t.state === "RUNNING").length;
    const pending = tasks.length - running;
    const stored = (await planRuns(options)).filter((r) => r.stored).length;
    const line = `${running} running, ${pending} pending, ${stored} runs stored`;
    if (line !== last) {
      console.error(
        `${new Date().toISOString().replace(/\.\d+Z$/, "Z")} slurm job ${jobId}: ${line} ` +
          `(${formatDuration((Date.now() - started) / 1000)})`,
      );
      last = line;
    }
    await new Promise((r) => setTimeout(r, launch.poll * 1000));
  }
  for (const spec of options.experiments) {
    await regenerateCsv(
      `${options.out}/${spec.name}/${options.profile}`,
      variantOrder(spec),
      options.out,
    );
  }
  const runs = await planRuns(options);
  const missing = runs.filter((r) => !r.stored);
  if (missing.length === 0) {
    console.error(
      `study: done through Slurm job ${jobId}; all ${runs.length} runs stored in ${options.out}/ ` +
        `(${formatDuration((Date.now() - started) / 1000)}).`,
    );
    return 0;
  }
  const failed = (await finished(jobId)).filter((t) => t.state !== "COMPLETED");
  throw new LauncherError(
    `Slurm job ${jobId} ended with ${missing.length} of ${runs.length} runs still missing (` +
      missing.slice(0, 5).map((r) => `${r.experiment}/${r.variant} seed ${r.seed}`).join(", ") +
      `${missing.length > 5 ? ", …" : ""})` +
      (failed.length ? `; array tasks ${failed.map((t) => `${t.id} ${t.state}`).join(", ")}` : "") +
      `. See the task logs under ${options.out}/.slurm/, then submit the same command again: ` +
      `it submits only the missing runs.`,
  );
}
