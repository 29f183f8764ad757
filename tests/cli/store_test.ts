/**
 * The results store end to end, through the real commands in child
 * processes with the tasks' permissions: byte-identical CSVs whatever the
 * worker count, stored runs kept when a spec gains a variant, blessing
 * exactly the selected runs, symlinks refused, reports that destroy nothing,
 * and diverged runs carried through bless, verify and report.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { symlink } from "../_assert.ts";
import { runMain, studyPermissions, taskPermissions } from "./_run.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SMOKE = ["--profile", "smoke", "--synthetic", "--backend", "wasm"];

/** A CSV without its time columns (cells named in the header), order kept. */
function withoutTimes(csv: string): string {
  const [head, ...rows] = csv.trimEnd().split("\n");
  const keep = head!.split(",").map((c, i) => c === "seconds" ? -1 : i).filter((i) => i >= 0);
  return [head!, ...rows].map((r) => keep.map((i) => r.split(",")[i]).join(",")).join("\n");
}

/** A temporary project folder with `experiments/` holding the given specs. */
async function project(specs: Record<string, unknown>): Promise<string> {
  const cwd = await Deno.makeTempDir({ prefix: "bnlab-store-" });
  await Deno.mkdir(join(cwd, "experiments"));
  for (const [name, spec] of Object.entries(specs)) {
    await Deno.writeTextFile(join(cwd, "experiments", `${name}.json`), JSON.stringify(spec));
  }
  return cwd;
}

async function spec(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(ROOT, "experiments", `${name}.json`)));
}

/** Every file under `dir` with its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) Object.assign(files, await snapshot(path));
    else files[path] = await Deno.readTextFile(path);
  }
  return files;
}

Deno.test("placement at smoke with 1 and 2 workers gives byte-identical CSVs apart from time columns", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  const common = ["study", ...SMOKE, "-e", "placement", "--seed-list", "1,2"];
  const [ra, rb] = await Promise.all([
    runMain([...common, "--workers", "1", "--out", a], studyPermissions(a)),
    runMain([...common, "--workers", "2", "--out", b], studyPermissions(b)),
  ]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  for (const file of ["runs.csv", "epochs.csv"]) {
    const x = await Deno.readTextFile(join(a, "placement", "smoke", file));
    const y = await Deno.readTextFile(join(b, "placement", "smoke", file));
    assert.equal(withoutTimes(x), withoutTimes(y), file);
    assert.ok(x.split("\n").length > 12, file);
  }
});

Deno.test("a copied spec that gains a seventh variant keeps the first six variants' rows, seconds included, and trains only the new one", async () => {
  const copy: Record<string, unknown> = { ...(await spec("placement")), name: "placement_copy" };
  const cwd = await project({ placement_copy: copy });
  const out = join(cwd, "r");
  const args = ["study", ...SMOKE, "-e", "placement_copy", "--seeds", "2", "--out", out];
  const first = await runMain(args, studyPermissions(cwd), cwd);
  assert.equal(first.code, 0, first.stderr);
  const dir = join(out, "placement_copy", "smoke");
  const before = await Deno.readTextFile(join(dir, "runs.csv"));
  const epochsBefore = await Deno.readTextFile(join(dir, "epochs.csv"));
  const variants = copy.variants as { name: string }[];
  variants.push({
    name: "heavy_dropout",
    description: "baseline with dropout 0.5 before the classifier",
    extends: "baseline",
    insert: [{ after: 13, layers: [{ type: "dropout", rate: 0.5 }] }],
  } as unknown as { name: string });
  await Deno.writeTextFile(join(cwd, "experiments", "placement_copy.json"), JSON.stringify(copy));
  const second = await runMain(args, studyPermissions(cwd), cwd);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /2 runs to train \(12 already stored\)/);
  const after = await Deno.readTextFile(join(dir, "runs.csv"));
  const lines = after.trimEnd().split("\n");
  assert.equal(lines.length, 15);
  assert.equal(lines.slice(0, 13).join("\n") + "\n", before, "first six variants' rows untouched");
  assert.ok(lines.slice(13).every((l) => l.startsWith("placement_copy,heavy_dropout,")));
  const epochsAfter = await Deno.readTextFile(join(dir, "epochs.csv"));
  assert.ok(epochsAfter.startsWith(epochsBefore), "their epoch rows too");
});

Deno.test("--bless --backend wasm --seeds 2 into a folder of native runs blesses exactly the wasm runs of seeds 1-2", async () => {
  const cwd = await project({ placement: await spec("placement") });
  const out = join(cwd, "r");
  const base = ["study", "--profile", "smoke", "--synthetic", "-e", "placement", "--out", out];
  const variants = ["--variant", "baseline", "--variant", "pre_bn"];
  const native = await runMain(
    [...base, ...variants, "--backend", "native", "--seeds", "3"],
    studyPermissions(cwd),
    cwd,
  );
  assert.equal(native.code, 0, native.stderr);
  const bless = await runMain(
    [...base, ...variants, "--backend", "wasm", "--seeds", "2", "--bless"],
    studyPermissions(cwd),
    cwd,
  );
  assert.equal(bless.code, 0, bless.stderr);
  assert.match(bless.stderr, /4 runs to train/);
  const golden = JSON.parse(
    await Deno.readTextFile(join(cwd, "golden", "placement.smoke.json")),
  );
  assert.equal(golden.environment.backend, "wasm");
  assert.deepEqual(golden.seeds, [1, 2]);
  assert.deepEqual(
    golden.runs.map((r: { variant: string; seed: number }) => `${r.variant}#${r.seed}`),
    ["baseline#1", "baseline#2", "pre_bn#1", "pre_bn#2"],
  );
  const runs = await Deno.readTextFile(join(out, "placement", "smoke", "runs.csv"));
  assert.equal(runs.match(/,native,/g)?.length, 6, "the native runs are kept");
  assert.equal(runs.match(/,wasm,/g)?.length, 4);

  // A folder whose selected runs mix environments is refused.
  const records = join(out, "placement", "smoke", "records");
  const path = join(records, "pre_bn.seed2.wasm.t1.json");
  const record = JSON.parse(await Deno.readTextFile(path));
  record.environment.tfjs = "4.0.0";
  await Deno.writeTextFile(path, JSON.stringify(record));
  const mixed = await runMain(
    [...base, ...variants, "--backend", "wasm", "--seeds", "2", "--bless"],
    studyPermissions(cwd),
    cwd,
  );
  assert.equal(mixed.code, 6, mixed.stderr);
  assert.match(mixed.stderr, /mix settings/);
});

Deno.test("a symbolic link under results/ pointing outside is refused with exit 4 and nothing outside changes", async () => {
  const out = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  await Deno.mkdir(join(out, "lenet5"));
  await symlink(outside, join(out, "lenet5", "smoke"));
  const r = await runMain(
    ["study", ...SMOKE, "-e", "lenet5", "--seeds", "1", "--out", out],
    studyPermissions(out),
  );
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /lenet5\/smoke is a symbolic link/);
  assert.deepEqual([...Deno.readDirSync(outside)], []);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

Deno.test("report --profile full without full results exits 4 and changes nothing", async () => {
  const cwd = await project({ placement: await spec("placement") });
  await Deno.mkdir(join(cwd, "results", "placement", "quick"), { recursive: true });
  await Deno.mkdir(join(cwd, "reports", "quick"), { recursive: true });
  await Deno.writeTextFile(join(cwd, "reports", "quick", "placement.md"), "committed\n");
  await Deno.copyFile(join(ROOT, "README.md"), join(cwd, "README.md"));
  const before = await snapshot(cwd);
  for (const args of [["--profile", "full"], ["--results", "resluts"]]) {
    const r = await runMain(["report", ...args], taskPermissions("report", cwd), cwd);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /Nothing was written or removed/);
  }
  assert.deepEqual(await snapshot(cwd), before);
});

Deno.test("a spec with lr 1e6 diverges at smoke, and bless, verify and report complete and show it", async () => {
  const diverge = { ...(await spec("placement")), name: "diverge" } as Record<string, unknown>;
  (diverge.training as { optimizer: { lr: number } }).optimizer.lr = 1e6;
  diverge.variants = (diverge.variants as { name: string }[]).filter((v) =>
    ["baseline", "post_bn"].includes(v.name)
  );
  const question = (diverge.questions as Record<string, unknown>[])[0]!;
  diverge.questions = [{ ...question, comparisons: [["post_bn", "baseline"]] }];
  diverge.published = [];
  diverge.deviations = [];
  diverge.goals = [];
  const cwd = await project({ diverge });
  const studied = await runMain(
    ["study", ...SMOKE, "-e", "diverge", "--seeds", "2", "--out", "results", "--bless"],
    studyPermissions(cwd),
    cwd,
  );
  assert.equal(studied.code, 0, studied.stderr);
  const runs = await Deno.readTextFile(join(cwd, "results", "diverge", "smoke", "runs.csv"));
  assert.equal(runs.match(/,diverged,\d+,/g)?.length, 4, runs);
  const golden = JSON.parse(await Deno.readTextFile(join(cwd, "golden", "diverge.smoke.json")));
  assert.equal(golden.variants.baseline.diverged, 2);
  const verified = await runMain(
    ["verify", "-e", "diverge", "--profile", "smoke"],
    taskPermissions("verify", cwd),
    cwd,
  );
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /PASS integrity diverge\/smoke: 4 runs \(4 diverged\)/);
  const reported = await runMain(
    ["report", "-e", "diverge", "--profile", "smoke", "--no-readme"],
    taskPermissions("report", cwd),
    cwd,
  );
  assert.equal(reported.code, 0, reported.stderr);
  const page = await Deno.readTextFile(join(cwd, "reports", "smoke", "diverge.md"));
  assert.match(page, /4 runs diverged \(a loss became NaN or infinite\)/);
});

Deno.test("verify of an experiment without a golden file says how to bless one", async () => {
  const cwd = await project({ lenet5: await spec("lenet5") });
  const r = await runMain(["verify", "-e", "lenet5"], taskPermissions("verify", cwd), cwd);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /No golden file matches lenet5/);
  assert.match(
    r.stderr,
    /deno task study -e lenet5 --profile smoke --seeds 2 --backend wasm --bless/,
  );
});
