import assert from "node:assert/strict";
import { join } from "node:path";
import { Incomplete, ResultsError } from "../../lib/errors.ts";
import { loadSpec } from "../../lib/spec.ts";
import { readRecords, type RunRecord } from "../../lib/store/records.ts";
import {
  checkpointPath,
  listCheckpoints,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
} from "../../lib/study/checkpoint.ts";
import { runStudy, type StudyOptions } from "../../lib/study/study.ts";
import type { TrainState } from "../../lib/train/state.ts";
import { rejectsWith, symlink, throwsWith } from "../_assert.ts";

const HASH = "a".repeat(64);
const run = {
  experiment: "lenet5",
  variant: "bn",
  seed: 3,
  profile: "full",
  backend: "wasm",
  threads: 1,
};

function state(): TrainState {
  const metrics = (epoch: number) => ({
    epoch,
    trainLoss: 0.1 + 0.2, // not a short decimal: must survive exactly
    trainAcc: 0.9,
    runningTrainLoss: NaN,
    runningTrainAcc: 0.8,
    valLoss: Infinity,
    valAcc: 0.85,
    lr: 1e-3,
    seconds: 1.5,
  });
  return {
    epochs: [metrics(1), metrics(2)],
    step: 40,
    best: { epoch: 0, loss: Infinity, weights: [Float32Array.of(1, -0, NaN)] },
    weights: [Float32Array.of(Math.PI, -Infinity, 1e-40), new Float32Array(0)],
    optimizer: {
      firstMoment: [Float32Array.of(0.5)],
      secondMoment: [Float32Array.of(0.25)],
      accBeta1: Math.fround(0.9 ** 41),
      accBeta2: Math.fround(0.999 ** 41),
      iterations: 40,
    },
    phases: { train: 10, validation: 2, test: 0 },
    seconds: 12.5,
  };
}

async function temp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "bnlab-checkpoint-" });
}

Deno.test("a checkpoint written and read back is the same state, bit for bit", async () => {
  const dir = await temp();
  try {
    const path = checkpointPath(dir, run);
    assert.equal(path, join(dir, "partial", "bn.seed3.wasm.t1.json"));
    writeCheckpoint(path, { configHash: HASH, run, state: state() }, dir);
    const read = await readCheckpoint(path, HASH);
    assert.ok(read && "state" in read, JSON.stringify(read));
    const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
    const back = read.state;
    const want = state();
    assert.deepEqual(back.epochs, want.epochs);
    assert.deepEqual(back.weights.map(bits), want.weights.map(bits));
    assert.deepEqual(back.best.weights!.map(bits), want.best.weights!.map(bits));
    assert.equal(back.best.loss, Infinity);
    assert.deepEqual(back.optimizer.firstMoment.map(bits), want.optimizer.firstMoment.map(bits));
    assert.equal(back.optimizer.accBeta1, want.optimizer.accBeta1);
    assert.deepEqual({ ...back, epochs: [], weights: [], best: {}, optimizer: {} }, {
      ...want,
      epochs: [],
      weights: [],
      best: {},
      optimizer: {},
    });
    assert.deepEqual(await listCheckpoints(dir), ["bn.seed3.wasm.t1.json"]);
    await removeCheckpoint(path);
    await removeCheckpoint(path); // already gone: fine
    assert.deepEqual(await listCheckpoints(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCheckpoint ignores, with the reason, a checkpoint of another configuration or a damaged one", async () => {
  const dir = await temp();
  try {
    const path = checkpointPath(dir, run);
    assert.equal(await readCheckpoint(path, HASH), undefined, "none there");
    writeCheckpoint(path, { configHash: HASH, run, state: state() }, dir);
    const other = await readCheckpoint(path, "b".repeat(64));
    assert.match((other as { ignored: string }).ignored, /another configuration/);
    const text = await Deno.readTextFile(path);
    const damaged: [string, RegExp][] = [
      [text.slice(0, 100), /is not valid JSON/],
      [text.replace(/"weights":\["[^"]*"/, '"weights":["AAA="'), /is not a valid checkpoint/],
      [text.replace('"step":40', '"step":-1'), /is not a valid checkpoint \(state\.step/],
      [text.replace('"epoch":2', '"epoch":3'), /inconsistent epoch numbers/],
      ["[]", /is not a valid checkpoint/],
    ];
    for (const [bad, reason] of damaged) {
      await Deno.writeTextFile(path, bad);
      const read = await readCheckpoint(path, HASH);
      assert.ok(read && "ignored" in read, `accepted ${bad.slice(0, 60)}`);
      assert.match(read.ignored, reason);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeCheckpoint does not write through a symbolic link below the results root", async () => {
  const dir = await temp();
  const outside = await temp();
  try {
    await symlink(outside, join(dir, "partial"));
    throwsWith(
      () =>
        writeCheckpoint(checkpointPath(dir, run), { configHash: HASH, run, state: state() }, dir),
      ResultsError,
      "is a symbolic link",
    );
    assert.deepEqual([...Deno.readDirSync(outside)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

async function options(out: string): Promise<StudyOptions> {
  return {
    experiments: [await loadSpec("lenet5")],
    variants: ["dropout", "bn"],
    seeds: [1, 2],
    profile: "smoke",
    backend: "wasm",
    workers: 2,
    threads: 1,
    out,
    load: {},
    synthetic: true,
    saveModels: false,
    bless: false,
    quiet: true,
  };
}

/** A record without its timings: what must not depend on where training stopped. */
function untimed(record: RunRecord) {
  const { seconds: _, ...run } = record.run;
  return {
    configHash: record.configHash,
    run,
    epochs: record.epochs.map(({ seconds: _, ...rest }) => rest),
  };
}

async function study(out: string, extra: Partial<StudyOptions> = {}): Promise<void> {
  await runStudy({ ...await options(out), ...extra }, ["study", "--profile", "smoke"]);
}

const root = await Deno.makeTempDir({ prefix: "bnlab-checkpoint-study-" });
const reference = join(root, "reference");
await study(reference);
const referenceRecords = (await readRecords(join(reference, "lenet5", "smoke"))).map(untimed);

Deno.test("a study stopped at its time limit keeps each run's finished epochs and the continued runs equal uninterrupted ones", async () => {
  const out = join(root, "stopped");
  const dir = join(out, "lenet5", "smoke");
  // A limit that has passed before any epoch ends: each run trains one epoch and stops.
  await rejectsWith(
    () => study(out, { timeLimit: 0.001 }),
    Incomplete,
    "4 run(s) stopped after the last epoch that ended within the --time-limit",
  );
  assert.deepEqual(await readRecords(dir), [], "no run finished");
  const partial = [...Deno.readDirSync(join(dir, "partial"))].map((e) => e.name).sort();
  assert.deepEqual(partial, [
    "bn.seed1.wasm.t1.json",
    "bn.seed2.wasm.t1.json",
    "dropout.seed1.wasm.t1.json",
    "dropout.seed2.wasm.t1.json",
  ]);
  // Mark one checkpoint (a validation accuracy no run would measure): the continued run
  // must report it, which shows it went on from the checkpoint instead of starting over.
  const marked = join(dir, "partial", partial[0]!);
  const saved = JSON.parse(await Deno.readTextFile(marked));
  assert.equal(saved.state.epochs.length, 1);
  saved.state.epochs[0].valAcc = 0.125;
  await Deno.writeTextFile(marked, JSON.stringify(saved));
  await study(out);
  const continued = (await readRecords(dir)).map(untimed);
  const bn1 = continued.findIndex((r) => r.run.variant === "bn" && r.run.seed === "1");
  assert.equal(continued[bn1]!.epochs[0]!.val_acc, "0.125");
  continued[bn1]!.epochs[0]!.val_acc = referenceRecords[bn1]!.epochs[0]!.val_acc;
  if (continued[bn1]!.run.final_epoch === "1") {
    continued[bn1]!.run.val_acc = referenceRecords[bn1]!.run.val_acc;
  }
  assert.deepEqual(continued, referenceRecords);
  assert.ok(
    ![...Deno.readDirSync(dir)].some((e) => e.name === "partial"),
    "the checkpoints are removed once their runs are stored",
  );
});

Deno.test("a study ignores a damaged checkpoint and trains that run from its first epoch", async () => {
  const out = join(root, "damaged");
  const dir = join(out, "lenet5", "smoke");
  await Deno.mkdir(join(dir, "partial"), { recursive: true });
  await Deno.writeTextFile(join(dir, "partial", "bn.seed1.wasm.t1.json"), '{"format": 1');
  await study(out);
  assert.deepEqual((await readRecords(dir)).map(untimed), referenceRecords);
  assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name === "partial"));
});

Deno.test("a study removes a checkpoint left behind by a run that was stored meanwhile", async () => {
  const out = join(root, "left");
  await study(out);
  const dir = join(out, "lenet5", "smoke");
  await Deno.mkdir(join(dir, "partial"));
  await Deno.writeTextFile(join(dir, "partial", "bn.seed1.wasm.t1.json"), "{}");
  await study(out);
  assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name === "partial"));
});
