/**
 * Small models and settings for the property tests: model options, an
 * initialisation stream per seed, parameter access by name, and the
 * training options `trainStep` needs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { buildModel, type Model, type Param } from "../../lib/models/build.ts";
import type { Layer, ModelOptions } from "../../lib/models/types.ts";
import { rngAt } from "../../lib/rng.ts";
import type { TrainOptions } from "../../lib/train/loop.ts";

/** Model options with Keras' BN defaults in PyTorch convention unless overridden. */
export function modelOptions(
  classes: number,
  batchNorm = { momentum: 0.01, epsilon: 1e-3 },
): ModelOptions {
  return { init: "glorot_uniform", batchNorm, classes };
}

/**
 * Build `layers` for per-example `inputShape`, initialised from `seed`. Built
 * inside `tf.tidy` because `buildModel` leaves each weight's initial-value
 * tensor undisposed (`addParam` in lib/models/build.ts: `tf.variable(tf.tensor(...))`).
 */
export function build(
  layers: Layer[],
  inputShape: number[],
  classes: number,
  seed: number,
  batchNorm?: ModelOptions["batchNorm"],
): Model {
  let model: Model | undefined;
  tf.tidy(() => {
    model = buildModel(
      layers,
      modelOptions(classes, batchNorm),
      (path) => rngAt(seed, "init", path),
      inputShape,
    );
  });
  return model!;
}

/** The parameter whose name ends with `suffix` (exactly one must match). */
export function param(model: Model, suffix: string): Param {
  const found = model.params.filter((p) => p.name.endsWith(suffix));
  if (found.length !== 1) {
    throw new Error(`expected one parameter named *${suffix}, found [${found.map((p) => p.name)}]`);
  }
  return found[0]!;
}

/** Set every trainable weight to uniform values in ±`scale` from `seed` (e.g. non-trivial γ, β, biases). */
export function randomiseTrainable(model: Model, seed: number, scale = 0.5): void {
  tf.tidy(() => {
    model.params.forEach((p, i) => {
      if (!p.trainable) return;
      const rng = rngAt(seed, "weights", i);
      const v = new Float32Array(p.variable.size);
      for (let j = 0; j < v.length; j++) v[j] = (2 * rng.nextFloat() - 1) * scale;
      p.variable.assign(tf.tensor(v, p.variable.shape, "float32"));
    });
  });
}

/** Training options for `trainStep` with coupled weight decay `weightDecay`. */
export function trainOptions(seed: number, classes: number, weightDecay = 0): TrainOptions {
  return {
    seed,
    classes,
    train: {
      optimizer: { type: "adam", lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      batchSize: 4,
      epochs: 1,
      weightDecay,
    },
    eval: { batchSize: 4, batchStatsAtEval: false },
  };
}
