/**
 * Properties of the `dropout` layer (inverted dropout, lib/models/build.ts,
 * one fused kernel per backend, lib/backends/kernels/dropout.ts) with the
 * streams the training loop supplies (`trainStep` in lib/train/loop.ts builds
 * `ForwardContext.dropoutStream` from `dropoutStream(seed, layerPath, step)`),
 * on cpu, wasm and native. Outputs and gradients are compared bit for bit with
 * the TypeScript reference mask (`dropoutMask` in lib/rng.ts), so the three
 * backends agree exactly. The masks' statistics are tested in tests/rng_test.ts.
 *
 * The training loop's context is captured by wrapping a real model, so the
 * streams tested are exactly those `trainStep` hands to the layers.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/dropout_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import type { ForwardContext, Model } from "../../lib/models/build.ts";
import { dropout } from "../../lib/models/ops.ts";
import { dropoutMask, dropoutStream } from "../../lib/rng.ts";
import { trainStep } from "../../lib/train/loop.ts";
import { build, trainOptions } from "./_models.ts";
import { assertClose, backendTest, batchOf, check, depth, uniform, values } from "./_prop.ts";

/** Binomial bound: |dropped − n·rate| ≤ Z·√(n·rate·(1 − rate)); Z = 5 fails once in ~1.7 million. */
const Z = 5;

/** The context `trainStep` builds for `step` of a run seeded `seed`. */
function trainingContext(seed: number, step: number, rate: number): ForwardContext {
  const model = build(
    [{ type: "avgpool", size: 14 }, { type: "flatten" }, { type: "dropout", rate }, {
      type: "dense",
      units: 3,
    }],
    [28, 28, 1],
    3,
    1,
  );
  let captured: ForwardContext | undefined;
  const spy: Model = {
    ...model,
    forward(x, ctx) {
      captured = ctx;
      return model.forward(x, ctx);
    },
  };
  const optimizer = tf.train.sgd(0);
  try {
    const images = new Float32Array(2 * 784);
    trainStep(spy, optimizer, images, Int32Array.from([0, 1]), trainOptions(seed, 3), step);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  assert.ok(
    captured?.training === true && captured.dropoutStream,
    "trainStep passes a training context with dropout streams",
  );
  return captured;
}

const rateArb = fc.double({ min: 0.05, max: 0.9, noNaN: true });

backendTest("dropout is the identity at evaluation, in either batch-norm evaluation mode", () => {
  check(
    fc.property(
      rateArb,
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer(),
      (rate, n, f, seed) => {
        const model = build([{ type: "dropout", rate }], [f], f, seed);
        try {
          tf.tidy(() => {
            const xs = uniform(seed, n * f, -3, 3);
            for (const ctx of [{ training: false }, { training: false, batchStatsAtEval: true }]) {
              assert.deepEqual(values(model.forward(batchOf(xs, [n, f]), ctx)), xs);
            }
          });
        } finally {
          model.dispose();
        }
      },
    ),
    depth(20, 200),
  );
});

backendTest(
  "in training, dropout zeroes a binomially plausible share of units and scales the rest by 1/(1 − rate)",
  () => {
    check(
      fc.property(
        rateArb,
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.nat(1000),
        (rate, seed, step) => {
          const ctx = trainingContext(seed, step, rate);
          const size = 4000;
          const mask = dropoutMask(ctx.dropoutStream!("00.dropout"), rate, size);
          const dropped = mask.filter((v) => v === 0).length;
          const sd = Math.sqrt(size * rate * (1 - rate));
          assert.ok(
            Math.abs(dropped - size * rate) <= Z * sd,
            `dropped ${dropped} of ${size} at rate ${rate}`,
          );
          const scale = Math.fround(1 / (1 - rate));
          assert.ok(
            mask.every((v) => v === 0 || v === scale),
            "mask entries are 0 or 1/(1 − rate)",
          );
          // Expectation preserved: mean(mask) estimates E[mask] = 1, with sd √(rate/((1 − rate)·n)).
          const mean = mask.reduce((a, b) => a + b, 0) / size;
          assert.ok(
            Math.abs(mean - 1) <= Z * Math.sqrt(rate / ((1 - rate) * size)),
            `mean mask ${mean}`,
          );
          // The layer multiplies its input by exactly that mask (the kernel's SIMD part and tail).
          const model = build([{ type: "dropout", rate }], [size / 4], size / 4, seed);
          try {
            tf.tidy(() => {
              const xs = uniform(seed, size, -3, 3);
              const out = values(model.forward(batchOf(xs, [4, size / 4]), ctx));
              assertClose(out, xs.map((x, i) => Math.fround(x * mask[i]!)), { abs: 0 }, "x · mask");
            });
          } finally {
            model.dispose();
          }
        },
      ),
      depth(10, 100),
    );
  },
);

backendTest(
  "dropout keeps the expected activation: the mean output over many steps approaches the input",
  () => {
    check(
      fc.property(rateArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (rate, seed) => {
        // Average x·mask over `steps` training steps for a handful of units.
        const units = 64;
        const steps = depth(60, 150);
        const model = build([{ type: "dropout", rate }], [units], units, seed);
        try {
          const xs = uniform(seed, units, 0.5, 2);
          const sum = new Float64Array(units);
          tf.tidy(() => {
            const x = batchOf(xs, [1, units]);
            for (let step = 0; step < steps; step++) {
              values(model.forward(x, trainingContext(seed, step, rate))).forEach((v, i) =>
                sum[i]! += v
              );
            }
          });
          // Per unit, the mean of x·mask over the steps has sd x·√(rate/((1 − rate)·steps)).
          let ratio = 0;
          for (let i = 0; i < units; i++) {
            const bound = Z * xs[i]! * Math.sqrt(rate / ((1 - rate) * steps));
            assert.ok(
              Math.abs(sum[i]! / steps - xs[i]!) <= bound,
              `unit ${i}: mean ${sum[i]! / steps} vs ${xs[i]}`,
            );
            ratio += sum[i]! / steps / xs[i]! / units;
          }
          // Pooled over units: mean of out/x over units·steps draws, sd √(rate/((1 − rate)·units·steps)).
          const pooled = Z * Math.sqrt(rate / ((1 - rate) * units * steps));
          assert.ok(
            Math.abs(ratio - 1) <= pooled,
            `mean output/input ${ratio}, expected 1 ± ${pooled}`,
          );
        } finally {
          model.dispose();
        }
      }),
      depth(5, 20),
    );
  },
);

backendTest(
  "dropout masks differ between steps and layers and are reproducible from the run's seed",
  () => {
    check(
      fc.property(
        rateArb,
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.nat(1000),
        fc.integer({ min: 256, max: 1024 }),
        (rate, seed, step, size) => {
          const maskOf = (ctx: ForwardContext, path: string) =>
            dropoutMask(ctx.dropoutStream!(path), rate, size);
          const a = trainingContext(seed, step, rate);
          const m = maskOf(a, "03.dropout");
          assert.deepEqual(
            maskOf(trainingContext(seed, step, rate), "03.dropout"),
            m,
            "same seed, step and layer: same mask",
          );
          assert.deepEqual(maskOf(a, "03.dropout"), m, "asking twice gives the same mask");
          // Two independent masks of ≥ 256 entries agree everywhere with probability ≤ 0.905^256 < 1e-11;
          // the fixed fast-check seed makes this deterministic.
          assert.notDeepEqual(
            maskOf(trainingContext(seed, step + 1, rate), "03.dropout"),
            m,
            "the next step draws a new mask",
          );
          assert.notDeepEqual(maskOf(a, "05.dropout"), m, "another layer draws another mask");
          assert.notDeepEqual(
            maskOf(trainingContext(seed + 1, step, rate), "03.dropout"),
            m,
            "another run seed draws another mask",
          );
        },
      ),
      depth(10, 100),
    );
  },
);

backendTest(
  "the dropout kernel equals x · mask bit for bit, at sizes around its SIMD blocks and group tails",
  () => {
    check(
      fc.property(
        fc.constantFrom(0.5, 0.25, 0.75, 0.125, 0.2, 0.3),
        fc.oneof(
          fc.integer({ min: 1, max: 100 }),
          fc.integer({ min: 1000, max: 5000 }),
          fc.constantFrom(1023, 1024, 1025, 2048, 4096 + 31, 4096 + 32, 4096 + 33),
        ),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rate, size, seed) => {
          const stream = dropoutStream(seed, "01.dropout", size);
          const mask = dropoutMask(stream, rate, size);
          const xs = uniform(seed, size, -3, 3);
          // Infinities and NaN are dropped to +0 as well (no 0 · ∞ = NaN leaking through).
          xs[0] = Infinity;
          if (size > 2) xs[2] = NaN;
          tf.tidy(() => {
            const out = values(dropout(tf.tensor1d(xs), stream, rate));
            for (let i = 0; i < size; i++) {
              const expected = mask[i] === 0 ? 0 : Math.fround(xs[i]! * mask[i]!);
              assert.ok(
                Object.is(out[i], expected),
                `element ${i} of ${size} at rate ${rate}: ${out[i]} vs ${expected}`,
              );
            }
          });
        },
      ),
      depth(40, 400),
    );
  },
);

backendTest(
  "the dropout gradient is the incoming gradient times the same mask, and matches finite differences",
  () => {
    check(
      fc.property(
        fc.constantFrom(0.5, 0.25, 0.2),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rate, size, seed) => {
          const stream = dropoutStream(seed, "02.dropout", 1);
          const mask = dropoutMask(stream, rate, size);
          const xs = uniform(seed, size, -1, 1, "x");
          const ws = uniform(seed, size, -1, 1, "w");
          tf.tidy(() => {
            const w = tf.tensor1d(ws);
            const f = (x: tf.Tensor) => tf.sum(tf.mul(dropout(x, stream, rate), w));
            const grad = values(tf.grad(f)(tf.tensor1d(xs)));
            for (let i = 0; i < size; i++) {
              const expected = mask[i] === 0 ? 0 : Math.fround(ws[i]! * mask[i]!);
              assert.ok(Object.is(grad[i], expected), `∂/∂x${i}: ${grad[i]} vs ${expected}`);
            }
            // Central differences on a few coordinates (f is linear in x: only rounding error).
            const eps = 1e-2;
            for (const i of [0, size >> 1, size - 1]) {
              const plus = Float32Array.from(xs);
              const minus = Float32Array.from(xs);
              plus[i] = plus[i]! + eps;
              minus[i] = minus[i]! - eps;
              const fd = (values(f(tf.tensor1d(plus)))[0]! - values(f(tf.tensor1d(minus)))[0]!) /
                (2 * eps);
              const tol = 2e-3 * Math.max(1, Math.sqrt(size));
              assert.ok(
                Math.abs(fd - grad[i]!) <= tol,
                `x${i}: finite difference ${fd} vs ${grad[i]}`,
              );
            }
          });
        },
      ),
      depth(15, 150),
    );
  },
);
