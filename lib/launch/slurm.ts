/**
 * Hand a study's missing runs to Slurm as a job array. bnlab does not schedule
 * anything itself here: it writes a plain sbatch script next to the results,
 * one array task per missing run, and each task is an ordinary
 * `deno task study ... --shard i/N` process that trains exactly one
 * (experiment, variant, seed) into the shared results folder through the
 * results store. Nothing
 * coordinates the tasks but the store's atomic per-run records, so a task
 * killed by a time limit, preemption or node failure loses only its own run,
 * and submitting the same command again submits only what is still missing.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { LauncherError, UsageError } from "../errors.ts";
import { shellQuote } from "../shell.ts";

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

/** The array: which runs of the study's canonical order to train, and how. */
export interface ArrayJob {
  /** Canonical positions of the runs still missing (the array indices). */
  indices: number[];
  /** Number of runs the study selects in all (the `N` of `--shard i/N`). */
  count: number;
  /** The project root: tasks `cd` there so `deno task` finds deno.json. */
  root: string;
  /** Results root, absolute (tasks may start in another directory). */
  out: string;
  /** `deno task study` arguments that select the study (without `--shard`). */
  studyArgs: string[];
  jobName: string;
  /** Folder of this submission's script and task logs. */
  dir: string;
}

/** Values that would break a `#SBATCH` line. */
const UNSAFE = /[\s"'`$\\]/;

/**
 * The sbatch script of `job`: array task i trains run i of the study's
 * canonical order, as `deno task study <the study's selection> --shard i/N`,
 * so the array indices are exactly the missing runs and a resubmission lists
 * only what is still missing. Throws `UsageError` for settings that cannot be
 * written safely into `#SBATCH` lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sbatchScript } from "./slurm.ts";
 * const script = sbatchScript({
 *   indices: [0, 1, 2, 5], count: 6, root: "/repo", out: "/scratch/results",
 *   studyArgs: ["-e", "lenet5", "--profile", "smoke"], jobName: "bnlab-smoke",
 *   dir: "/scratch/results/.slurm/x",
 * }, { cpusPerTask: 2, requeue: false, extra: [] });
 * assert.match(script, /#SBATCH --array=0-2,5\n/);
 * ```
 */
export function sbatchScript(job: ArrayJob, settings: SlurmSettings): string {
  if (job.indices.length === 0) throw new UsageError("There are no runs to submit.");
  for (
    const [name, value] of [
      ["--partition", settings.partition],
      ["--time", settings.time],
      ["--mem", settings.mem],
      ["the results folder", job.out],
      ["the project folder", job.root],
    ] as const
  ) {
    if (value !== undefined && UNSAFE.test(value)) {
      throw new UsageError(
        `${name} "${value}" contains spaces, quotes, "$" or "\\", which cannot be written ` +
          `safely into the sbatch script; choose another value.`,
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
  const array = arraySpec(job.indices) +
    (settings.arrayLimit !== undefined ? `%${settings.arrayLimit}` : "");
  const lines = [
    "#!/usr/bin/env bash",
    `# bnlab study as a Slurm job array: ${job.indices.length} of its ${job.count} runs, one per`,
    `# array task. Written by \`deno task study --launcher slurm\`; array task i trains run i of`,
    `# the study's canonical order (experiment, variant, seed) with --shard i/${job.count}.`,
    `# Submitting the same study command again submits only the runs still missing.`,
    `#SBATCH --job-name=${job.jobName}`,
    `#SBATCH --array=${array}`,
    `#SBATCH --ntasks=1`,
    `#SBATCH --cpus-per-task=${settings.cpusPerTask}`,
    ...(settings.mem ? [`#SBATCH --mem=${settings.mem}`] : []),
    ...(settings.time ? [`#SBATCH --time=${settings.time}`] : []),
    ...(settings.partition ? [`#SBATCH --partition=${settings.partition}`] : []),
    `#SBATCH --output=${join(job.dir, "logs", "%A_%a.out")}`,
    settings.requeue ? "#SBATCH --requeue" : "#SBATCH --no-requeue",
    ...extra,
    "set -euo pipefail",
    `cd ${job.root}`,
    `export BNLAB_RESULTS=${job.out}`,
    `exec "\${BNLAB_DENO:-deno}" task study ${job.studyArgs.map(shellQuote).join(" ")} \\`,
    `  --shard "$SLURM_ARRAY_TASK_ID/${job.count}"`,
    "",
  ];
  return lines.join("\n");
}

/** `0-2,5,7-9` for [0, 1, 2, 5, 7, 8, 9] (sorted, distinct indices). */
export function arraySpec(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Output of a Slurm client command; throws `LauncherError` when it is missing or fails. */
export async function slurmCommand(name: string, args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) {
      throw new LauncherError(
        `${name} is not at /usr/bin/${name}, the one place the task may run it from (least ` +
          `privilege; Debian's and Ubuntu's slurm-client put it there). Add your cluster's path ` +
          `to the --allow-run list of the study and status tasks in deno.json.`,
      );
    }
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
