import assert from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { type PlannedRun, sbatchScript, submissionDir } from "../../lib/launch/slurm.ts";

const runs: PlannedRun[] = [
  { experiment: "placement", variant: "baseline", seed: 1 },
  { experiment: "placement", variant: "post_bn", seed: 1 },
  { experiment: "lenet5", variant: "bn", seed: 3 },
];
const command = {
  root: "/repo",
  profile: "full",
  backend: "native",
  out: "/scratch/results",
};
const where = { dir: "/scratch/results/.slurm/bnlab-full-x", jobName: "bnlab-full" };

Deno.test("the sbatch script has one array task per run and passes the task's settings on", () => {
  const { script, tasks } = sbatchScript(
    runs,
    {
      cpusPerTask: 2,
      mem: "2G",
      time: "4:00:00",
      partition: "cpu",
      arrayLimit: 8,
      requeue: true,
      extra: ["--account=proj", "#SBATCH --qos=short"],
    },
    command,
    where,
  );
  assert.equal(tasks, "placement baseline 1\nplacement post_bn 1\nlenet5 bn 3\n");
  const directives = script.split("\n").filter((l) => l.startsWith("#SBATCH"));
  assert.deepEqual(directives, [
    "#SBATCH --job-name=bnlab-full",
    "#SBATCH --array=0-2%8",
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=2",
    "#SBATCH --mem=2G",
    "#SBATCH --time=4:00:00",
    "#SBATCH --partition=cpu",
    "#SBATCH --output=/scratch/results/.slurm/bnlab-full-x/logs/%A_%a.out",
    "#SBATCH --requeue",
    "#SBATCH --account=proj",
    "#SBATCH --qos=short",
  ]);
  const exec = script.split("\n").find((l) => l.startsWith("exec "))!;
  assert.match(
    exec,
    /--profile full --backend native --threads 2 --workers 1 --out \/scratch\/results$/,
  );
  assert.match(
    script,
    /sed -n "\$\(\(SLURM_ARRAY_TASK_ID \+ 1\)\)p" \/scratch\/results\/\.slurm\/bnlab-full-x\/tasks\.txt/,
  );
});

Deno.test("the sbatch script leaves out what was not asked for and refuses requeueing by default", () => {
  const { script } = sbatchScript(
    runs.slice(0, 1),
    {
      cpusPerTask: 1,
      requeue: false,
      extra: [],
    },
    { ...command, dataDir: "/shared/fmnist" },
    where,
  );
  assert.match(script, /#SBATCH --array=0-0\n/);
  assert.match(script, /#SBATCH --no-requeue/);
  assert.doesNotMatch(script, /--mem|--time|--partition/);
  assert.match(script, /--data-dir \/shared\/fmnist$/m);
});

Deno.test("settings that would break the script's quoting are refused with the option named", () => {
  for (
    const bad of [
      { partition: "a b" },
      { mem: "2G\n#SBATCH --x" },
      { time: "$(rm -rf /)" },
    ]
  ) {
    assert.throws(
      () =>
        sbatchScript(runs, { cpusPerTask: 1, requeue: false, extra: [], ...bad }, command, where),
      (err: unknown) => err instanceof UsageError && /--(partition|mem|time)/.test(err.message),
    );
  }
  assert.throws(
    () =>
      sbatchScript(runs, { cpusPerTask: 1, requeue: false, extra: ["rm -rf /"] }, command, where),
    UsageError,
  );
  assert.throws(
    () => sbatchScript([], { cpusPerTask: 1, requeue: false, extra: [] }, command, where),
    UsageError,
  );
});

Deno.test("each submission gets its own folder below the results root", () => {
  const a = submissionDir("/r", "bnlab-full", new Date("2026-12-02T10:11:12.345Z"));
  assert.equal(a, "/r/.slurm/bnlab-full-20261202T101112Z");
});
