import assert from "node:assert/strict";
import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { configHash, readRows as readResults } from "../../lib/store/records.ts";
import { runMain, start, studyPermissions } from "./_run.ts";

const SMOKE = ["study", "--profile", "smoke", "--synthetic", "--backend", "wasm"];

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "bnlab-study-" });
}

Deno.test("study --help prints the usage and exits 0", async () => {
  const r = await runMain(["study", "--help"], studyPermissions("/tmp"));
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: deno task study/);
  assert.match(r.stdout, /--seed-list/);
});

Deno.test("study refuses bad input with a one-line error, exit code 2, and writes nothing", async () => {
  const out = await tempDir();
  const cases: [string[], RegExp][] = [
    [
      ["--experiment", "nope"],
      /Unknown experiment "nope"; known: [a-z0-9_, ]*lenet5, [a-z0-9_, ]*placement/,
    ],
    [["--seeds", "two"], /--seeds must be a whole number from 1 to 1000, got "two"/],
    [["--seed-list", "1,x"], /--seed-list must be a whole number/],
    [["--profile", "huge"], /--profile must be one of smoke, quick, full, got "huge"/],
    [
      ["--backend", "gpu"],
      /--backend must be one of auto, native, wasm, cpu, tensorflow, got "gpu"/,
    ],
    [["--variant", "nope", "-e", "lenet5"], /No chosen experiment has a variant "nope"/],
    [["--workers", "0"], /--workers must be a whole number from 1/],
    [["--frobnicate"], /Unknown option --frobnicate for study/],
    [["--until-resolved"], /--until-resolved needs --max-seeds N/],
    [["--until-resolved", "--seed-list", "1,2"], /cannot be combined with --seed-list/],
    [
      ["--until-resolved", "--seeds", "5", "--max-seeds", "3"],
      /--max-seeds must be a whole number from 5/,
    ],
    [["--max-seeds", "9"], /only apply with --until-resolved/],
    [["--time-limit", "soon"], /--time-limit must be a positive duration/],
    [["--time-limit", "1h", "--launcher", "slurm"], /--time-limit applies to a local study/],
  ];
  for (const [args, message] of cases) {
    const r = await runMain(["study", "--out", join(out, "r"), ...args], studyPermissions(out));
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line expected: ${r.stderr}`);
  }
  assert.deepEqual([...Deno.readDirSync(out)], []);
});

Deno.test("study refuses an unwritable output folder with exit code 2", async () => {
  const allowed = await tempDir();
  const r = await runMain(
    [...SMOKE, "-e", "lenet5", "--out", "/proc/nope"],
    studyPermissions(allowed),
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Cannot write to the output folder \/proc\/nope/);
});

Deno.test("study refuses a malformed spec, naming the file and the field", async () => {
  const cwd = await tempDir();
  await Deno.mkdir(join(cwd, "experiments"));
  const spec = JSON.parse(
    await Deno.readTextFile(new URL("../../experiments/lenet5.json", import.meta.url)),
  );
  spec.variants[0].layers[0].filters = "six";
  await Deno.writeTextFile(join(cwd, "experiments", "lenet5.json"), JSON.stringify(spec));
  const r = await runMain(
    ["study", "-e", "lenet5", "--out", join(cwd, "r")],
    studyPermissions(cwd),
    cwd,
  );
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /Malformed experiment spec experiments\/lenet5.json: variants\[0\]\.layers\[0\]\.filters/,
  );
});

Deno.test("study with a data folder it may not read says why and how to get the data", async () => {
  const out = await tempDir();
  const r = await runMain([
    "study",
    "-e",
    "lenet5",
    "--data-dir",
    "/nonexistent",
    "--out",
    join(out, "r"),
  ], studyPermissions(out));
  assert.equal(r.code, 3);
  assert.match(r.stderr, /Cannot look for Fashion-MNIST in \/nonexistent: the tasks may read only/);
  assert.match(r.stderr, /apt-get install dataset-fashion-mnist/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});

Deno.test("study with an empty data folder names the missing files and the two ways to get them", async () => {
  const out = await tempDir();
  const data = await tempDir();
  const r = await runMain(
    ["study", "-e", "lenet5", "--data-dir", data, "--out", join(out, "r")],
    studyPermissions(out),
  );
  assert.equal(r.code, 3);
  assert.match(
    r.stderr,
    /The Fashion-MNIST folder \/tmp\/bnlab-study-\w+ lacks train-images-idx3-ubyte.gz/,
  );
  assert.match(
    r.stderr,
    /\(1\) on Debian\/Ubuntu, `sudo apt-get install dataset-fashion-mnist`; or \(2\) download/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

Deno.test("study records provenance (CPU model, host, UTC time, no data paths) and each run's resolved configuration, and a rerun skips completed runs and changes nothing", async () => {
  const out = await tempDir();
  const args = [...SMOKE, "-e", "lenet5", "--seed-list", "3", "--workers", "1", "--out", out];
  const first = await runMain(args, studyPermissions(out));
  assert.equal(first.code, 0, first.stderr);
  const dir = join(out, "lenet5", "smoke");
  const before = [
    await Deno.readTextFile(join(dir, "runs.csv")),
    await Deno.readTextFile(join(dir, "epochs.csv")),
  ];
  assert.equal((await readResults(dir)).runs.length, 5);
  const meta = JSON.parse(await Deno.readTextFile(join(dir, "meta.json")));
  assert.equal(
    meta.cpu.model,
    cpus()[0]?.model.trim(),
    "the task's permissions must let it read the CPU model",
  );
  assert.equal(meta.host, hostname(), "the task's permissions must let it read the host name");
  assert.match(meta.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.match(meta.commit, /^([0-9a-f]{7,40}(-dirty)?|unknown)$/);
  assert.equal(JSON.stringify(meta.dataset).includes("/"), false, "no dataset paths in meta.json");
  const record = JSON.parse(
    await Deno.readTextFile(join(dir, "records", "bn.seed3.wasm.t1.json")),
  );
  assert.deepEqual(
    [record.config.variant, record.config.seed, record.config.backend, record.config.threads],
    ["bn", 3, "wasm", 1],
  );
  assert.ok(record.config.layers.some((l: { type: string }) => l.type === "batchnorm"));
  assert.equal(record.configHash, configHash(record.config));
  assert.equal(record.environment.host, hostname());
  const second = await runMain(args, studyPermissions(out));
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /0 runs to train \(5 already stored\)/);
  const after = [
    await Deno.readTextFile(join(dir, "runs.csv")),
    await Deno.readTextFile(join(dir, "epochs.csv")),
  ];
  assert.deepEqual(after, before);
});

Deno.test("a second study on the same results folder is refused while the first runs", async () => {
  const out = await tempDir();
  const first = start(
    [...SMOKE, "-e", "placement", "--seeds", "1", "--workers", "1", "--out", out],
    studyPermissions(out),
  );
  try {
    const lock = join(out, "placement", "smoke", ".lock");
    for (let i = 0; i < 200 && !(await Deno.stat(lock).catch(() => undefined))?.size; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const second = await runMain(
      [...SMOKE, "-e", "placement", "--seeds", "1", "--out", out],
      studyPermissions(out),
    );
    assert.equal(second.code, 4, second.stderr);
    assert.match(
      second.stderr,
      /is in use by bnlab study of placement\/smoke \(pid \d+, started \d{4}-[^)]+\)/,
    );
  } finally {
    first.kill("SIGKILL");
    await first.output();
  }
});

Deno.test("killing a study mid-run loses only the runs in flight and corrupts nothing", async () => {
  const out = await tempDir();
  const args = [
    ...SMOKE,
    "-e",
    "dropout_bn_rules",
    "--seed-list",
    "1,2",
    "--workers",
    "1",
    "--out",
    out,
  ];
  const dir = join(out, "dropout_bn_rules", "smoke");
  const child = start(args, studyPermissions(out));
  // Wait until at least two runs are stored, then kill without warning.
  for (let i = 0; i < 600; i++) {
    const stored = await readResults(dir).catch(() => ({ runs: [] as unknown[] }));
    if (stored.runs.length >= 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  await child.output();
  const partial = await readResults(dir);
  assert.ok(partial.runs.length >= 2 && partial.runs.length < 12, `stored ${partial.runs.length}`);
  const epochsText = await Deno.readTextFile(join(dir, "epochs.csv"));
  assert.ok(epochsText.endsWith("\n"), "epochs.csv ends with a complete line");
  const resumed = await runMain(args, studyPermissions(out));
  assert.equal(resumed.code, 0, resumed.stderr);
  const done = await readResults(dir);
  assert.equal(done.runs.length, 12);
  assert.equal(new Set(done.runs.map((r) => `${r.variant}#${r.seed}`)).size, 12);
  const perRun = new Map<string, number>();
  for (const e of done.epochs) {
    perRun.set(`${e.variant}#${e.seed}`, (perRun.get(`${e.variant}#${e.seed}`) ?? 0) + 1);
  }
  for (const r of done.runs) {
    assert.equal(perRun.get(`${r.variant}#${r.seed}`), Number(r.epochs_run));
  }
});

Deno.test("study --save-models writes TF.js weights that --evaluate loads back with the same accuracy", async () => {
  const out = await tempDir();
  const r = await runMain([
    ...SMOKE,
    "-e",
    "lenet5",
    "--variant",
    "bn",
    "--seed-list",
    "4",
    "--save-models",
    "--out",
    out,
  ], studyPermissions(out));
  assert.equal(r.code, 0, r.stderr);
  const dir = join(out, "lenet5", "smoke");
  const model = join(dir, "models", "bn-seed4");
  const manifest = JSON.parse(await Deno.readTextFile(join(model, "model.json")));
  assert.equal(manifest.weightsManifest[0].paths[0], "weights.bin");
  const evaluated = await runMain(
    ["study", "--evaluate", model, "--backend", "wasm"],
    studyPermissions(out),
  );
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const stored = (await readResults(dir)).runs[0]!;
  // The generated dataset's test set has 200 images, all of which the smoke profile evaluates.
  assert.match(evaluated.stdout, new RegExp(`accuracy ${Number(stored.test_acc).toFixed(4)}`));
});

Deno.test("study --time-limit stops training by the limit, exits 8 naming what is left, and the same command continues", async () => {
  const out = await tempDir();
  const base = [...SMOKE, "-e", "lenet5", "--variant", "baseline", "--workers", "1", "--out", out];
  // Seed 1 first: its measured time calibrates what the others are expected to take.
  const first = await runMain([...base, "--seed-list", "1"], studyPermissions(out));
  assert.equal(first.code, 0, first.stderr);
  const dir = join(out, "lenet5", "smoke");
  // One second is too short for both remaining runs: each is left out (not even one epoch
  // fits) or stopped after its first epoch, keeping a checkpoint.
  const tight = await runMain(
    [...base, "--seeds", "3", "--time-limit", "1"],
    studyPermissions(out),
  );
  assert.equal(tight.code, 8, tight.stderr);
  assert.match(
    tight.stderr,
    /run\(s\) (not started: not even one epoch|stopped after the last epoch that ended within) .*--time-limit of 1s/,
  );
  assert.match(tight.stderr, /Continue with: deno task study .*--time-limit 1/);
  assert.doesNotMatch(tight.stderr, /^\s+at /m);
  assert.ok((await readResults(dir)).runs.length < 3);
  const roomy = await runMain(
    [...base, "--seeds", "3", "--time-limit", "10m"],
    studyPermissions(out),
  );
  assert.equal(roomy.code, 0, roomy.stderr);
  assert.equal((await readResults(dir)).runs.length, 3);
  assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name === "partial"), "no checkpoint is left");
});
