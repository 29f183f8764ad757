import assert from "node:assert/strict";
import { join } from "node:path";
import { configHash } from "../../lib/store/records.ts";
import { runMain, studyPermissions, taskPermissions } from "./_run.ts";

Deno.test("status counts done, stale, missing and started runs per experiment and profile", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "bnlab-status-" });
  try {
    const out = join(tmp, "r");
    const study = await runMain(
      ["study", "-e", "lenet5", "--profile", "smoke", "--synthetic", "--seeds", "1", "--out", out],
      studyPermissions(tmp),
    );
    assert.equal(study.code, 0, study.stderr);
    const status = await runMain(
      ["status", "-e", "lenet5", "--seeds", "2", "--results", out],
      taskPermissions("status", tmp),
    );
    assert.equal(status.code, 0, status.stderr);
    const row = status.stdout.split("\n").find((l) => l.startsWith("lenet5"))!;
    assert.deepEqual(row.trim().split(/\s+/), ["lenet5", "smoke", "5", "0", "0", "5", "0"]);
    // A record whose configuration no longer matches the spec counts as stale, not done.
    const records = join(out, "lenet5", "smoke", "records");
    const name = [...Deno.readDirSync(records)].find((e) => e.name.startsWith("bn."))!.name;
    const record = JSON.parse(await Deno.readTextFile(join(records, name)));
    record.config.train.epochs += 1;
    record.configHash = configHash(record.config);
    record.run.config_hash = record.configHash;
    await Deno.writeTextFile(join(records, name), JSON.stringify(record));
    // A checkpoint of an unfinished run counts as started.
    await Deno.mkdir(join(out, "lenet5", "smoke", "partial"));
    await Deno.writeTextFile(
      join(out, "lenet5", "smoke", "partial", "bn.seed2.wasm.t1.json"),
      "{}",
    );
    const after = await runMain(
      ["status", "-e", "lenet5", "--seeds", "2", "--results", out],
      taskPermissions("status", tmp),
    );
    assert.equal(after.code, 0, after.stderr);
    const row2 = after.stdout.split("\n").find((l) => l.startsWith("lenet5"))!;
    assert.deepEqual(row2.trim().split(/\s+/), ["lenet5", "smoke", "4", "0", "1", "6", "1"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("status names a damaged Slurm job record instead of failing", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "bnlab-status-" });
  try {
    const out = join(tmp, "r");
    await Deno.mkdir(join(out, ".slurm", "bnlab-quick-a"), { recursive: true });
    await Deno.mkdir(join(out, ".slurm", "bnlab-quick-b"), { recursive: true });
    await Deno.mkdir(join(out, ".slurm", "bnlab-quick-c"), { recursive: true });
    await Deno.writeTextFile(join(out, ".slurm", "bnlab-quick-a", "job.json"), "{");
    await Deno.writeTextFile(join(out, ".slurm", "bnlab-quick-b", "job.json"), '{"jobId": 7}');
    const status = await runMain(
      ["status", "-e", "lenet5", "--seeds", "1", "--results", out],
      taskPermissions("status", tmp),
    );
    assert.equal(status.code, 0, status.stderr);
    assert.doesNotMatch(status.stderr, /^\s+at /m);
    const lines = status.stdout.split("\n").filter((l) => l.startsWith("slurm job"));
    assert.equal(lines.length, 2, status.stdout);
    assert.match(lines[0]!, /bnlab-quick-a: unreadable; .*job\.json is not valid JSON/);
    assert.match(lines[1]!, /bnlab-quick-b: unreadable; .*job\.json is not a bnlab job record/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
