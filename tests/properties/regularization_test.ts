/**
 * Properties of the two L2 mechanisms of the harness, on cpu, wasm and native:
 *
 * - the Keras-style per-layer `l2` (lib/models/types.ts): `model.l2Penalty()`
 *   is λ·Σw² over the kernels of layers with `l2`, added to the loss inside
 *   `trainStep`, so its gradient is 2·λ·w on those kernels and 0 elsewhere;
 * - coupled weight decay (`train.weightDecay`, PyTorch Adam's `weight_decay`):
 *   `trainStep` adds λ·w to the gradient of every trainable weight (biases and
 *   batch-norm γ, β included; running statistics are not trainable).
 *
 * With plain SGD (`tf.train.sgd(lr)`) one step must move every trainable
 * weight by exactly −lr·(g + 2·λ_layer·w + λ_decay·w), where g is the data
 * gradient computed separately: each term added once. Float32 tolerance: one
 * update rounds to within an ulp of the new weight, so 1e-6 relative to
 * |w| + lr·|update| is ample, while a term added twice or missing is off by
 * λ·lr·|w| ≥ 5e-4·|w| here.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/regularization_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import type { Model } from "../../lib/models/build.ts";
import type { Layer } from "../../lib/models/types.ts";
import { rngAt } from "../../lib/rng.ts";
import { trainStep } from "../../lib/train/loop.ts";
import { build, randomiseTrainable, trainOptions } from "./_models.ts";
import { assertWithin, backendTest, batchOf, check, depth, scoped, values } from "./_prop.ts";

const CLASSES = 10;

/** A small model on 28x28x1 images (as `trainStep` feeds) with L2 on some kernels. */
function l2Model(seed: number, convL2: number, denseL2: number): Model {
  const layers: Layer[] = [
    { type: "avgpool", size: 4 },
    { type: "conv2d", filters: 2, kernel: 3, l2: convL2 },
    { type: "relu" },
    { type: "flatten" },
    { type: "dense", units: 5, l2: denseL2 },
    { type: "batchnorm" },
    { type: "tanh" },
    { type: "dense", units: CLASSES },
  ];
  const model = build(layers, [28, 28, 1], CLASSES, seed);
  randomiseTrainable(model, seed, 0.5);
  return model;
}

/** λ of each trainable weight: the layer's `l2` for kernels, 0 otherwise. */
function l2Of(model: Model): number[] {
  return model.params.filter((p) => p.trainable).map((p) => p.l2);
}

const caseArb = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  n: fc.integer({ min: 2, max: 6 }),
  convL2: fc.constantFrom(0, 0.01, 0.1),
  denseL2: fc.constantFrom(0, 0.001, 0.05),
  decay: fc.constantFrom(0, 1e-3, 0.05),
  lr: fc.constantFrom(0.01, 0.5),
});

function batch(seed: number, n: number): { images: Float32Array; labels: Int32Array } {
  const rng = rngAt(seed, "batch");
  return {
    images: Float32Array.from({ length: n * 784 }, () => rng.nextInt(256) / 255),
    labels: Int32Array.from({ length: n }, () => rng.nextInt(CLASSES)),
  };
}

backendTest(
  "the per-layer l2 penalty is λ·Σw² over those kernels, with gradient 2·λ·w there and 0 elsewhere",
  () => {
    check(
      fc.property(caseArb, ({ seed, n, convL2, denseL2 }) => {
        const model = l2Model(seed, convL2, denseL2);
        try {
          const trainable = model.params.filter((p) => p.trainable);
          // Only kernels carry the layer's coefficient.
          for (const p of trainable) {
            const expected = p.name.endsWith("conv2d/kernel")
              ? convL2
              : p.name === "04.dense/kernel"
              ? denseL2
              : 0;
            assert.equal(p.l2, expected, p.name);
          }
          const penalty = scoped(() => model.l2Penalty()?.dataSync()[0]);
          const expected = trainable.reduce(
            (sum, p) => sum + p.l2 * values(p.variable).reduce((s, w) => s + w * w, 0),
            0,
          );
          if (convL2 === 0 && denseL2 === 0) {
            assert.equal(penalty, undefined, "no penalty without l2");
          } else {assert.ok(
              Math.abs(penalty! - expected) <= 1e-5 * expected,
              `penalty ${penalty} vs ${expected}`,
            );}
          // Gradient of (cross-entropy + penalty) minus that of cross-entropy alone.
          const { images, labels } = batch(seed, n);
          const grads = (withPenalty: boolean) =>
            scoped(() => {
              const x = batchOf(images, [n, 28, 28, 1]);
              const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), CLASSES);
              const { grads } = tf.variableGrads(() => {
                const ce = tf.losses.softmaxCrossEntropy(
                  oneHot,
                  model.forward(x, { training: true }),
                ) as tf.Scalar;
                const pen = withPenalty ? model.l2Penalty() : undefined;
                return pen ? tf.add(ce, pen) : ce;
              }, model.trainable);
              return trainable.map((p) => values(grads[p.variable.name]!));
            });
          const withPenalty = grads(true);
          const without = grads(false);
          trainable.forEach((p, i) => {
            const w = values(p.variable);
            const diff = withPenalty[i]!.map((g, j) => g - without[i]![j]!);
            const scale = Math.max(...withPenalty[i]!.map(Math.abs), ...w.map(Math.abs));
            assertWithin(
              diff,
              w.map((v) => 2 * p.l2 * v),
              1e-6 * scale + 1e-9,
              `${p.name}: penalty gradient 2·λ·w`,
            );
          });
        } finally {
          model.dispose();
        }
      }),
      depth(10, 100),
    );
  },
);

backendTest(
  "one SGD trainStep moves each weight by −lr·(g + 2·λ_l2·w + λ_decay·w): each regulariser added exactly once",
  () => {
    check(
      fc.property(caseArb, ({ seed, n, convL2, denseL2, decay, lr }) => {
        const model = l2Model(seed, convL2, denseL2);
        const optimizer = tf.train.sgd(lr);
        let before: tf.Tensor[] = [];
        try {
          const { images, labels } = batch(seed, n);
          const trainable = model.params.filter((p) => p.trainable);
          before = model.snapshot();
          // The data gradient (cross-entropy only) at the current weights, on the same batch.
          const data = scoped(() => {
            const x = batchOf(images, [n, 28, 28, 1]);
            const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), CLASSES);
            const { value, grads } = tf.variableGrads(
              () =>
                tf.losses.softmaxCrossEntropy(
                  oneHot,
                  model.forward(x, { training: true }),
                ) as tf.Scalar,
              model.trainable,
            );
            return {
              loss: value.dataSync()[0]!,
              grads: trainable.map((p) => values(grads[p.variable.name]!)),
            };
          });
          // The running statistics that forward produced, then undo it.
          const runningAfterOneStep = model.params.filter((p) => !p.trainable).map((p) =>
            values(p.variable)
          );
          model.restore(before);
          const w0 = trainable.map((p) => values(p.variable));
          const out = trainStep(
            model,
            optimizer,
            images,
            labels,
            trainOptions(seed, CLASSES, decay),
            0,
          );
          // The reported loss is the cross-entropy, without the penalty.
          assert.ok(
            Math.abs(out.loss - data.loss) <= 1e-6 * data.loss,
            `loss ${out.loss} vs ${data.loss}`,
          );
          const lambdas = l2Of(model);
          trainable.forEach((p, i) => {
            const w = w0[i]!;
            const g = data.grads[i]!;
            const expected = w.map((v, j) => v - lr * (g[j]! + 2 * lambdas[i]! * v + decay * v));
            const scale = Math.max(...w.map(Math.abs), ...expected.map(Math.abs));
            assertWithin(
              values(p.variable),
              expected,
              1e-6 * scale + 1e-9,
              `${p.name} after one step`,
            );
          });
          // Weight decay does not touch the (non-trainable) running statistics.
          model.params.filter((p) => !p.trainable).forEach((p, i) => {
            assertWithin(
              values(p.variable),
              runningAfterOneStep[i]!,
              1e-7,
              `${p.name} (not decayed)`,
            );
          });
        } finally {
          tf.dispose(before);
          optimizer.dispose();
          model.dispose();
        }
      }),
      depth(10, 100),
    );
  },
);
