import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsError } from "../../lib/errors.ts";
import { lockFolder } from "../../lib/fs.ts";
import {
  configHash,
  readRecords,
  readRows,
  RECORD_FORMAT,
  regenerateCsv,
  type RunRecord,
  writeRecord,
} from "../../lib/store/records.ts";
import type { EpochRow, RunRow } from "../../lib/store/schema.ts";
import { rejectsWith, symlink } from "../_assert.ts";

const ORDER = ["baseline", "post_bn", "pre_bn"];

/** A consistent record of (variant, seed) with `epochs` epochs. */
function record(variant: string, seed: number, seconds = "1.00", epochs = 2): RunRecord {
  const config = { variant, lr: 0.001, seed, backend: "wasm", threads: 1 };
  const hash = configHash(config);
  const common = {
    experiment: "placement",
    variant,
    seed: String(seed),
    profile: "smoke" as const,
    backend: "wasm" as const,
    threads: "1",
  };
  const run: RunRow = {
    ...common,
    config_hash: hash,
    status: "ok",
    diverged_epoch: "",
    dataset: "synthetic",
    split_hash: "c".repeat(64),
    train_examples: "320",
    val_examples: "80",
    train_eval_examples: "320",
    test_examples: "200",
    params: "1000",
    best_epoch: "2",
    epochs_run: String(epochs),
    final_epoch: String(epochs),
    train_loss: "1",
    train_acc: "0.5",
    running_train_loss: "1",
    running_train_acc: "0.5",
    val_loss: "1",
    val_acc: "0.5",
    test_loss: "1",
    test_acc: String(0.5 + seed / 100),
    gap: "0",
    seconds,
  };
  const rows: EpochRow[] = Array.from({ length: epochs }, (_, i) => ({
    ...common,
    epoch: String(i + 1),
    train_loss: "1",
    train_acc: "0.5",
    running_train_loss: "1",
    running_train_acc: "0.5",
    val_loss: "1",
    val_acc: "0.5",
    lr: "0.001",
    seconds: "0.50",
  }));
  return {
    format: RECORD_FORMAT,
    configHash: hash,
    config,
    environment: {
      tool: "bnlab",
      version: "0.1.0",
      commit: "unknown",
      deno: "2.9.6",
      tfjs: "4.22.0",
      backend: "wasm",
      threads: 1,
      arch: "x86_64",
      dataset: { id: "synthetic", digests: {} },
    },
    run,
    epochs: rows,
  };
}

const KEYS: [string, number][] = [
  ["pre_bn", 2],
  ["baseline", 2],
  ["post_bn", 1],
  ["baseline", 1],
  ["pre_bn", 1],
  ["post_bn", 2],
];

Deno.test("runs.csv and epochs.csv come out in canonical order whatever order runs finish in", async () => {
  const texts: string[] = [];
  for (const order of [KEYS, [...KEYS].reverse()]) {
    const root = await Deno.makeTempDir();
    const dir = join(root, "placement", "smoke");
    for (const [variant, seed] of order) {
      await writeRecord(dir, record(variant, seed), root);
      await regenerateCsv(dir, ORDER, root);
    }
    texts.push(
      (await Deno.readTextFile(join(dir, "runs.csv"))) +
        (await Deno.readTextFile(join(dir, "epochs.csv"))),
    );
    const rows = await readRows(dir, { experiment: "placement", profile: "smoke" });
    assert.deepEqual(
      rows.runs.map((r) => `${r.variant}#${r.seed}`),
      ["baseline#1", "baseline#2", "post_bn#1", "post_bn#2", "pre_bn#1", "pre_bn#2"],
    );
  }
  assert.equal(texts[0], texts[1]);
});

Deno.test("concurrent writers leave every record in runs.csv", async () => {
  const root = await Deno.makeTempDir();
  const dir = join(root, "placement", "smoke");
  await Promise.all(KEYS.map(async ([variant, seed]) => {
    await writeRecord(dir, record(variant, seed), root);
    await regenerateCsv(dir, ORDER, root);
  }));
  assert.equal((await readRows(dir)).runs.length, 6);
  assert.equal((await readRecords(dir)).length, 6);
});

Deno.test("a record whose rows were edited no longer matches its hash and is refused", async () => {
  const root = await Deno.makeTempDir();
  const dir = join(root, "placement", "smoke");
  const path = await writeRecord(dir, record("baseline", 1), root);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, text.replace('"lr": 0.001', '"lr": 0.002'));
  await rejectsWith(() => readRecords(dir), ResultsError, "does not match its configHash");
});

Deno.test("the store refuses to write through a symbolic link under the results folder", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "placement"), { recursive: true });
  await symlink(outside, join(root, "placement", "smoke"));
  await rejectsWith(
    () => writeRecord(join(root, "placement", "smoke"), record("baseline", 1), root),
    ResultsError,
    "is a symbolic link",
  );
  assert.deepEqual([...Deno.readDirSync(outside)], []);
});

Deno.test("the lock refuses a symbolic link and never truncates its target", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  const victim = join(outside, "victim.txt");
  await Deno.writeTextFile(victim, "precious\n");
  const dir = join(root, "placement", "smoke");
  await Deno.mkdir(dir, { recursive: true });
  await symlink(victim, join(dir, ".lock"));
  await rejectsWith(() => lockFolder(dir, "test", root), ResultsError, "is a symbolic link");
  assert.equal(await Deno.readTextFile(victim), "precious\n");
});

Deno.test("readRows() refuses a non-finite epoch metric in a run that did not diverge, naming line and column", async () => {
  const root = await Deno.makeTempDir();
  const dir = join(root, "placement", "smoke");
  await writeRecord(dir, record("baseline", 1), root);
  await regenerateCsv(dir, ORDER, root);
  const path = join(dir, "epochs.csv");
  const lines = (await Deno.readTextFile(path)).split("\n");
  lines[2] = lines[2]!.replace(",0.5,1,0.5,1,", ",0.5,1,0.5,NaN,");
  await Deno.writeTextFile(path, lines.join("\n"));
  await rejectsWith(
    () => readRows(dir),
    ResultsError,
    'epochs.csv line 3, column 12 (val_loss): "NaN" is not finite, but baseline seed 1 did not diverge',
  );
});
