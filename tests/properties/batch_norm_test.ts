/**
 * Properties of batch normalisation as the harness computes it: the fused
 * training op `batchNormTrain` (lib/models/ops.ts) and the `batchnorm` layer
 * (lib/models/build.ts), on cpu, wasm and native.
 *
 * Conventions checked (see the layer's code):
 * - statistics are per channel (last axis) over batch AND spatial positions;
 * - normalisation uses the biased batch variance Σ(x − μ)²/M;
 * - running averages follow PyTorch: r ← (1 − m)·r + m·batch, where the running
 *   variance takes the unbiased batch variance Σ(x − μ)²/(M − 1); they start at
 *   mean 0 and variance 1 and change only in training forwards;
 * - evaluation normalises with the running statistics, except in the
 *   `batchStatsAtEval` pitfall mode, which normalises with the batch's own.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/batch_norm_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { batchNormTrain } from "../../lib/models/ops.ts";
import type { Layer } from "../../lib/models/types.ts";
import { build, param, randomiseTrainable } from "./_models.ts";
import {
  assertClose,
  backendTest,
  batchOf,
  check,
  depth,
  sizeOf,
  uniform,
  values,
} from "./_prop.ts";

/** Float64 per-channel statistics of `x` viewed as [M, C]. */
function channelStats(
  x: ArrayLike<number>,
  c: number,
): { mean: number[]; variance: number[]; m: number } {
  const m = x.length / c;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  for (let i = 0; i < x.length; i++) mean[i % c]! += x[i]! / m;
  for (let i = 0; i < x.length; i++) variance[i % c]! += (x[i]! - mean[i % c]!) ** 2 / m;
  return { mean, variance, m };
}

const shapeArb = fc.record({
  rank: fc.constantFrom(2, 4),
  n: fc.integer({ min: 2, max: depth(5, 16) }),
  h: fc.integer({ min: 1, max: depth(4, 9) }),
  w: fc.integer({ min: 1, max: depth(4, 9) }),
  c: fc.integer({ min: 1, max: depth(4, 12) }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

type ShapeCase = { rank: number; n: number; h: number; w: number; c: number; seed: number };

function shapeOf(s: ShapeCase): number[] {
  return s.rank === 2 ? [s.n, s.c] : [s.n, s.h, s.w, s.c];
}

/**
 * Values with a per-channel offset and scale and, for 4-D inputs, a
 * per-position offset of ±2 scales at the first and last positions, so that
 * per-position statistics differ from the per-channel ones.
 */
function structured(s: ShapeCase): Float32Array {
  const shape = shapeOf(s);
  const c = s.c;
  const positions = sizeOf(shape) / s.n / c;
  const offset = uniform(s.seed, c, -3, 3, "offset");
  const scale = uniform(s.seed, c, 0.5, 5, "scale");
  const posOffset = uniform(s.seed, positions, -2, 2, "position");
  posOffset[0] = 2;
  if (positions > 1) posOffset[positions - 1] = -2;
  const noise = uniform(s.seed, sizeOf(shape), -1, 1, "noise");
  return noise.map((u, i) => {
    const k = i % c;
    const pos = Math.floor(i / c) % positions;
    return offset[k]! + scale[k]! * ((s.rank === 4 ? posOffset[pos]! : 0) + u);
  });
}

backendTest(
  "training-mode batch norm gives each channel mean 0 and variance 1 over batch and spatial positions together",
  () => {
    check(
      fc.property(shapeArb, fc.constantFrom(1e-5, 1e-3), (s, eps) => {
        tf.tidy(() => {
          const shape = shapeOf(s);
          const xs = structured(s);
          const c = s.c;
          const out = batchNormTrain(tf.tensor(xs, shape), tf.ones([c]), tf.zeros([c]), eps);
          const y = values(out.y);
          const ref = channelStats(xs, c);
          // The op's statistics are the per-channel, biased batch statistics.
          assertClose(values(out.mean), ref.mean, { abs: 1e-5, rel: 1e-5 }, "batch mean");
          assertClose(values(out.variance), ref.variance, { rel: 1e-4 }, "batch variance (biased)");
          // Normalised output: per channel mean 0 and variance σ²/(σ² + ε) ≈ 1.
          const ys = channelStats(y, c);
          for (let k = 0; k < c; k++) {
            const v = ref.variance[k]!;
            assert.ok(Math.abs(ys.mean[k]!) < 1e-4, `channel ${k} mean ${ys.mean[k]}`);
            assert.ok(
              Math.abs(ys.variance[k]! - v / (v + eps)) < 1e-4,
              `channel ${k} variance ${ys.variance[k]}`,
            );
            assert.ok(
              Math.abs(ys.variance[k]! - 1) < eps / v + 1e-4,
              `channel ${k} variance ${ys.variance[k]} not ≈ 1`,
            );
          }
          const expected = xs.map((x, i) =>
            (x - ref.mean[i % c]!) / Math.sqrt(ref.variance[i % c]! + eps)
          );
          // Float32 kernels round x − μ (and μ itself) at ulp(|x| + |μ|) ≈ 6e-8·(|x| + |μ|), which
          // 1/√(σ² + ε) amplifies when the spread is tiny (a batch of two close values).
          xs.forEach((x, i) => {
            const k = i % c;
            const tol = 1e-5 + 1e-5 * Math.abs(expected[i]!) +
              8 * 2 ** -24 * (Math.abs(x) + Math.abs(ref.mean[k]!)) /
                Math.sqrt(ref.variance[k]! + eps);
            assert.ok(
              Math.abs(y[i]! - expected[i]!) <= tol,
              `normalised value ${i}: ${y[i]} vs ${expected[i]}`,
            );
          });
          // Not per position: with position-dependent offsets, per-position means stay far from 0.
          const positions = sizeOf(shape) / s.n / c;
          if (s.rank === 4 && positions > 1) {
            for (let k = 0; k < c; k++) {
              let worst = 0;
              for (let p = 0; p < positions; p++) {
                let sum = 0;
                for (let n = 0; n < s.n; n++) sum += y[(n * positions + p) * c + k]!;
                worst = Math.max(worst, Math.abs(sum / s.n));
              }
              assert.ok(
                worst > 0.3,
                `channel ${k}: every per-position mean ≈ 0 (${worst}); normalised per position?`,
              );
            }
          }
        });
      }),
      depth(25, 200),
    );
  },
);

backendTest("training-mode batch norm applies γ and β after normalising: y = γ·x̂ + β", () => {
  check(
    fc.property(shapeArb, (s) => {
      tf.tidy(() => {
        const shape = shapeOf(s);
        const x = tf.tensor(structured(s), shape);
        const gamma = uniform(s.seed, s.c, -2, 2, "gamma");
        const beta = uniform(s.seed, s.c, -2, 2, "beta");
        const plain = values(batchNormTrain(x, tf.ones([s.c]), tf.zeros([s.c]), 1e-3).y);
        const affine = batchNormTrain(x, tf.tensor1d(gamma), tf.tensor1d(beta), 1e-3);
        const expected = plain.map((v, i) => gamma[i % s.c]! * v + beta[i % s.c]!);
        assertClose(values(affine.y), expected, { abs: 2e-5, rel: 1e-5 }, "γ·x̂ + β");
        // The statistics do not depend on γ and β.
        const stats = batchNormTrain(x, tf.ones([s.c]), tf.zeros([s.c]), 1e-3);
        assertClose(
          values(affine.mean),
          values(stats.mean),
          { abs: 0 },
          "mean independent of γ, β",
        );
      });
    }),
    depth(20, 200),
  );
});

backendTest(
  "batch norm reproduces seed 003's worked example: {1..8} → mean 4.5, variance 5.25, 8 ↦ 1.53, γ=2, β=1 ↦ 4.06",
  () => {
    const data = [2, 4, 6, 8, 1, 3, 5, 7];
    const eps = 1e-3;
    // As a batch of 8 one-channel values and as 2 images of 2x2 (batch and spatial pooled).
    for (const shape of [[8, 1], [2, 2, 2, 1]]) {
      tf.tidy(() => {
        const plain = batchNormTrain(
          tf.tensor(data, shape),
          tf.tensor1d([1]),
          tf.tensor1d([0]),
          eps,
        );
        assert.ok(Math.abs(values(plain.mean)[0]! - 4.5) < 1e-6, "mean 4.5");
        assert.ok(
          Math.abs(values(plain.variance)[0]! - 5.25) < 1e-5,
          "variance 5.25 (biased: 42 / 8)",
        );
        const x8 = values(plain.y)[3]!;
        assert.ok(Math.abs(x8 - 1.53) < 5e-3, `8 normalises to ${x8}, not ≈ 1.53`);
        assert.ok(Math.abs(x8 - 3.5 / Math.sqrt(5.25 + eps)) < 1e-5, `8 normalises to ${x8}`);
        const affine = batchNormTrain(
          tf.tensor(data, shape),
          tf.tensor1d([2]),
          tf.tensor1d([1]),
          eps,
        );
        const y8 = values(affine.y)[3]!;
        assert.ok(Math.abs(y8 - 4.06) < 1e-2, `γ = 2, β = 1 give ${y8}, not ≈ 4.06`);
        assert.ok(Math.abs(y8 - (1 + 7 / Math.sqrt(5.25 + eps))) < 1e-5, `γ = 2, β = 1 give ${y8}`);
      });
    }
    // One training step of the layer with momentum 0.1: running mean 0.9·0 + 0.1·4.5,
    // running variance 0.9·1 + 0.1·6 (unbiased: 42 / 7 = 6).
    const model = build([{ type: "batchnorm", momentum: 0.1, epsilon: eps }], [1], 1, 3);
    try {
      tf.tidy(() => void model.forward(batchOf(data, [8, 1]), { training: true }));
      assertClose(
        values(param(model, "running_mean").variable),
        [0.45],
        { abs: 1e-6 },
        "running mean",
      );
      assertClose(
        values(param(model, "running_var").variable),
        [1.5],
        { abs: 1e-6 },
        "running variance",
      );
    } finally {
      model.dispose();
    }
  },
);

/** A model that is just a batch norm layer on [C] or [H, W, C] (flattened for 4-D). */
function bnModel(s: ShapeCase, layer: Layer, momentum = 0.01, epsilon = 1e-3) {
  const inner = s.rank === 2 ? [s.c] : [s.h, s.w, s.c];
  const layers: Layer[] = s.rank === 2 ? [layer] : [layer, { type: "flatten" }];
  return build(layers, inner, sizeOf(inner), s.seed, { momentum, epsilon });
}

backendTest(
  "the batch norm layer's running statistics follow r ← (1 − m)·r + m·batch with the unbiased batch variance",
  () => {
    check(
      fc.property(
        shapeArb,
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.boolean(),
        fc.array(fc.integer({ min: 2, max: 6 }), { minLength: 1, maxLength: 4 }),
        (s, momentum, onLayer, batches) => {
          // The momentum comes from the layer or, when the layer has none, from the model options.
          const layer: Layer = onLayer ? { type: "batchnorm", momentum } : { type: "batchnorm" };
          const model = bnModel(s, layer, onLayer ? 0.5 : momentum);
          try {
            randomiseTrainable(model, s.seed);
            const runMean = new Array<number>(s.c).fill(0);
            const runVar = new Array<number>(s.c).fill(1);
            batches.forEach((n, step) => {
              const shape = shapeOf({ ...s, n });
              const xs = structured({ ...s, n, seed: s.seed + step });
              tf.tidy(() => {
                const x = tf.tensor(xs, shape);
                const out = values(model.forward(x as unknown as tf.Tensor4D, { training: true }));
                // Training output: normalised with the batch's own statistics.
                const gamma = param(model, "gamma").variable;
                const beta = param(model, "beta").variable;
                const direct = values(
                  batchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-3).y,
                );
                assertClose(
                  out,
                  direct,
                  { abs: 1e-6, rel: 1e-6 },
                  "training output uses batch statistics",
                );
              });
              const { mean, variance, m } = channelStats(xs, s.c);
              for (let k = 0; k < s.c; k++) {
                runMean[k] = (1 - momentum) * runMean[k]! + momentum * mean[k]!;
                runVar[k] = (1 - momentum) * runVar[k]! + momentum * variance[k]! * m / (m - 1);
              }
              assertClose(values(param(model, "running_mean").variable), runMean, {
                abs: 1e-5,
                rel: 1e-5,
              }, `running mean after step ${step}`);
              assertClose(values(param(model, "running_var").variable), runVar, {
                abs: 1e-5,
                rel: 1e-5,
              }, `running variance after step ${step}`);
            });
            // Evaluation forwards leave the running statistics alone.
            const before = values(param(model, "running_var").variable);
            tf.tidy(() => {
              const x = batchOf(structured(s), shapeOf(s));
              model.forward(x, { training: false });
              model.forward(x, { training: false, batchStatsAtEval: true });
            });
            assertClose(
              values(param(model, "running_var").variable),
              before,
              { abs: 0 },
              "running variance after evaluation",
            );
          } finally {
            model.dispose();
          }
        },
      ),
      depth(15, 150),
    );
  },
);

/** Random running statistics, γ and β for a batch-norm-only model. */
function randomiseStats(model: ReturnType<typeof bnModel>, c: number, seed: number) {
  randomiseTrainable(model, seed, 1.5);
  param(model, "running_mean").variable.assign(tf.tensor1d(uniform(seed, c, -3, 3, "rm")));
  param(model, "running_var").variable.assign(tf.tensor1d(uniform(seed, c, 0.2, 9, "rv")));
}

backendTest(
  "evaluation-mode batch norm uses the running statistics, so an example's output does not depend on its batch",
  () => {
    check(
      fc.property(shapeArb, fc.integer({ min: 0, max: 1000 }), (s, pick) => {
        const model = bnModel(s, { type: "batchnorm" });
        try {
          tf.tidy(() => {
            randomiseStats(model, s.c, s.seed);
            const rm = values(param(model, "running_mean").variable);
            const rv = values(param(model, "running_var").variable);
            const gamma = values(param(model, "gamma").variable);
            const beta = values(param(model, "beta").variable);
            const shape = shapeOf(s);
            const xs = structured(s);
            const per = xs.length / s.n;
            const at = pick % s.n;
            const batchOut = values(model.forward(batchOf(xs, shape), { training: false }));
            const alone = values(
              model.forward(batchOf(xs.slice(at * per, (at + 1) * per), [1, ...shape.slice(1)]), {
                training: false,
              }),
            );
            assertClose(
              batchOut.slice(at * per, (at + 1) * per),
              alone,
              { abs: 1e-6, rel: 1e-6 },
              "alone vs in a batch",
            );
            const expected = xs.map((x, i) => {
              const k = i % s.c;
              return gamma[k]! * (x - rm[k]!) / Math.sqrt(rv[k]! + 1e-3) + beta[k]!;
            });
            assertClose(
              batchOut,
              expected,
              { abs: 1e-5, rel: 1e-5 },
              "γ (x − running mean)/√(running var + ε) + β",
            );
          });
        } finally {
          model.dispose();
        }
      }),
      depth(20, 200),
    );
  },
);

backendTest(
  "the batchStatsAtEval pitfall normalises with the batch's statistics, so an example's output depends on its batch",
  () => {
    check(
      fc.property(shapeArb, (s) => {
        const model = bnModel(s, { type: "batchnorm" });
        try {
          tf.tidy(() => {
            randomiseStats(model, s.c, s.seed);
            const shape = shapeOf(s);
            const xs = structured(s);
            const per = xs.length / s.n;
            // The same first example, below its companions in batch A and above them in batch B
            // (values stay within ±20, shifts are ±40), so its normalised values change sign.
            const other = structured({ ...s, seed: s.seed + 1 });
            const companions = (f: (v: number) => number, g: (v: number) => number) => {
              const b = new Float32Array(3 * per);
              b.set(xs.subarray(0, per));
              b.set(other.subarray(0, per).map(f), per);
              b.set(other.subarray(per, 2 * per).map(g), 2 * per);
              return batchOf(b, [3, ...shape.slice(1)]);
            };
            const ctx = { training: false, batchStatsAtEval: true };
            const a = companions((v) => v + 40, (v) => v + 40);
            const b = companions((v) => v - 40, (v) => v - 40);
            const outA = values(model.forward(a, ctx));
            const outB = values(model.forward(b, ctx));
            let differs = 0;
            for (let i = 0; i < per; i++) {
              differs = Math.max(differs, Math.abs(outA[i]! - outB[i]!));
            }
            const maxGamma = Math.max(...values(param(model, "gamma").variable).map(Math.abs));
            assert.ok(
              differs > 0.5 * maxGamma,
              `same example, different batches, outputs differ by only ${differs} (max |γ| ${maxGamma})`,
            );
            // And each is the batch-statistics normalisation of its own batch.
            const gamma = param(model, "gamma").variable as tf.Tensor1D;
            const beta = param(model, "beta").variable as tf.Tensor1D;
            assertClose(outA, values(batchNormTrain(a, gamma, beta, 1e-3).y), {
              abs: 1e-6,
              rel: 1e-6,
            }, "batch A");
            assertClose(outB, values(batchNormTrain(b, gamma, beta, 1e-3).y), {
              abs: 1e-6,
              rel: 1e-6,
            }, "batch B");
          });
        } finally {
          model.dispose();
        }
      }),
      depth(15, 150),
    );
  },
);
