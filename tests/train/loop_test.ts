import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backends/select.ts";
import { buildModel } from "../../lib/models/build.ts";
import type { Layer } from "../../lib/models/types.ts";
import { rngAt } from "../../lib/rng.ts";
import { SMALL_CNN, syntheticRunData } from "./_data.ts";
import {
  createOptimizer,
  evaluate,
  recalibrateBatchNorm,
  trainModel,
  trainStep,
} from "../../lib/train/loop.ts";
import { learningRate, type TrainSettings } from "../../lib/train/settings.ts";

await initBackend("wasm");

const data = syntheticRunData(400, 100, 1);
const layers = SMALL_CNN;
const options = {
  init: "glorot_uniform" as const,
  batchNorm: { momentum: 0.1, epsilon: 1e-3 },
  classes: 10,
};
const train: TrainSettings = {
  optimizer: { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  batchSize: 32,
  epochs: 3,
  weightDecay: 0,
};
const model = () => buildModel(layers, options, (p) => rngAt(5, "init", p));

Deno.test("trainModel() learns the generated dataset well above chance", () => {
  const m = model();
  const result = trainModel(m, data, {
    seed: 5,
    classes: 10,
    train,
    eval: { batchSize: 50, batchStatsAtEval: false },
  });
  m.dispose();
  assert.equal(result.epochs.length, 3);
  assert.ok(result.test.acc > 0.5, `test accuracy ${result.test.acc}`);
  assert.ok(result.epochs[2]!.trainLoss < result.epochs[0]!.trainLoss);
  assert.ok(result.epochs[2]!.runningTrainLoss < result.epochs[0]!.runningTrainLoss);
});

Deno.test("trainModel() measures training accuracy in inference mode, like validation", () => {
  const m = model();
  const result = trainModel(m, data, {
    seed: 5,
    classes: 10,
    train: { ...train, epochs: 1 },
    eval: { batchSize: 50, batchStatsAtEval: false },
  });
  // Re-evaluating the trained weights on the same subsample gives exactly the
  // recorded figures: no dropout, running batch-norm statistics.
  const again = evaluate(m, data.images, data.labels, data.trainEval, {
    batchSize: 50,
    batchStatsAtEval: false,
  });
  m.dispose();
  const epoch = result.epochs[0]!;
  assert.equal(epoch.trainAcc, again.acc);
  assert.equal(epoch.trainLoss, again.loss);
  // The training-mode running mean is a different quantity (dropout, batch statistics).
  assert.notEqual(epoch.runningTrainLoss, epoch.trainLoss);
});

Deno.test("trainModel() leaks no tensors: the count is flat across an epoch", () => {
  const m = model();
  const optimizer = createOptimizer(train);
  const images = new Float32Array(32 * 784).fill(0.5);
  const labels = Int32Array.from({ length: 32 }, (_, i) => i % 10);
  const settings = {
    seed: 1,
    classes: 10,
    train,
    eval: { batchSize: 50, batchStatsAtEval: false },
  };
  trainStep(m, optimizer, images, labels, settings, 0); // creates Adam's slots
  const before = tf.memory().numTensors;
  for (let step = 1; step < 12; step++) trainStep(m, optimizer, images, labels, settings, step);
  evaluate(m, data.images, data.labels, data.validation, settings.eval);
  assert.equal(tf.memory().numTensors, before);
  optimizer.dispose();
  m.dispose();
});

Deno.test("trainModel() stops early and tests the best epoch's weights", () => {
  const m = model();
  // A learning rate this high makes validation loss rise quickly after the first epochs.
  const settings: TrainSettings = {
    ...train,
    optimizer: { ...train.optimizer, lr: 0.3 },
    epochs: 12,
    earlyStopping: { patience: 2, restoreBest: true },
  };
  const result = trainModel(m, data, {
    seed: 5,
    classes: 10,
    train: settings,
    eval: { batchSize: 50, batchStatsAtEval: false },
  });
  assert.ok(result.epochs.length < 12, `ran ${result.epochs.length} epochs`);
  assert.equal(result.epochs.length - result.bestEpoch, 2);
  assert.equal(result.final.epoch, result.bestEpoch);
  const val = evaluate(m, data.images, data.labels, data.validation, {
    batchSize: 50,
    batchStatsAtEval: false,
  });
  assert.equal(val.loss, result.final.valLoss, "the model holds the best epoch's weights");
  m.dispose();
});

Deno.test("learningRate() halves every five epochs under a step schedule", () => {
  const s: TrainSettings = { ...train, lrSchedule: { type: "step", every: 5, factor: 0.5 } };
  assert.deepEqual([0, 4, 5, 9, 10].map((e) => learningRate(s, e)), [
    0.01,
    0.01,
    0.005,
    0.005,
    0.0025,
  ]);
  assert.equal(learningRate(train, 7), 0.01);
});

Deno.test("recalibrateBatchNorm() sets the running statistics to the batch statistics' mean over the training subsample", () => {
  const bnLayers: Layer[] = [{ type: "flatten" }, { type: "batchnorm" }, {
    type: "dense",
    units: 10,
  }];
  const m = buildModel(bnLayers, options, (p) => rngAt(5, "init", p));
  const trainEval = data.train.subarray(0, 100); // batches of 32, 32, 32 and 4
  const settings = {
    seed: 5,
    classes: 10,
    train,
    eval: { batchSize: 50, batchStatsAtEval: false },
  };
  // Whatever training left in the running averages is replaced.
  m.params.find((p) => p.name.endsWith("running_mean"))!.variable.assign(tf.fill([784], 7));
  recalibrateBatchNorm(m, { ...data, trainEval }, settings, 0);
  const mean = m.params.find((p) => p.name.endsWith("running_mean"))!.variable.dataSync();
  const variance = m.params.find((p) => p.name.endsWith("running_var"))!.variable.dataSync();
  m.dispose();
  // Independent float64 reference: per-example weighted mean of the batch means,
  // and of the batches' unbiased variances.
  for (const j of [0, 300, 406, 783]) {
    let wantMean = 0;
    let wantVar = 0;
    for (let start = 0; start < trainEval.length; start += train.batchSize) {
      const xs = Array.from(
        trainEval.subarray(start, start + train.batchSize),
        (i) => data.images[i * 784 + j]! / 255,
      );
      const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
      const unbiased = xs.reduce((a, x) => a + (x - mu) ** 2, 0) / (xs.length - 1);
      wantMean += (mu * xs.length) / trainEval.length;
      wantVar += (unbiased * xs.length) / trainEval.length;
    }
    assert.ok(Math.abs(mean[j]! - wantMean) < 1e-5, `mean[${j}] ${mean[j]} vs ${wantMean}`);
    assert.ok(Math.abs(variance[j]! - wantVar) < 1e-5, `var[${j}] ${variance[j]} vs ${wantVar}`);
  }
});

Deno.test("trainModel() with recalibration evaluates with recalibrated statistics and changes no weight", () => {
  const run = (recalibrate: boolean) => {
    const m = model();
    const result = trainModel(m, data, {
      seed: 5,
      classes: 10,
      train: { ...train, epochs: 1 },
      eval: {
        batchSize: 50,
        batchStatsAtEval: false,
        ...(recalibrate ? { recalibrateBatchNorm: true as const } : {}),
      },
    });
    const trainable = m.trainable.map((v) => Array.from(v.dataSync()));
    const again = evaluate(m, data.images, data.labels, data.validation, {
      batchSize: 50,
      batchStatsAtEval: false,
    });
    m.dispose();
    return { result, trainable, again };
  };
  const plain = run(false);
  const recalibrated = run(true);
  // Training is untouched: the same weights after the epoch.
  assert.deepEqual(recalibrated.trainable, plain.trainable);
  // The evaluation differs, and the model keeps the statistics it was evaluated with.
  assert.notEqual(recalibrated.result.epochs[0]!.valLoss, plain.result.epochs[0]!.valLoss);
  assert.equal(recalibrated.again.loss, recalibrated.result.epochs[0]!.valLoss);
});
