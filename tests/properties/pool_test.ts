/**
 * Properties of max and average pooling (the `maxpool`, `avgpool` and `gap`
 * layers of lib/models/build.ts) and of the max-pooling gradient, whose wasm
 * kernel the harness replaces (lib/backends/kernels/max_pool_grad.ts), and of
 * the layers' training max pooling, which hands its argmax to the gradient
 * (lib/backends/kernels/max_pool_train.ts), on cpu, wasm and native. Expected
 * values come from plain loops in this file.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/pool_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { maxPool as opsMaxPool } from "../../lib/models/ops.ts";
import type { Padding } from "../../lib/models/types.ts";
import { rngAt } from "../../lib/rng.ts";
import { build } from "./_models.ts";
import {
  assertClose,
  backendTest,
  batchOf,
  check,
  depth,
  integers,
  uniform,
  values,
} from "./_prop.ts";

interface PoolCase {
  n: number;
  h: number;
  w: number;
  c: number;
  size: number;
  stride: number;
  padding: Padding;
  seed: number;
}

const poolArb: fc.Arbitrary<PoolCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: depth(8, 14) }),
    w: fc.integer({ min: 1, max: depth(8, 14) }),
    c: fc.integer({ min: 1, max: 3 }),
    size: fc.constantFrom(1, 2, 2, 3),
    stride: fc.constantFrom(1, 2, 2, 3),
    padding: fc.constantFrom<Padding>("valid", "valid", "same"),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map((
    p,
  ) => (p.padding === "valid" ? { ...p, h: Math.max(p.h, p.size), w: Math.max(p.w, p.size) } : p));

/**
 * The input positions (flat NHWC indices, row-major within the window) of
 * every output window, following TensorFlow's padding (windows clipped to the image).
 */
function windows(p: PoolCase): { out: number[]; windows: number[][] } {
  const info = tf.backend_util.computePool2DInfo(
    [p.n, p.h, p.w, p.c],
    p.size,
    p.stride,
    1,
    p.padding,
  );
  const result: number[][] = [];
  for (let b = 0; b < p.n; b++) {
    for (let oy = 0; oy < info.outHeight; oy++) {
      for (let ox = 0; ox < info.outWidth; ox++) {
        for (let k = 0; k < p.c; k++) {
          const win: number[] = [];
          for (
            let i = oy * p.stride - info.padInfo.top;
            i < oy * p.stride - info.padInfo.top + p.size;
            i++
          ) {
            for (
              let j = ox * p.stride - info.padInfo.left;
              j < ox * p.stride - info.padInfo.left + p.size;
              j++
            ) {
              if (i >= 0 && i < p.h && j >= 0 && j < p.w) {
                win.push(((b * p.h + i) * p.w + j) * p.c + k);
              }
            }
          }
          result.push(win);
        }
      }
    }
  }
  return { out: [p.n, info.outHeight, info.outWidth, p.c], windows: result };
}

function maxPool(x: tf.Tensor, p: PoolCase): tf.Tensor {
  return tf.maxPool(x as tf.Tensor4D, p.size, p.stride, p.padding);
}

function layerMaxPool(x: tf.Tensor, p: PoolCase): tf.Tensor {
  return opsMaxPool(x as tf.Tensor4D, p.size, p.stride, p.padding);
}

backendTest(
  "the layers' max pooling gives the bits of tf.maxPool and its gradient while training",
  () => {
    check(
      fc.property(poolArb, (p) => {
        tf.tidy(() => {
          const shape = [p.n, p.h, p.w, p.c];
          const xs = uniform(p.seed, p.n * p.h * p.w * p.c, -2, 2);
          const pick = uniform(p.seed, xs.length, 0, 1, "pick");
          xs.forEach((_, i) => {
            if (pick[i]! < 0.3) xs[i] = pick[i]! < 0.1 ? 0 : pick[i]! < 0.2 ? -0 : 1;
            else if (pick[i]! > 0.98) xs[i] = [NaN, Infinity, -Infinity][i % 3]!;
          });
          const x = tf.tensor(xs, shape);
          const dy = tf.tensor(
            uniform(p.seed, windows(p).windows.length, -1, 1, "dy"),
            windows(p).out,
          );
          const run = (pool: typeof maxPool) => {
            const { value, grads } = tf.valueAndGrads((t: tf.Tensor) =>
              tf.sum(tf.mul(pool(t, p), dy))
            )([x]);
            return { y: values(pool(x, p)), loss: values(value), dx: values(grads[0]!) };
          };
          assert.deepEqual(run(layerMaxPool), run(maxPool));
        });
      }),
      depth(40, 400),
    );
  },
);

backendTest(
  "max pooling outputs exactly each window's maximum, so never more than any window's max",
  () => {
    check(
      fc.property(poolArb, (p) => {
        tf.tidy(() => {
          const xs = uniform(p.seed, p.n * p.h * p.w * p.c, -2, 2);
          const { out, windows: wins } = windows(p);
          const y = maxPool(tf.tensor(xs, [p.n, p.h, p.w, p.c]), p);
          assert.deepEqual(y.shape, out);
          const expected = wins.map((win) => Math.max(...win.map((i) => xs[i]!)));
          assert.deepEqual(Array.from(values(y)), expected);
        });
      }),
      depth(30, 300),
    );
  },
);

backendTest("max pooling is invariant to permutations inside each (non-overlapping) window", () => {
  const arb = poolArb.map((p) => ({
    ...p,
    stride: p.size,
    padding: "valid" as Padding,
    h: Math.max(p.h, p.size),
    w: Math.max(p.w, p.size),
  }));
  check(
    fc.property(arb, (p) => {
      tf.tidy(() => {
        const shape = [p.n, p.h, p.w, p.c];
        // Few distinct values, so windows contain ties too.
        const xs = integers(p.seed, p.n * p.h * p.w * p.c, -3, 3);
        const permuted = Float32Array.from(xs);
        const rng = rngAt(p.seed, "permute");
        for (const win of windows(p).windows) {
          const vals = rng.shuffle(win.map((i) => xs[i]!));
          win.forEach((i, j) => (permuted[i] = vals[j]!));
        }
        assert.deepEqual(
          values(maxPool(tf.tensor(permuted, shape), p)),
          values(maxPool(tf.tensor(xs, shape), p)),
        );
      });
    }),
    depth(30, 300),
  );
});

backendTest("average pooling outputs each window's mean over the pixels inside the image", () => {
  check(
    fc.property(poolArb, (p) => {
      tf.tidy(() => {
        const xs = uniform(p.seed, p.n * p.h * p.w * p.c, -2, 2);
        const y = tf.avgPool(
          tf.tensor(xs, [p.n, p.h, p.w, p.c]) as tf.Tensor4D,
          p.size,
          p.stride,
          p.padding,
        );
        const expected = windows(p).windows.map((win) =>
          win.reduce((s, i) => s + xs[i]!, 0) / win.length
        );
        assertClose(values(y), expected, { abs: 1e-6, rel: 1e-6 }, "window means");
      });
    }),
    depth(30, 300),
  );
});

backendTest(
  "the global average pooling layer outputs each example's per-channel mean over all positions",
  () => {
    check(
      fc.property(poolArb, (p) => {
        const model = build([{ type: "gap" }], [p.h, p.w, p.c], p.c, p.seed);
        try {
          tf.tidy(() => {
            const xs = uniform(p.seed, p.n * p.h * p.w * p.c, -2, 2);
            const expected = new Float64Array(p.n * p.c);
            xs.forEach((v, i) => {
              const b = Math.floor(i / (p.h * p.w * p.c));
              expected[b * p.c + (i % p.c)]! += v / (p.h * p.w);
            });
            for (const training of [true, false]) {
              const y = model.forward(batchOf(xs, [p.n, p.h, p.w, p.c]), { training });
              assertClose(values(y), expected, { abs: 1e-6, rel: 1e-6 }, "GAP");
            }
          });
        } finally {
          model.dispose();
        }
      }),
      depth(30, 300),
    );
  },
);

backendTest(
  "the max-pooling gradient goes to each window's first maximum in row-major order, ties included",
  () => {
    check(
      fc.property(poolArb, fc.constantFrom(2, 3), (p, levels) => {
        tf.tidy(() => {
          const shape = [p.n, p.h, p.w, p.c];
          // Values from a few levels (0 common, as after ReLU): many ties.
          const xs = integers(p.seed, p.n * p.h * p.w * p.c, 0, levels - 1).map((v) =>
            Math.max(0, v - 1) * 0.5
          );
          const { out, windows: wins } = windows(p);
          // Integer upstream gradients: every sum is exact in float32, so equality is exact.
          const dys = integers(p.seed, wins.length, 1, 1000, "dy");
          const expected = new Float32Array(xs.length);
          wins.forEach((win, o) => {
            let best = win[0]!;
            for (const i of win) if (xs[i]! > xs[best]!) best = i;
            expected[best]! += dys[o]!;
          });
          // tf.maxPool, and the layers' op (its own training kernel while a gradient is taped).
          for (const pool of [maxPool, layerMaxPool]) {
            const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tensor(dys, out), pool(x, p))))(
              tf.tensor(xs, shape),
            );
            assert.deepEqual(values(dx), expected, pool.name);
          }
        });
      }),
      depth(40, 400),
    );
  },
);
