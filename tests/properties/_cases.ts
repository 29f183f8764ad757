/**
 * Small models of every kind of layer combination the experiments use, and
 * their training loss on a fixed random batch: shared by the gradient checks
 * (finite differences) and the backend comparisons (wasm/native vs cpu).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ForwardContext, Model } from "../../lib/models/build.ts";
import type { Layer } from "../../lib/models/types.ts";
import { dropoutStream, rngAt } from "../../lib/rng.ts";
import { build, randomiseTrainable } from "./_models.ts";
import { batchOf, uniform } from "./_prop.ts";

/** A small model and its per-example input shape. */
export interface GradCase {
  name: string;
  layers: Layer[];
  input: [number, number, number];
}

const conv = (
  filters: number,
  kernel: number,
  extra: Partial<Extract<Layer, { type: "conv2d" }>> = {},
): Layer => ({
  type: "conv2d",
  filters,
  kernel,
  ...extra,
});

/** Small versions of the experiments' layer combinations (3 classes). */
export const GRAD_CASES: GradCase[] = [
  {
    name: "conv + relu + max-pool + dense (placement baseline)",
    layers: [conv(3, 3), { type: "relu" }, { type: "maxpool" }, { type: "flatten" }, {
      type: "dense",
      units: 3,
    }],
    input: [6, 6, 2],
  },
  {
    name: "conv + batch norm + relu (4-D batch norm)",
    layers: [conv(3, 3), { type: "batchnorm" }, { type: "relu" }, { type: "gap" }, {
      type: "dense",
      units: 3,
    }],
    input: [5, 5, 2],
  },
  {
    name: "dense + batch norm + dropout (2-D batch norm)",
    layers: [
      { type: "flatten" },
      { type: "dense", units: 6 },
      { type: "batchnorm" },
      { type: "relu" },
      { type: "dropout", rate: 0.25 },
      { type: "dense", units: 3 },
    ],
    input: [3, 3, 2],
  },
  {
    name: "identity residual block broadcasting one channel (enhancements skip)",
    layers: [
      {
        type: "residual",
        body: [conv(3, 3), { type: "batchnorm" }, { type: "relu" }, conv(3, 3), {
          type: "batchnorm",
        }],
        shortcut: "identity",
        activation: "relu",
      },
      { type: "gap" },
      { type: "dense", units: 3 },
    ],
    input: [5, 5, 1],
  },
  {
    name: "projection residual block with squeeze-and-excitation (se_resnet)",
    layers: [
      {
        type: "residual",
        body: [conv(4, 3), { type: "relu" }, { type: "batchnorm" }, { type: "se", ratio: 2 }],
        shortcut: "projection",
        activation: "relu",
      },
      { type: "maxpool" },
      { type: "gap" },
      { type: "dense", units: 3, l2: 0.01 },
    ],
    input: [6, 6, 2],
  },
  {
    name: "dilated conv + tanh + dense",
    layers: [conv(3, 3, { dilation: 2 }), { type: "tanh" }, { type: "flatten" }, {
      type: "dense",
      units: 3,
    }],
    input: [7, 7, 2],
  },
  {
    name: "LeNet-like: 5x5 'same' and 'valid' convs, tanh, average pooling, L2 on dense",
    layers: [
      conv(2, 5, { padding: "same" }),
      { type: "tanh" },
      { type: "avgpool" },
      conv(3, 5, { padding: "valid" }),
      { type: "tanh" },
      { type: "flatten" },
      { type: "dense", units: 4, l2: 0.05 },
      { type: "tanh" },
      { type: "dense", units: 3 },
    ],
    input: [12, 12, 1],
  },
  {
    name: "5x5 stride-2 'valid' conv + sigmoid dense (enhancements base)",
    layers: [
      conv(2, 5, { stride: 2, padding: "valid", l2: 0.02 }),
      { type: "flatten" },
      { type: "dense", units: 4 },
      { type: "sigmoid" },
      { type: "dense", units: 3 },
    ],
    input: [9, 9, 1],
  },
];

/** Training loss (cross-entropy + L2 penalty) of `model` on a fixed batch, with fixed dropout masks. */
export function lossFunction(
  model: Model,
  seed: number,
  n: number,
  [h, w, c]: number[],
): () => tf.Scalar {
  const classes = 3;
  const xs = uniform(seed, n * h! * w! * c!, -1, 1, "input");
  const rng = rngAt(seed, "labels");
  const labels = Array.from({ length: n }, () => rng.nextInt(classes));
  const ctx: ForwardContext = {
    training: true,
    dropoutStream: (path) => dropoutStream(seed, path, 0),
  };
  return () => {
    const x = batchOf(xs, [n, h!, w!, c!]);
    const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), classes);
    const ce = tf.losses.softmaxCrossEntropy(oneHot, model.forward(x, ctx));
    const penalty = model.l2Penalty();
    return (penalty ? tf.add(ce, penalty) : ce) as tf.Scalar;
  };
}

/** Build a case's model with random weights (γ, β and biases included). */
export function buildCase(c: GradCase, seed: number): Model {
  const model = build(c.layers, c.input, 3, seed);
  randomiseTrainable(model, seed, 0.6);
  return model;
}
