/**
 * `deno task status`: how far each study is, per experiment and profile: runs
 * stored with the current configuration, diverged, stale (stored under an
 * older configuration), missing for the seeds asked and started (unfinished
 * runs with a checkpoint of their finished epochs); and, where studies
 * were handed to Slurm, which array tasks are pending, running or failed.
 * Reads only; never trains or writes.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { join } from "node:path";
import { z } from "zod";
import { exists, parseJsonText, readTextIfExists } from "../fs.ts";
import { finished, queued } from "../launch/slurm.ts";
import { listSpecs, loadSpec, PROFILES, resolveRun, type Spec } from "../spec.ts";
import { configHash, readRecords, runConfig } from "../store/records.ts";
import { listCheckpoints } from "../study/checkpoint.ts";
import { LauncherError } from "../errors.ts";
import {
  choiceOption,
  intOption,
  listOption,
  parseCommand,
  resultsRoot,
  stringOption,
} from "./args.ts";

const USAGE = `Usage: deno task status [options]

Show, per experiment and profile, how many runs are stored with the current
configuration (done), diverged, stored under an older configuration (stale,
retrained by the next study), missing for seeds 1..N, and started (unfinished
runs whose finished epochs a checkpoint keeps; the next study continues them);
then the Slurm jobs
submitted by \`study --launcher slurm\` and their array tasks' states.

Options:
  -e, --experiment NAME   only these experiments, repeatable (default: all)
      --profile P         smoke | quick | full (default: every profile with results)
      --seeds N           count missing runs against seeds 1..N (default: 5)
      --results DIR       results root (default: $BNLAB_RESULTS, else results)
  -h, --help              show this help`;

const OPTIONS = {
  experiment: { type: "string", short: "e", multiple: true },
  profile: { type: "string" },
  seeds: { type: "string" },
  results: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** One row of the table. */
export interface StudyStatus {
  experiment: string;
  profile: string;
  done: number;
  diverged: number;
  stale: number;
  missing: number;
  /** Unfinished runs with a checkpoint (`partial/`), which the next study continues. */
  started: number;
}

/**
 * Status of `spec` at `profile` in `dir` against seeds 1..`seeds`: a run is
 * done when a stored record's configuration hash equals the one the spec
 * resolves to now for that record's own backend and threads.
 */
export async function studyStatus(
  spec: Spec,
  profile: string,
  dir: string,
  seeds: number,
): Promise<StudyStatus> {
  const records = await readRecords(dir);
  const current = new Set<string>();
  let diverged = 0;
  let stale = 0;
  for (const r of records) {
    const variant = spec.variants.find((v) => v.name === r.run.variant);
    const seed = Number(r.run.seed);
    const fresh = variant !== undefined && configHash(
          runConfig(resolveRun(spec, variant.name, profile as (typeof PROFILES)[number]), {
            seed,
            backend: r.run.backend,
            threads: Number(r.run.threads),
          }),
        ) === r.configHash;
    if (!fresh) {
      stale++;
      continue;
    }
    current.add(`${r.run.variant}#${seed}`);
    if (r.run.status === "diverged") diverged++;
  }
  let missing = 0;
  for (const v of spec.variants) {
    for (let seed = 1; seed <= seeds; seed++) if (!current.has(`${v.name}#${seed}`)) missing++;
  }
  return {
    experiment: spec.name,
    profile,
    done: current.size,
    diverged,
    stale,
    missing,
    started: (await listCheckpoints(dir)).length,
  };
}

const JobSchema = z.object({ jobId: z.string(), runs: z.number(), submitted: z.array(z.number()) });

/** Run the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const values = parseCommand("status", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names = listOption(values.experiment);
  const specs: Spec[] = [];
  for (const name of names.length ? names : await listSpecs()) specs.push(await loadSpec(name));
  const profiles = values.profile === undefined
    ? [...PROFILES]
    : [choiceOption("profile", values.profile, PROFILES, "quick")];
  const seeds = intOption("seeds", values.seeds, 5, { max: 1000 });
  const root = await resultsRoot(stringOption(values.results));

  const rows: StudyStatus[] = [];
  for (const spec of specs) {
    for (const profile of profiles) {
      const dir = join(root, spec.name, profile);
      if (!(await exists(dir)) && values.profile === undefined) continue;
      rows.push(await studyStatus(spec, profile, dir, seeds));
    }
  }
  if (rows.length === 0) {
    console.log(`status: no results under ${root}/ yet; start with \`deno task study\`.`);
  } else {
    const head = [
      "experiment",
      "profile",
      "done",
      "diverged",
      "stale",
      `missing (seeds 1-${seeds})`,
      "started",
    ];
    const table = [
      head,
      ...rows.map((r) => [
        r.experiment,
        r.profile,
        String(r.done),
        String(r.diverged),
        String(r.stale),
        String(r.missing),
        String(r.started),
      ]),
    ];
    const widths = head.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) {
      console.log(
        row.map((cell, i) => i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))
          .join("  "),
      );
    }
  }
  await slurmStatus(root);
  return 0;
}

/** The Slurm jobs recorded under `<root>/.slurm/` and the states of their array tasks. */
async function slurmStatus(root: string): Promise<void> {
  const base = join(root, ".slurm");
  if (!(await exists(base))) return;
  const names: string[] = [];
  for await (const entry of Deno.readDir(base)) if (entry.isDirectory) names.push(entry.name);
  const jobs: { name: string; jobId: string; submitted: number }[] = [];
  for (const name of names.sort()) {
    const path = join(base, name, "job.json");
    let problem: string;
    try {
      const text = await readTextIfExists(path);
      if (text === undefined) continue; // the submission did not get that far
      const job = JobSchema.safeParse(parseJsonText(path, text, (m) => new Error(m)));
      if (job.success) {
        jobs.push({ name, jobId: job.data.jobId, submitted: job.data.submitted.length });
        continue;
      }
      problem = `${path} is not a bnlab job record (${job.error.issues[0]!.message})`;
    } catch (err) {
      problem = (err as Error).message.split("\n")[0]!;
    }
    console.log(`slurm job ${name}: unreadable; ${problem}`);
  }
  for (const job of jobs) {
    let line: string;
    try {
      const live = await queued(job.jobId);
      const running = live.filter((t) => t.state === "RUNNING").length;
      const ended = live.length === 0 ? await finished(job.jobId) : [];
      const failed = ended.filter((t) => !["COMPLETED", "RUNNING", "PENDING"].includes(t.state));
      line = live.length > 0
        ? `${running} running, ${live.length - running} pending`
        : ended.length > 0
        ? `finished` +
          (failed.length ? `; failed: ${failed.map((t) => `${t.id} ${t.state}`).join(", ")}` : "")
        : "no longer known to Slurm";
    } catch (err) {
      if (!(err instanceof LauncherError)) throw err;
      line = `Slurm not reachable (${err.message.split(";")[0]})`;
    }
    console.log(`slurm job ${job.jobId} (${job.name}, ${job.submitted} array tasks): ${line}`);
  }
}
