/**
 * Properties of softmax and cross-entropy as the harness uses them: the
 * training loss `tf.losses.softmaxCrossEntropy` (float32, in `trainStep`) and
 * the float64 evaluation of `evaluate` (lib/train/loop.ts), on cpu, wasm and
 * native. References are float64 log-sum-exp computations over the float32 logits.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/softmax_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { evaluate } from "../../lib/train/loop.ts";
import { rngAt } from "../../lib/rng.ts";
import { build, param, randomiseTrainable } from "./_models.ts";
import { assertClose, backendTest, batchOf, check, depth, uniform, values } from "./_prop.ts";

/** −log softmax(row)[label] in float64 (log-sum-exp with the maximum subtracted). */
function crossEntropy(row: ArrayLike<number>, label: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return Math.log(sum) + max - row[label]!;
}

const logitsArb = fc.record({
  n: fc.integer({ min: 1, max: depth(6, 32) }),
  k: fc.integer({ min: 2, max: 12 }),
  spread: fc.constantFrom(0.1, 3, 30),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

backendTest("softmax rows are probabilities: entries in [0, 1] summing to 1", () => {
  check(
    fc.property(logitsArb, ({ n, k, spread, seed }) => {
      tf.tidy(() => {
        const p = values(tf.softmax(tf.tensor2d(uniform(seed, n * k, -spread, spread), [n, k])));
        for (let i = 0; i < n; i++) {
          const row = p.subarray(i * k, (i + 1) * k);
          assert.ok(row.every((v) => v >= 0 && v <= 1), `row ${i}: ${row}`);
          const sum = row.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) <= 1e-6 * k + 1e-6, `row ${i} sums to ${sum}`);
        }
      });
    }),
    depth(30, 300),
  );
});

backendTest(
  "softmax and the cross-entropy loss are unchanged by adding a constant to a row of logits",
  () => {
    check(
      fc.property(
        logitsArb,
        fc.double({ min: -50, max: 50, noNaN: true }),
        ({ n, k, spread, seed }, c) => {
          tf.tidy(() => {
            const z = tf.tensor2d(uniform(seed, n * k, -spread, spread), [n, k]);
            const shifted = tf.add(z, c);
            // Adding c in float32 perturbs each logit by ≤ 2⁻²⁴·(|z| + |c|) ≈ 5e-6, and p by about twice that.
            assertClose(
              values(tf.softmax(shifted)),
              values(tf.softmax(z)),
              { abs: 2e-5 },
              "softmax(z + c)",
            );
            const labels = tf.oneHot(
              tf.tensor1d(Array.from({ length: n }, (_, i) => (seed + i) % k), "int32"),
              k,
            );
            const loss = tf.losses.softmaxCrossEntropy(labels, z).dataSync()[0]!;
            const lossShifted = tf.losses.softmaxCrossEntropy(labels, shifted).dataSync()[0]!;
            assert.ok(
              Math.abs(loss - lossShifted) <= 2e-5 * (1 + loss),
              `${loss} vs ${lossShifted}`,
            );
          });
        },
      ),
      depth(30, 300),
    );
  },
);

backendTest("the training loss is the batch mean of −log p(true class) and never negative", () => {
  check(
    fc.property(logitsArb, ({ n, k, spread, seed }) => {
      tf.tidy(() => {
        const zs = uniform(seed, n * k, -spread, spread);
        const rng = rngAt(seed, "labels");
        const labels = Array.from({ length: n }, () => rng.nextInt(k));
        const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), k);
        const z = tf.tensor2d(zs, [n, k]);
        const perExample = values(
          tf.losses.softmaxCrossEntropy(oneHot, z, undefined, 0, tf.Reduction.NONE),
        );
        const expected = labels.map((y, i) => crossEntropy(zs.subarray(i * k, (i + 1) * k), y));
        assert.ok(perExample.every((v) => v >= 0), `negative loss in ${perExample}`);
        assertClose(perExample, expected, { abs: 1e-5, rel: 1e-5 }, "per-example −log p");
        const mean = tf.losses.softmaxCrossEntropy(oneHot, z).dataSync()[0]!;
        const expectedMean = expected.reduce((a, b) => a + b, 0) / n;
        assert.ok(mean >= 0);
        assert.ok(
          Math.abs(mean - expectedMean) <= 1e-5 * (1 + expectedMean),
          `${mean} vs ${expectedMean}`,
        );
        // And −log p agrees with the probabilities softmax gives.
        const p = values(tf.softmax(z));
        labels.forEach((y, i) => {
          if (p[i * k + y]! > 1e-30) {
            assert.ok(
              Math.abs(-Math.log(p[i * k + y]!) - expected[i]!) <= 1e-4 * (1 + expected[i]!),
            );
          }
        });
      });
    }),
    depth(30, 300),
  );
});

backendTest(
  "evaluate() reports the float64 mean of −log p(true class) and the first-maximum accuracy, whatever its batch size",
  () => {
    check(
      fc.property(
        fc.integer({ min: 1, max: depth(12, 40) }),
        fc.integer({ min: 1, max: 16 }),
        fc.constantFrom(0.05, 0.5, 5),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (count, batchSize, scale, seed) => {
          const classes = 5;
          const model = build(
            [{ type: "avgpool", size: 4 }, { type: "flatten" }, { type: "dense", units: classes }],
            [28, 28, 1],
            classes,
            seed,
          );
          try {
            randomiseTrainable(model, seed, scale);
            tf.tidy(() => param(model, "bias").variable.assign(tf.zeros([classes])));
            const rng = rngAt(seed, "data");
            const images = Uint8Array.from({ length: count * 784 }, () => rng.nextInt(256));
            // Ties: with zero biases, an all-zero image has all logits 0 (counted correct only for label 0).
            images.fill(0, 0, 784);
            const labels = Uint8Array.from({ length: count }, () => rng.nextInt(classes));
            const indices = rng.shuffle(Uint32Array.from({ length: count }, (_, i) => i));
            const result = evaluate(model, images, labels, indices, {
              batchSize,
              batchStatsAtEval: false,
            });
            // Reference: logits of the whole set in one batch, cross-entropy in float64.
            const x = new Float32Array(count * 784);
            indices.forEach((i, row) => {
              for (let j = 0; j < 784; j++) x[row * 784 + j] = images[i * 784 + j]! / 255;
            });
            const logits = tf.tidy(() =>
              values(model.forward(batchOf(x, [count, 28, 28, 1]), { training: false }))
            );
            let loss = 0;
            let correct = 0;
            indices.forEach((i, row) => {
              const z = logits.subarray(row * classes, (row + 1) * classes);
              loss += crossEntropy(z, labels[i]!) / count;
              let best = 0;
              for (let k = 1; k < classes; k++) if (z[k]! > z[best]!) best = k;
              if (best === labels[i]) correct++;
            });
            assert.ok(result.loss >= 0);
            // Logits of a batch may differ in the last bits from those of the whole set.
            assert.ok(
              Math.abs(result.loss - loss) <= 1e-5 * (1 + loss),
              `loss ${result.loss} vs ${loss}`,
            );
            assert.ok(Number.isFinite(result.loss));
            assert.equal(result.acc, correct / count);
          } finally {
            model.dispose();
          }
        },
      ),
      depth(15, 150),
    );
  },
);
