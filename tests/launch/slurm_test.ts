import assert from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { type ArrayJob, arraySpec, sbatchScript, submissionDir } from "../../lib/launch/slurm.ts";
import { shellQuote } from "../../lib/shell.ts";

const job: ArrayJob = {
  indices: [0, 1, 2, 4, 7, 8],
  count: 10,
  root: "/repo",
  out: "/scratch/results",
  studyArgs: ["-e", "placement", "--seed-list", "1,2", "--profile", "full", "--backend", "native"],
  jobName: "bnlab-full",
  dir: "/scratch/results/.slurm/bnlab-full-x",
};

Deno.test("the sbatch script has one array task per missing run and passes the study's selection on", () => {
  const script = sbatchScript(job, {
    cpusPerTask: 2,
    mem: "2G",
    time: "4:00:00",
    partition: "cpu",
    arrayLimit: 8,
    requeue: true,
    extra: ["--account=proj", "#SBATCH --qos=short"],
  });
  const directives = script.split("\n").filter((l) => l.startsWith("#SBATCH"));
  assert.deepEqual(directives, [
    "#SBATCH --job-name=bnlab-full",
    "#SBATCH --array=0-2,4,7-8%8",
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
  assert.match(script, /^cd \/repo$/m);
  assert.match(script, /^export BNLAB_RESULTS=\/scratch\/results$/m);
  assert.match(
    script,
    /exec "\$\{BNLAB_DENO:-deno\}" task study -e placement --seed-list 1,2 --profile full --backend native \\\n {2}--shard "\$SLURM_ARRAY_TASK_ID\/10"\n$/,
  );
});

Deno.test("the sbatch script leaves out what was not asked for and refuses requeueing by default", () => {
  const script = sbatchScript({ ...job, indices: [3] }, {
    cpusPerTask: 1,
    requeue: false,
    extra: [],
  });
  assert.match(script, /#SBATCH --array=3\n/);
  assert.match(script, /#SBATCH --no-requeue/);
  assert.doesNotMatch(script, /--mem|--time|--partition/);
});

Deno.test("settings that would break the script are refused with the option named", () => {
  for (const bad of [{ partition: "a b" }, { mem: "2G\n#SBATCH --x" }, { time: "$(rm -rf /)" }]) {
    assert.throws(
      () => sbatchScript(job, { cpusPerTask: 1, requeue: false, extra: [], ...bad }),
      (err: unknown) => err instanceof UsageError && /--(partition|mem|time)/.test(err.message),
    );
  }
  assert.throws(
    () => sbatchScript(job, { cpusPerTask: 1, requeue: false, extra: ["rm -rf /"] }),
    UsageError,
  );
  assert.throws(
    () => sbatchScript({ ...job, indices: [] }, { cpusPerTask: 1, requeue: false, extra: [] }),
    UsageError,
  );
});

Deno.test("array specs compress runs of consecutive indices", () => {
  assert.equal(arraySpec([5, 0, 1, 2, 9, 8, 2]), "0-2,5,8-9");
  assert.equal(arraySpec([4]), "4");
});

Deno.test("shell quoting leaves plain words alone and makes the rest one literal word", () => {
  assert.equal(shellQuote("--seed-list"), "--seed-list");
  assert.equal(shellQuote("1,2,3"), "1,2,3");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote("it's $HOME"), "'it'\\''s $HOME'");
});

Deno.test("each submission gets its own folder below the results root", () => {
  const a = submissionDir("/r", "bnlab-full", new Date("2026-12-02T10:11:12.345Z"));
  assert.equal(a, "/r/.slurm/bnlab-full-20261202T101112Z");
});
