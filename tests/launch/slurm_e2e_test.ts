/**
 * End-to-end tests of `deno task study --launcher slurm` against a real
 * Slurm cluster: `scripts/slurm-local.sh up` starts one on this machine (CI
 * does, as root, and sets BNLAB_SLURM=1, which makes these tests required).
 * Without a cluster they are skipped, and say so in their names.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readRows } from "../../lib/store/records.ts";
import { deterministicRows, runMain, studyPermissions } from "../cli/_run.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

async function clusterUp(): Promise<boolean> {
  try {
    const out = await new Deno.Command("/usr/bin/squeue", {
      args: ["-h"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const required = env("BNLAB_SLURM") === "1";
const up = await clusterUp();
if (required && !up) {
  throw new Error(
    "BNLAB_SLURM=1 but no Slurm cluster answers; run scripts/slurm-local.sh up first.",
  );
}
const ignore = !up;
const skipped = ignore ? " (skipped: no Slurm cluster; scripts/slurm-local.sh up starts one)" : "";

const STUDY = ["study", "-e", "lenet5", "--profile", "smoke", "--synthetic", "--seeds", "2"];

async function squeue(jobId: string): Promise<string[]> {
  const out = await new Deno.Command("/usr/bin/squeue", {
    args: ["-h", "-r", "-j", jobId, "-o", "%i %T"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim() !== "");
}

Deno.test({
  name: `a study submitted to Slurm with --wait stores rows identical to a local study${skipped}`,
  ignore,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "bnlab-slurm-" });
    try {
      const local = await runMain([...STUDY, "--out", join(tmp, "local")], studyPermissions(tmp));
      assert.equal(local.code, 0, local.stderr);
      const slurm = await runMain(
        [...STUDY, "--out", join(tmp, "slurm"), "--launcher", "slurm", "--wait", "--poll", "1"],
        studyPermissions(tmp),
      );
      assert.equal(slurm.code, 0, slurm.stderr);
      assert.match(slurm.stdout, /submitted Slurm job \d+: 10 array task\(s\)/);
      assert.match(slurm.stderr, /done through Slurm job \d+; all 10 runs stored/);
      assert.equal(
        await deterministicRows(join(tmp, "slurm", "lenet5", "smoke")),
        await deterministicRows(join(tmp, "local", "lenet5", "smoke")),
      );
      // Submitting the same command again finds nothing missing.
      const again = await runMain(
        [...STUDY, "--out", join(tmp, "slurm"), "--launcher", "slurm"],
        studyPermissions(tmp),
      );
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /all 10 runs are stored .*nothing to submit/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `a task cancelled mid-run loses only its run, and resubmitting trains just that one${skipped}`,
  ignore,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "bnlab-slurm-" });
    const out = join(tmp, "r");
    try {
      // placement runs take long enough to be caught running; one task at a time.
      const args = [
        "study",
        "-e",
        "placement",
        "--variant",
        "baseline",
        "--variant",
        "post_bn",
        "--profile",
        "smoke",
        "--synthetic",
        "--seeds",
        "2",
        "--out",
        out,
        "--launcher",
        "slurm",
        "--array-limit",
        "1",
      ];
      const first = await runMain(args, studyPermissions(tmp));
      assert.equal(first.code, 0, first.stderr);
      const jobId = /submitted Slurm job (\d+)/.exec(first.stdout)![1]!;
      // Wait until the first array task runs, then cancel it.
      let cancelled = false;
      for (let i = 0; i < 600 && !cancelled; i++) {
        const states = await squeue(jobId);
        const running = states.find((s) => s.endsWith("RUNNING"));
        if (running) {
          const id = running.split(" ")[0]!;
          const scancel = await new Deno.Command("/usr/bin/scancel", { args: [id] }).output();
          assert.ok(scancel.success);
          cancelled = true;
        } else {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.ok(cancelled, "no array task was ever seen running");
      for (let i = 0; i < 1200 && (await squeue(jobId)).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
      }
      // The cancelled task lost its run, unless it had just stored it when the cancel arrived.
      const before = (await readRows(join(out, "placement", "smoke"))).runs.length;
      assert.ok(before >= 3, `the cancel lost more than its own run: ${before} of 4 stored`);
      const resubmit = await runMain(
        args.filter((a) => a !== "--array-limit" && a !== "1").concat(["--wait", "--poll", "1"]),
        studyPermissions(tmp),
      );
      assert.equal(resubmit.code, 0, resubmit.stderr);
      if (before === 3) {
        assert.match(
          resubmit.stdout,
          /submitted Slurm job \d+: 1 array task\(s\), one per missing run \(3 of 4 already stored\)/,
        );
      }
      const { runs } = await readRows(join(out, "placement", "smoke"));
      assert.equal(runs.length, 4);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: `--dry-run prints the sbatch script and writes nothing${skipped}`,
  ignore,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "bnlab-slurm-" });
    try {
      const r = await runMain(
        [
          ...STUDY,
          "--out",
          join(tmp, "r"),
          "--launcher",
          "slurm",
          "--dry-run",
          "--partition",
          "debug",
          "--time",
          "0:10:00",
          "--mem",
          "1G",
          "--array-limit",
          "4",
          "--sbatch=--comment=bnlab-test",
        ],
        studyPermissions(tmp),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^#SBATCH --array=0-9%4$/m);
      assert.match(r.stdout, /^#SBATCH --partition=debug$/m);
      assert.match(r.stdout, /^#SBATCH --time=0:10:00$/m);
      assert.match(r.stdout, /^#SBATCH --mem=1G$/m);
      assert.match(r.stdout, /^#SBATCH --comment=bnlab-test$/m);
      assert.match(r.stdout, /--shard "\$SLURM_ARRAY_TASK_ID\/10"/);
      assert.deepEqual([...Deno.readDirSync(tmp)], []);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
