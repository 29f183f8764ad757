/**
 * Fuzz suite: hostile command lines, spec documents, dataset files and saved
 * models, each given to the real commands in a subprocess against a fresh copy
 * of the project (tests/fuzz/_sandbox.ts has the invariants). Cases come from
 * fast-check with a fixed seed, so a failure prints the case and the seed that
 * reproduce it; `BNLAB_FC_RUNS=<n>` runs a deeper sweep, `BNLAB_FC_SEED`
 * another one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { FC_SEED } from "../properties/_prop.ts";
import { checkOutcome, fuzzRuns, type Outcome, projectFingerprint, Sandbox } from "./_sandbox.ts";

/** Run `cases` two at a time (the machine has two cores); each gets its own sandbox. */
async function each<T>(
  name: string,
  cases: T[],
  body: (sandbox: Sandbox, c: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      const c = cases[index]!;
      const sandbox = await Sandbox.create();
      try {
        await body(sandbox, c);
      } catch (err) {
        throw new Error(
          `${name}: case ${index} of seed ${FC_SEED} failed (replay: BNLAB_FC_SEED=${FC_SEED} ` +
            `BNLAB_FC_RUNS=${cases.length}):\n  case: ${JSON.stringify(c)}\n${
              (err as Error).message
            }`,
        );
      } finally {
        await sandbox.dispose();
      }
    }
  };
  await Promise.all([worker(), worker()]);
}

const sample = <T>(arb: fc.Arbitrary<T>, runs: number, salt: number): T[] =>
  fc.sample(arb, { seed: FC_SEED + salt, numRuns: runs });

/** Damage the file at `path` in the way `kind` names, at relative position `at` in [0, 1]. */
async function damageFile(path: string, kind: string, at: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  const i = Math.floor(at * (bytes.length - 1));
  switch (kind) {
    case "truncate":
      return await Deno.writeFile(path, bytes.subarray(0, i));
    case "flip":
      bytes[i] = bytes[i]! ^ 0x5a;
      return await Deno.writeFile(path, bytes);
    case "empty":
      return await Deno.writeFile(path, new Uint8Array());
    case "directory":
      await Deno.remove(path);
      return await Deno.mkdir(path);
    case "garbage":
      return await Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(1024)));
    case "append":
      return await Deno.writeFile(path, new Uint8Array([...bytes, 1, 2, 3, 4]));
    case "delete":
      return await Deno.remove(path);
    default:
      throw new Error(`unknown damage ${kind}`);
  }
}

// ---------------------------------------------------------------------------
// Command lines.

/** A hostile token: the arguments, and the text of which the message must name one. */
interface Hostile {
  args: string[];
  names: string[];
}

const badNumber = fc.constantFrom(
  "",
  " ",
  "-1",
  "0",
  "1.5",
  "1e3",
  "abc",
  "0x10",
  "١",
  "99999999999999999999",
);
const badWord = fc.constantFrom("", " ", "nope", "SMOKE", "../etc/passwd", "all,nope", "a b");

function option(name: string, values: fc.Arbitrary<string>): fc.Arbitrary<Hostile> {
  return values.map((v) => ({
    args: v.startsWith("-") ? [`--${name}=${v}`] : [`--${name}`, v],
    names: [`--${name}`, ...v.split(",").filter((part) => part.trim() !== "")],
  }));
}

const unknownFlag: fc.Arbitrary<Hostile> = fc.constantFrom(
  "--frobnicate",
  "-z",
  "--seed",
  "--rerun=1",
  "--",
)
  .map((f) => ({ args: [f], names: [f.split("=")[0]!, "Unexpected", "option"] }));
const stray: fc.Arbitrary<Hostile> = fc.constantFrom("placement", "1", "--", "ünïcode")
  .map((s) => ({ args: ["--help-not", s], names: ["--help-not"] }));

const HOSTILE: Record<string, fc.Arbitrary<Hostile>> = {
  study: fc.oneof(
    option("seeds", badNumber),
    option("workers", badNumber),
    option("threads", badNumber),
    option("seed-list", fc.constantFrom("", "1,1", "1,x", "-3", ",")),
    option("profile", badWord),
    option("backend", badWord),
    option("experiment", badWord.filter((w) => w !== "SMOKE")),
    option("variant", badWord),
    unknownFlag,
    stray,
  ),
  verify: fc.oneof(
    option("profile", badWord),
    option("experiment", badWord),
    option("workers", badNumber),
    unknownFlag,
  ),
  report: fc.oneof(option("profile", badWord), option("experiment", badWord), unknownFlag),
};

/** Valid options that make a successful command cheap; never repeated by a hostile one. */
const BASE: Record<string, string[][]> = {
  study: [["--profile", "smoke"], ["--synthetic"], ["--seeds", "1"], ["-e", "lenet5"], [
    "--variant",
    "baseline",
  ], ["--out", "fz-results"]],
  verify: [["--profile", "quick"], ["-e", "lenet5"]],
  report: [["--profile", "quick"], ["--out", "fz-reports"], ["--no-readme"]],
};

const commandLine = fc.constantFrom("study", "verify", "report").chain((command) =>
  fc.record({
    command: fc.constant(command),
    hostile: fc.array(HOSTILE[command]!, { minLength: 1, maxLength: 3 }),
    order: fc.integer({ min: 0, max: 1000 }),
  })
);

Deno.test("hostile command lines get a documented exit code and a message naming the offender, and write nothing", async () => {
  const before = await projectFingerprint();
  const cases = sample(commandLine, fuzzRuns(10), 1);
  await each("command line", cases, async (sandbox, c) => {
    const used = new Set(c.hostile.flatMap((h) => h.args).map((a) => a.split("=")[0]!));
    const base = BASE[c.command]!.filter(([flag]) =>
      !used.has(flag!) && !(flag === "-e" && used.has("--experiment"))
    );
    const parts = [...base, ...c.hostile.map((h) => h.args)];
    // A seeded rotation, so hostile tokens are not always last.
    const k = c.order % parts.length;
    const args = [...parts.slice(k), ...parts.slice(0, k)].flat();
    const outcome = await sandbox.run(c.command, args);
    assert.notEqual(outcome.code, 0, `accepted: deno task ${c.command} ${args.join(" ")}`);
    checkOutcome(outcome, {});
    const named = c.hostile.some((h) => h.names.some((n) => outcome.stderr.includes(n)));
    assert.ok(named, `the message names none of ${JSON.stringify(c.hostile)}: ${outcome.stderr}`);
  });
  assert.equal(await projectFingerprint(), before, "the project itself changed");
});

// ---------------------------------------------------------------------------
// Spec documents.

/** A tiny but complete spec: one cheap variant, so a valid mutation trains in a second. */
const TINY_SPEC = {
  name: "fz",
  title: "Fuzz spec",
  reproduces: "Nothing: a fuzz-test fixture.",
  runtime: "seconds",
  command: "deno task study --experiment fz",
  dataset: { id: "fashion-mnist" },
  split: { kind: "stratified", validation: 0.2 },
  model: { init: "torch_default", batchNorm: { momentum: 0.1, epsilon: 1e-5 } },
  training: { optimizer: { type: "adam", lr: 0.001 }, batchSize: 32, epochs: 1 },
  evaluation: { batchSize: 100 },
  profiles: { smoke: { pool: 200, test: 100, maxEpochs: 1 }, quick: {}, full: {} },
  variants: [{
    name: "tiny",
    description: "conv, pool, dense",
    layers: [
      { type: "conv2d", filters: 2, kernel: 3 },
      { type: "relu" },
      { type: "maxpool" },
      { type: "flatten" },
      { type: "dense", units: 10 },
    ],
  }],
  questions: [],
};

type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Every path into `value` (arrays by index), free-text fields left out. */
function paths(value: JsonValue, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = prefix.length ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (["title", "reproduces", "runtime", "command", "description"].includes(k)) continue;
      out.push(...paths(v, [...prefix, k]));
    }
  }
  return out;
}

const hostileJson: fc.Arbitrary<JsonValue | undefined> = fc.oneof(
  fc.constantFrom<JsonValue | undefined>(
    undefined, // delete the key
    null,
    true,
    "",
    "NaN",
    -1,
    0,
    0.5,
    1e9,
    2 ** 53,
    [],
    {},
    { type: "conv2d", filters: 3, kernel: 40, padding: "valid" },
    { type: "dense", units: 1e9 },
    { type: "maxpool", size: 9, stride: 9 },
    {
      type: "residual",
      body: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2 }],
      shortcut: "identity",
    },
  ),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 50 }),
);

const specMutation = fc.record({
  path: fc.constantFrom(...paths(TINY_SPEC as unknown as JsonValue)),
  value: hostileJson,
});

function mutate(
  spec: JsonValue,
  path: (string | number)[],
  value: JsonValue | undefined,
): JsonValue {
  const copy = structuredClone(spec) as Record<string | number, JsonValue>;
  let node = copy as Record<string | number, JsonValue>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, JsonValue>;
  const last = path.at(-1)!;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
  return copy as JsonValue;
}

Deno.test("hostile spec documents are spec errors naming the file, or train normally; never a crash", async () => {
  const cases = sample(specMutation, fuzzRuns(8), 2);
  await each("spec", cases, async (sandbox, c) => {
    const spec = mutate(TINY_SPEC as unknown as JsonValue, c.path, c.value);
    await Deno.writeTextFile(sandbox.path("experiments", "fz.json"), JSON.stringify(spec, null, 2));
    const outcome = await sandbox.run("study", [
      "-e",
      "fz",
      "--profile",
      "smoke",
      "--synthetic",
      "--seeds",
      "1",
      "--workers",
      "1",
      "--out",
      "fz-results",
    ]);
    checkOutcome(outcome, { codes: [0, 2], names: ["fz"] });
  });
});

// ---------------------------------------------------------------------------
// Dataset files.

const FMNIST = "/usr/share/datasets/fashion-mnist";
const IDX = [
  "train-images-idx3-ubyte.gz",
  "train-labels-idx1-ubyte.gz",
  "t10k-images-idx3-ubyte.gz",
  "t10k-labels-idx1-ubyte.gz",
];
const haveData = (() => {
  try {
    return IDX.every((f) => Deno.statSync(join(FMNIST, f)).isFile);
  } catch {
    return false;
  }
})();

const dataDamage = fc.record({
  file: fc.constantFrom(...IDX),
  kind: fc.constantFrom("truncate", "flip", "empty", "directory", "garbage", "append"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
});

Deno.test({
  name:
    "damaged dataset files stop the study with a data error naming the file, leaving nothing behind",
  ignore: !haveData,
  fn: async () => {
    const cases = sample(dataDamage, fuzzRuns(4), 3);
    await each("dataset", cases, async (sandbox, c) => {
      const dir = sandbox.path("fz-data");
      await Deno.mkdir(dir);
      for (const f of IDX) await Deno.copyFile(join(FMNIST, f), join(dir, f));
      await damageFile(join(dir, c.file), c.kind, c.at);
      const outcome: Outcome = await sandbox.run("study", [
        "-e",
        "lenet5",
        "--variant",
        "baseline",
        "--profile",
        "smoke",
        "--seeds",
        "1",
        "--data-dir",
        dir,
        "--out",
        "fz-results",
      ]);
      checkOutcome(outcome, { codes: [3], names: [c.file] });
    });
  },
});

// ---------------------------------------------------------------------------
// Saved models.

const modelDamage = fc.record({
  file: fc.constantFrom("weights.bin", "model.json"),
  kind: fc.constantFrom("truncate", "flip", "empty", "directory", "append", "delete"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
});

Deno.test("damaged saved models are refused by --evaluate with the file named", async () => {
  // One tiny model, trained once, copied into every case.
  const template = await Sandbox.create();
  const models = "fz-models";
  try {
    const trained = await template.run("study", [
      "-e",
      "lenet5",
      "--variant",
      "baseline",
      "--profile",
      "smoke",
      "--synthetic",
      "--seeds",
      "1",
      "--save-models",
      "--out",
      models,
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    const saved = template.path(models, "lenet5", "smoke", "models", "baseline-seed1");
    const cases = sample(modelDamage, fuzzRuns(5), 4);
    await each("model", cases, async (sandbox, c) => {
      const dir = sandbox.path("fz-model");
      await Deno.mkdir(dir);
      for (const f of ["model.json", "weights.bin"]) {
        await Deno.copyFile(join(saved, f), join(dir, f));
      }
      await damageFile(join(dir, c.file), c.kind, c.at);
      const outcome = await sandbox.run("study", ["--evaluate", dir, "--synthetic"]);
      // A flipped byte inside a JSON string (a name, say) can leave a valid model.
      checkOutcome(outcome, { codes: [0, 2], names: [dir] });
    });
  } finally {
    await template.dispose();
  }
});

// ---------------------------------------------------------------------------
// Stored results and golden files.

const RESULTS = "fz-results";
const FOLDER = `${RESULTS}/lenet5/smoke`;

const resultsDamage = fc.record({
  file: fc.constantFrom(
    `${FOLDER}/runs.csv`,
    `${FOLDER}/epochs.csv`,
    `${FOLDER}/meta.json`,
    `${FOLDER}/records/bn.seed1.native.t1.json`,
    "golden/lenet5.smoke.json",
  ),
  kind: fc.constantFrom(
    "digit",
    "drop-column",
    "add-column",
    "drop-line",
    "duplicate-line",
    "nan",
    "crlf",
    "bom",
    "truncate",
    "empty",
  ),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  command: fc.constantFrom("report", "status", "compare", "study", "verify"),
});

function damageText(text: string, kind: string, at: number): string {
  const lines = text.split("\n");
  const line = Math.min(lines.length - 1, Math.floor(at * lines.length));
  switch (kind) {
    case "digit": {
      const digits = [...text.matchAll(/\d/g)];
      const d = digits[Math.floor(at * digits.length)];
      if (!d) return text + "1";
      return text.slice(0, d.index) + String((Number(d[0]) + 1) % 10) + text.slice(d.index! + 1);
    }
    case "drop-column":
      return lines.map((l) => l.split(",").slice(0, -1).join(",")).join("\n");
    case "add-column":
      return lines.map((l, i) => (l === "" ? l : `${l},${i === 0 ? "extra" : "1"}`)).join("\n");
    case "drop-line":
      return lines.filter((_, i) => i !== line).join("\n");
    case "duplicate-line":
      return [...lines.slice(0, line + 1), lines[line]!, ...lines.slice(line + 1)].join("\n");
    case "nan":
      return text.replace(/(\d+\.\d+)/, "NaN");
    case "crlf":
      return text.replaceAll("\n", "\r\n");
    case "bom":
      return "\ufeff" + text;
    case "truncate":
      return text.slice(0, Math.floor(at * text.length));
    default:
      return "";
  }
}

Deno.test("damaged results, records, meta.json and golden files are named in a clear error, never a crash", async () => {
  const template = await Sandbox.create();
  try {
    const trained = await template.run("study", [
      "-e",
      "lenet5",
      "--profile",
      "smoke",
      "--synthetic",
      "--seeds",
      "2",
      "--out",
      RESULTS,
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    const cases = sample(resultsDamage, fuzzRuns(8), 5);
    await each("results", cases, async (sandbox, c) => {
      for (const dir of [RESULTS]) {
        await copyTree(template.path(dir), sandbox.path(dir));
      }
      // A golden file of these runs to damage (blessing trains nothing: all stored).
      const blessed = await sandbox.run("study", [
        "-e",
        "lenet5",
        "--profile",
        "smoke",
        "--synthetic",
        "--seeds",
        "2",
        "--out",
        RESULTS,
        "--bless",
      ]);
      assert.equal(blessed.code, 0, blessed.stderr);
      const target = sandbox.path(c.file);
      await Deno.writeTextFile(target, damageText(await Deno.readTextFile(target), c.kind, c.at));
      const args: Record<string, string[]> = {
        report: ["--profile", "smoke", "--results", RESULTS, "--out", "fz-reports", "--no-readme"],
        status: ["--profile", "smoke", "--results", RESULTS],
        compare: ["--a", `${FOLDER}:baseline`, "--b", `${FOLDER}:bn`],
        study: [
          "-e",
          "lenet5",
          "--profile",
          "smoke",
          "--synthetic",
          "--seeds",
          "2",
          "--out",
          RESULTS,
        ],
        verify: ["-e", "lenet5", "--profile", "smoke", "--results", RESULTS],
      };
      const outcome = await sandbox.run(c.command, args[c.command]!);
      // A damaged file may be one the command does not read (exit 0), or be
      // retrained (study); a refusal must name a file of the results or golden folder.
      checkOutcome(outcome, { mayWrite: c.command === "study" });
      if (outcome.code !== 0) {
        assert.match(
          outcome.stderr,
          /fz-results|golden|lenet5/,
          `the message names no file: ${outcome.stderr}`,
        );
      }
    });
  } finally {
    await template.dispose();
  }
});

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const a = join(from, entry.name);
    const b = join(to, entry.name);
    if (entry.isDirectory) await copyTree(a, b);
    else if (entry.isFile) await Deno.copyFile(a, b);
  }
}
