/**
 * Hand a study's missing runs to Slurm as a job array. bnlab does not schedule
 * anything itself here: it writes a plain sbatch script and a task list next to
 * the results, one array task per run, and each task is an ordinary
 * `deno task study` process that trains exactly one (experiment, variant,
 * seed) into the shared results folder through the results store. Nothing
 * coordinates the tasks but the store's atomic per-run records, so a task
 * killed by a time limit, preemption or node failure loses only its own run,
 * and submitting the same command again submits only what is still missing.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { LauncherError, UsageError } from "../errors.ts";

/** One run of a study, in canonical order (experiment, variant order, seed). */
export interface PlannedRun {
  experiment: string;
  variant: string;
  seed: number;
}

/** What the cluster needs to know about the array (`#SBATCH` lines). */
export interface SlurmSettings {
  /** Partition (`--partition`); the cluster's default when absent. */
  partition?: string | undefined;
  /** Time limit per array task, in any form sbatch takes ("30", "2:00:00", "1-00:00:00"). */
  time?: string | undefined;
  /** CPUs per task; also the run's `--threads`. */
  cpusPerTask: number;
  /** Memory per task in any form sbatch takes ("2G", "1500M"). */
  mem?: string | undefined;
  /** At most this many array tasks at once (`--array=...%K`). */
  arrayLimit?: number | undefined;
  /** Let Slurm requeue a task after preemption or node failure. */
  requeue: boolean;
  /** Extra `#SBATCH` lines, as given (with or without the `#SBATCH` prefix). */
  extra: string[];
}

/** The study settings every array task repeats. */
export interface TaskCommand {
  /** The project root: tasks `cd` there so `deno task` finds deno.json. */
  root: string;
  profile: string;
  backend: string;
  /** Results root, absolute (tasks may start in another directory). */
  out: string;
  dataDir?: string | undefined;
}

/** The files of one submission. */
export interface Submission {
  /** Folder holding the script, the task list and the task logs. */
  dir: string;
  script: string;
  tasks: string;
  jobName: string;
}

/** Values that would break a `#SBATCH` line or the script's quoting. */
const UNSAFE = /[\n\r"'`$\\]/;

/**
 * The sbatch script and task list for `runs`. The task list has one line per
 * run, `experiment variant seed`; array task i trains line i + 1. Throws
 * `UsageError` for settings that cannot be written safely into the script.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sbatchScript } from "./slurm.ts";
 * const { script, tasks } = sbatchScript(
 *   [{ experiment: "lenet5", variant: "bn", seed: 1 }],
 *   { cpusPerTask: 2, requeue: false, extra: [] },
 *   { root: "/repo", profile: "smoke", backend: "native", out: "/scratch/results" },
 *   { dir: "/scratch/results/.slurm/x", jobName: "bnlab-smoke" },
 * );
 * assert.match(script, /#SBATCH --array=0-0/);
 * assert.equal(tasks, "lenet5 bn 1\n");
 * ```
 */
export function sbatchScript(
  runs: PlannedRun[],
  settings: SlurmSettings,
  command: TaskCommand,
  where: { dir: string; jobName: string },
): { script: string; tasks: string } {
  if (runs.length === 0) throw new UsageError("There are no runs to submit.");
  for (
    const [name, value] of [
      ["--partition", settings.partition],
      ["--time", settings.time],
      ["--mem", settings.mem],
      ["--out", command.out],
      ["--data-dir", command.dataDir],
      ["the project folder", command.root],
    ] as const
  ) {
    if (value !== undefined && (UNSAFE.test(value) || /\s/.test(value))) {
      throw new UsageError(
        `${name} "${value}" contains spaces, quotes, "$", "\\" or a line break, which cannot be ` +
          `written safely into the sbatch script; choose another value.`,
      );
    }
  }
  for (const run of runs) {
    if (/\s/.test(run.experiment) || /\s/.test(run.variant)) {
      throw new UsageError(
        `Names with spaces cannot go into a task list: ${run.experiment}/${run.variant}.`,
      );
    }
  }
  const extra = settings.extra.map((line) => {
    const body = line.replace(/^#SBATCH\s+/, "").trim();
    if (!body.startsWith("-") || /[\n\r]/.test(body)) {
      throw new UsageError(
        `--sbatch "${line}" is not an sbatch option (expected for example "--account=proj" or ` +
          `"#SBATCH --qos=short").`,
      );
    }
    return `#SBATCH ${body}`;
  });
  const array = `0-${runs.length - 1}` +
    (settings.arrayLimit !== undefined ? `%${settings.arrayLimit}` : "");
  const tasksPath = join(where.dir, "tasks.txt");
  const studyArgs = [
    "--profile",
    command.profile,
    "--backend",
    command.backend,
    "--threads",
    String(settings.cpusPerTask),
    "--workers",
    "1",
    "--out",
    command.out,
    ...(command.dataDir ? ["--data-dir", command.dataDir] : []),
  ];
  const lines = [
    "#!/usr/bin/env bash",
    `# bnlab study as a Slurm job array: ${runs.length} run(s), one per array task.`,
    `# Written by \`deno task study --launcher slurm\`; task i trains line i+1 of`,
    `# ${tasksPath} into ${command.out}.`,
    `# Resubmitting the same study command submits only the runs still missing.`,
    `#SBATCH --job-name=${where.jobName}`,
    `#SBATCH --array=${array}`,
    `#SBATCH --ntasks=1`,
    `#SBATCH --cpus-per-task=${settings.cpusPerTask}`,
    ...(settings.mem ? [`#SBATCH --mem=${settings.mem}`] : []),
    ...(settings.time ? [`#SBATCH --time=${settings.time}`] : []),
    ...(settings.partition ? [`#SBATCH --partition=${settings.partition}`] : []),
    `#SBATCH --output=${join(where.dir, "logs", "%A_%a.out")}`,
    settings.requeue ? "#SBATCH --requeue" : "#SBATCH --no-requeue",
    ...extra,
    "set -euo pipefail",
    `cd ${command.root}`,
    `line="$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${tasksPath})"`,
    `read -r experiment variant seed <<<"$line"`,
    `echo "bnlab: array task $SLURM_ARRAY_TASK_ID: $experiment/$variant seed $seed on $(hostname)"`,
    `exec "\${BNLAB_DENO:-deno}" task study -e "$experiment" --variant "$variant" --seed-list "$seed" ${
      studyArgs.join(" ")
    }`,
    "",
  ];
  const tasks = runs.map((r) => `${r.experiment} ${r.variant} ${r.seed}\n`).join("");
  return { script: lines.join("\n"), tasks };
}

/** Output of a Slurm client command; throws `LauncherError` when it is missing or fails. */
export async function slurmCommand(name: string, args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new LauncherError(
        `${name} was not found: the Slurm client commands must be on PATH where the study is ` +
          `launched (on a laptop, scripts/slurm-local.sh up starts a one-node cluster).`,
      );
    }
    throw err;
  }
  const text = new TextDecoder();
  if (!output.success) {
    throw new LauncherError(
      `${name} ${args.join(" ")} failed (exit ${output.code}): ${
        text.decode(output.stderr).trim().split("\n")[0] ?? ""
      }`,
    );
  }
  return text.decode(output.stdout);
}

/** Submit `script`; returns the job id. */
export async function submit(script: string): Promise<string> {
  const out = (await slurmCommand("sbatch", ["--parsable", script])).trim();
  const id = out.split(";")[0]!;
  if (!/^\d+$/.test(id)) throw new LauncherError(`sbatch answered "${out}", not a job id.`);
  return id;
}

/** State of each array task still known to the controller. */
export interface TaskState {
  /** "<job>_<index>" (or "<job>_[range]" for tasks not started yet). */
  id: string;
  /** PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, ... */
  state: string;
}

/** Array tasks of `jobId` that are pending or running (`squeue`). */
export async function queued(jobId: string): Promise<TaskState[]> {
  const out = await slurmCommand("squeue", ["-h", "-r", "-j", jobId, "-o", "%i %T"]);
  return out.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const [id, state] = l.trim().split(/\s+/);
    return { id: id!, state: state ?? "UNKNOWN" };
  });
}

/**
 * Final states of the array tasks of `jobId`, from `sacct` when accounting is
 * enabled, else from `scontrol show job` (which keeps finished jobs for
 * `MinJobAge` seconds). Returns `[]` when neither knows the job any more.
 */
export async function finished(jobId: string): Promise<TaskState[]> {
  try {
    const out = await slurmCommand("sacct", ["-n", "-X", "-P", "-j", jobId, "-o", "JobID,State"]);
    const rows = out.split("\n").filter((l) => l.includes("|")).map((l) => {
      const [id, state] = l.split("|");
      return { id: id!, state: (state ?? "").split(" ")[0]! };
    });
    if (rows.length > 0) return rows;
  } catch (err) {
    if (!(err instanceof LauncherError)) throw err;
  }
  try {
    const out = await slurmCommand("scontrol", ["show", "job", "-o", jobId]);
    return out.split("\n").filter((l) => l.includes("JobId=")).map((l) => {
      const task = /ArrayTaskId=(\S+)/.exec(l)?.[1];
      const job = /ArrayJobId=(\d+)/.exec(l)?.[1] ?? jobId;
      return {
        id: task ? `${job}_${task}` : /JobId=(\d+)/.exec(l)![1]!,
        state: /JobState=(\S+)/.exec(l)?.[1] ?? "UNKNOWN",
      };
    });
  } catch (err) {
    if (err instanceof LauncherError) return [];
    throw err;
  }
}

/** A unique folder for one submission's files, below the results root. */
export function submissionDir(out: string, jobName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return join(resolve(out), ".slurm", `${jobName}-${stamp}`);
}
