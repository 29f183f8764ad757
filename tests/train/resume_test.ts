import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backends/select.ts";
import { buildModel } from "../../lib/models/build.ts";
import { rngAt } from "../../lib/rng.ts";
import { SMALL_CNN, syntheticRunData } from "./_data.ts";
import {
  type RunResult,
  trainModel,
  type TrainOptions,
  type TrainState,
} from "../../lib/train/loop.ts";

await initBackend("wasm");

const data = syntheticRunData(300, 80, 2);
// Every source of state and randomness the loop has: batch norm (running statistics),
// dropout (per-step masks), augmentation (per-epoch stream), a step schedule, weight
// decay, early stopping with best-weight restore and batch-norm re-estimation.
const layers = SMALL_CNN;
const model = () =>
  buildModel(
    layers,
    { init: "glorot_uniform", batchNorm: { momentum: 0.01, epsilon: 1e-3 }, classes: 10 },
    (p) => rngAt(7, "init", p),
  );
const options = {
  seed: 7,
  classes: 10,
  train: {
    optimizer: { type: "adam", lr: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    batchSize: 32,
    epochs: 6,
    weightDecay: 1e-4,
    lrSchedule: { type: "step", every: 2, factor: 0.5 },
    earlyStopping: { patience: 5, restoreBest: true },
    augment: { rotation: 10, shift: 0.1, flip: false },
  },
  eval: { batchSize: 50, batchStatsAtEval: false, recalibrateBatchNorm: true },
} satisfies TrainOptions;

/** Everything a run reports but its timings. */
function outcome(result: RunResult, weights: Float32Array[]) {
  const untimed = result.epochs.map(({ seconds: _, ...rest }) => rest);
  return { epochs: untimed, best: result.bestEpoch, test: result.test, weights };
}

function weightsOf(m: ReturnType<typeof model>): Float32Array[] {
  return m.params.map((p) => Float32Array.from(p.variable.dataSync() as Float32Array));
}

/** The uninterrupted run and the checkpoint it offered after every epoch but the last. */
function uninterrupted(): { result: ReturnType<typeof outcome>; states: TrainState[] } {
  const m = model();
  const states: TrainState[] = [];
  const result = trainModel(m, data, { ...options, onCheckpoint: (s) => states.push(s) });
  const out = outcome(result, weightsOf(m));
  m.dispose();
  return { result: out, states };
}

const reference = uninterrupted();

Deno.test("trainModel() offers a checkpoint after every epoch but the last", () => {
  assert.deepEqual(reference.states.map((s) => s.epochs.length), [1, 2, 3, 4, 5]);
  assert.ok(reference.states.every((s) => s.best.weights !== undefined));
});

Deno.test("trainModel() taking checkpoints trains exactly as without them", () => {
  const m = model();
  const plain = outcome(trainModel(m, data, options), weightsOf(m));
  m.dispose();
  assert.deepEqual(plain, reference.result);
});

for (const after of [1, 2, 4]) {
  Deno.test(`trainModel() resumed after epoch ${after} gives the uninterrupted run bit for bit`, () => {
    const m = model();
    const before = tf.memory().numTensors;
    const result = trainModel(m, data, { ...options, resume: reference.states[after - 1]! });
    assert.deepEqual(outcome(result, weightsOf(m)), reference.result);
    assert.equal(tf.memory().numTensors, before, "no tensor is leaked");
    m.dispose();
  });
}

Deno.test("trainModel() stops when suspend() says so and continues from that checkpoint", () => {
  const m = model();
  let saved: TrainState | undefined;
  const stopped = trainModel(m, data, {
    ...options,
    onCheckpoint: (s) => saved = s,
    suspend: () => true,
  });
  m.dispose();
  assert.equal(stopped, undefined);
  assert.equal(saved?.epochs.length, 1);
  const again = model();
  const result = trainModel(again, data, { ...options, resume: saved! });
  assert.deepEqual(outcome(result, weightsOf(again)), reference.result);
  again.dispose();
});

Deno.test("trainModel() refuses a state whose weights do not fit the model", () => {
  const state = reference.states[0]!;
  const m = model();
  const short = { ...state, weights: state.weights.slice(1) };
  assert.throws(() => trainModel(m, data, { ...options, resume: short }), RangeError);
  const resized = {
    ...state,
    optimizer: { ...state.optimizer, firstMoment: [new Float32Array(3)] },
  };
  assert.throws(() => trainModel(m, data, { ...options, resume: resized }), RangeError);
  m.dispose();
});
