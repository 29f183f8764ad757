/**
 * The fused element-wise kernels (lib/backends/kernels/elementwise.ts) give
 * exactly the bits of the TF.js computations they replace:
 *
 * - `FusedBatchNorm` on wasm (and native, which runs it on the wasm heap)
 *   against the kernel tfjs-backend-wasm ships, over random shapes (channel
 *   counts that are and are not multiples of 4, so both the SIMD pass and the
 *   TypeScript remainder run), epsilons and values including zeros of both
 *   signs, subnormals, infinities and NaN;
 * - `BnlabAdam` (through `FusedAdam`, lib/train/adam.ts) against tfjs-core's
 *   own `AdamOptimizer` on cpu, wasm and native: weights, both moments and the
 *   bias-correction accumulators after every step, with the learning rate
 *   changed between steps as the schedule does;
 * - `BnlabReluGrad` against tfjs-core's dy·step(x) (`Step`, `Cast`, `Multiply`)
 *   on cpu, wasm and native, and the gradient `tf.grad` takes through a ReLU;
 * - `Tanh` on wasm and native, and its TypeScript reference `tanhf`, against
 *   the kernel tfjs-backend-wasm ships, over bit patterns spread across all of
 *   float32 and random values of every scale;
 * - `BnlabTanhGrad` against tfjs-core's (1 − y²)·dy (`Square`, `Sub`,
 *   `Multiply`) on cpu, wasm and native, and through `tf.grad`.
 *
 * NaNs compare equal to any NaN (SIMD and scalar code may produce different
 * NaN payloads); every other value must match bit for bit.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep (see `_prop.ts`;
 * native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/elementwise_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { RELU_GRAD, TANH_GRAD, tanhf } from "../../lib/backends/kernels/elementwise.ts";
import { shippedKernel } from "../../lib/backends/registry.ts";
import { FusedAdam } from "../../lib/train/adam.ts";
import {
  ACCELERATED,
  assertSameBits,
  BACKENDS,
  backendTest,
  check,
  depth,
  sizeOf,
  uniform,
  values,
} from "./_prop.ts";

/** Values that stress rounding and special cases, mixed into random data at random places. */
const SPECIAL = [0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 1, -1];

/** `n` values from the stream, a share of them replaced by special values. */
function stressed(
  seed: number,
  n: number,
  scale: number,
  ...path: (string | number)[]
): Float32Array {
  const out = uniform(seed, n, -scale, scale, ...path);
  const pick = uniform(seed, n, 0, 1, ...path, "pick");
  for (let i = 0; i < n; i++) {
    if (pick[i]! < 0.08) out[i] = SPECIAL[Math.floor((pick[i]! / 0.08) * SPECIAL.length)]!;
  }
  return out;
}

const batchNormArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: depth(5, 9) }),
  w: fc.integer({ min: 1, max: depth(5, 9) }),
  c: fc.integer({ min: 1, max: depth(40, 130) }),
  epsilon: fc.constantFrom(1e-3, 1e-5, 0.1, 1, 1e-7),
  special: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

backendTest(
  "inference batch norm gives the bits of the wasm kernel TF.js ships",
  () => {
    const shipped = shippedKernel("FusedBatchNorm", "wasm");
    assert.ok(shipped, "TF.js ships no wasm FusedBatchNorm");
    check(
      fc.property(batchNormArb, ({ n, h, w, c, epsilon, special, seed }) => {
        const shape = [n, h, w, c];
        const data = (what: string, lo: number, hi: number) =>
          special ? stressed(seed, what === "x" ? sizeOf(shape) : c, hi, what) : uniform(
            seed,
            what === "x" ? sizeOf(shape) : c,
            lo,
            hi,
            what,
          );
        const x = data("x", -4, 4);
        const mean = data("mean", -1, 1);
        const variance = uniform(seed, c, 0, 3, "variance");
        if (special) variance[0] = 0;
        const scale = data("scale", -2, 2);
        const offset = data("offset", -1, 1);
        tf.tidy(() => {
          const t = (v: Float32Array, s: number[]) => tf.tensor(v, s, "float32");
          const inputs = {
            x: t(x, shape),
            mean: t(mean, [c]),
            variance: t(variance, [c]),
            offset: t(offset, [c]),
            scale: t(scale, [c]),
          };
          const attrs = { varianceEpsilon: epsilon };
          const fused = tf.engine().runKernel("FusedBatchNorm", inputs, attrs) as tf.Tensor;
          const backend = tf.backend();
          const info = shipped({ inputs, backend, attrs } as never) as tf.TensorInfo;
          const reference = tf.engine().makeTensorFromTensorInfo(info, backend);
          assertSameBits(values(fused), values(reference), `shape ${shape}, epsilon ${epsilon}`);
        });
      }),
      40,
    );
  },
  ACCELERATED,
);

backendTest(
  "tf.batchNorm runs the replacement, with float32 (x − mean)·scale and a float64 divide-and-add",
  () => {
    const installed = tf.getKernel("FusedBatchNorm", "wasm")?.kernelFunc;
    assert.ok(installed && installed !== shippedKernel("FusedBatchNorm", "wasm"));
    tf.tidy(() => {
      const x = tf.tensor4d(uniform(7, 2 * 3 * 3 * 8), [2, 3, 3, 8]);
      const c = (v: number) => tf.fill([8], v) as tf.Tensor1D;
      const y = tf.batchNorm(x, c(0.5), c(4), c(1), c(2), 1e-3);
      const f = Math.fround;
      const factor = f(Math.sqrt(f(4 + f(1e-3))));
      const expected = Float32Array.from(x.dataSync(), (v) => f(1 + f(f(v - 0.5) * 2) / factor));
      assertSameBits(values(y), expected, "tf.batchNorm");
    });
  },
  ACCELERATED,
);

const adamArb = fc.record({
  shapes: fc.array(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 }), {
    minLength: 1,
    maxLength: 4,
  }),
  beta1: fc.constantFrom(0.9, 0.5, 0.99),
  beta2: fc.constantFrom(0.999, 0.9),
  epsilon: fc.constantFrom(1e-7, 1e-8, 1e-3),
  lrs: fc.array(fc.constantFrom(1e-3, 1e-2, 3e-4, 0.1), { minLength: 1, maxLength: depth(5, 12) }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

backendTest("the fused Adam step gives the bits of tfjs-core's Adam, step after step", () => {
  check(
    fc.property(adamArb, ({ shapes, beta1, beta2, epsilon, lrs, seed }) => {
      const make = (tag: string) =>
        shapes.map((s, i) =>
          tf.tidy(() =>
            tf.variable(
              tf.tensor(uniform(seed, sizeOf(s), -1, 1, "w", i), s),
              true,
              `${tag}${seed}_${i}`,
            )
          )
        );
      const stock = tf.train.adam(lrs[0], beta1, beta2, epsilon);
      const fused = new FusedAdam(lrs[0]!, beta1, beta2, epsilon);
      const a = make("stock");
      const b = make("fused");
      try {
        lrs.forEach((lr, step) => {
          (stock as unknown as { learningRate: number }).learningRate = lr;
          (fused as unknown as { learningRate: number }).learningRate = lr;
          tf.tidy(() => {
            const grads = shapes.map((s, i) =>
              tf.tensor(stressedGrad(seed, sizeOf(s), step, i), s)
            );
            stock.applyGradients(named(a, grads));
            fused.applyGradients(named(b, grads));
          });
          a.forEach((v, i) =>
            assertSameBits(values(b[i]!), values(v), `weights ${i} after step ${step + 1}`)
          );
          const state = (o: tf.Optimizer) =>
            o as unknown as {
              accumulatedFirstMoment: { variable: tf.Variable }[];
              accumulatedSecondMoment: { variable: tf.Variable }[];
              accBeta1: tf.Variable;
              accBeta2: tf.Variable;
              iterations: number;
            };
          const [s, f] = [state(stock), state(fused)];
          for (const key of ["accumulatedFirstMoment", "accumulatedSecondMoment"] as const) {
            s[key].forEach((m, i) =>
              assertSameBits(
                values(f[key][i]!.variable),
                values(m.variable),
                `${key} ${i}, step ${step + 1}`,
              )
            );
          }
          assertSameBits(values(f.accBeta1), values(s.accBeta1), "accBeta1");
          assertSameBits(values(f.accBeta2), values(s.accBeta2), "accBeta2");
          assert.equal(f.iterations, s.iterations);
        });
      } finally {
        stock.dispose();
        fused.dispose();
        tf.dispose([...a, ...b]);
      }
    }),
    25,
  );
}, BACKENDS);

type Gradients = Parameters<tf.AdamOptimizer["applyGradients"]>[0];

/** The gradients as `applyGradients` takes them from `tf.variableGrads` (a map by variable name). */
function named(variables: tf.Variable[], grads: tf.Tensor[]): Gradients {
  return Object.fromEntries(variables.map((v, i) => [v.name, grads[i]!])) as Gradients;
}

/** Gradients of one step: mostly moderate values, some tiny, huge or zero (no infinities: Adam would make NaN weights). */
function stressedGrad(seed: number, n: number, step: number, i: number): Float32Array {
  const g = uniform(seed, n, -2, 2, "g", step, i);
  const pick = uniform(seed, n, 0, 1, "g-pick", step, i);
  const special = [0, -0, 1e-40, -1e-30, 1e20, -1e20, 1e-6];
  for (let k = 0; k < n; k++) {
    if (pick[k]! < 0.1) g[k] = special[Math.floor((pick[k]! / 0.1) * special.length)]!;
  }
  return g;
}

const reluArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

backendTest(
  "the fused ReLU gradient gives the bits of dy·step(x), NaN and signed zeros included",
  () => {
    check(
      fc.property(reluArb, ({ shape, seed }) => {
        const n = sizeOf(shape);
        tf.tidy(() => {
          const dy = tf.tensor(stressed(seed, n, 3, "dy"), shape);
          const x = tf.tensor(stressed(seed, n, 3, "x"), shape);
          const fused = tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
          const stock = tf.mul(dy, tf.cast(tf.step(x), "float32"));
          assertSameBits(values(fused), values(stock), `shape ${shape}`);
          const [viaGrad] = tf.grads((t: tf.Tensor) => tf.relu(t))([x], dy);
          assertSameBits(values(viaGrad!), values(stock), `tf.grads, shape ${shape}`);
        });
      }),
      40,
    );
  },
  BACKENDS,
);

backendTest(
  "Tanh gives the bits of the wasm kernel TF.js ships, over a sweep of every float32 class",
  () => {
    const shipped = shippedKernel("Tanh", "wasm");
    assert.ok(shipped, "TF.js ships no wasm Tanh");
    // Bit patterns spread over all of float32 (both signs, subnormals, ±inf, NaNs), an
    // odd count so the TypeScript remainder runs too, then random values of every scale.
    const n = depth(262_147, 4_194_307);
    const patterns = Uint32Array.from({ length: n }, (_, i) => Math.floor(i * (2 ** 32 / n)) >>> 0);
    const sweep = new Float32Array(patterns.buffer);
    // Most values where tanhf's paths meet (|x| < 1: a mistake in one rounding there
    // shows in about 1 value in 10,000), a few at every scale.
    const scales = [1, 1e-30, 1e-3, 0.3, 4, 12, 100];
    const random = Float32Array.from(
      scales.flatMap((s, i) => Array.from(uniform(i, i === 0 ? 200_003 : 4_001, -s, s, "tanh"))),
    );
    for (const [what, data] of [["sweep", sweep], ["random", random]] as const) {
      tf.tidy(() => {
        const x = tf.tensor1d(data);
        const backend = tf.backend();
        const info = shipped({ inputs: { x }, backend } as never) as tf.TensorInfo;
        const reference = tf.engine().makeTensorFromTensorInfo(info, backend);
        const expected = values(reference);
        assertSameBits(values(tf.tanh(x)), expected, what);
        assertSameBits(Float32Array.from(data, tanhf), expected, `${what}, TypeScript reference`);
      });
    }
  },
  ACCELERATED,
);

backendTest(
  "the fused Tanh gradient gives the bits of tfjs-core's (1 - y²)·dy",
  () => {
    check(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (shape, seed) => {
          const n = sizeOf(shape);
          tf.tidy(() => {
            const dy = tf.tensor(stressed(seed, n, 3, "dy"), shape);
            const x = tf.tensor(stressed(seed, n, 3, "x"), shape);
            const y = tf.tanh(x);
            const fused = tf.engine().runKernel(TANH_GRAD, { dy, y }) as tf.Tensor;
            const stock = tf.mul(tf.sub(tf.scalar(1), tf.square(y)), dy);
            assertSameBits(values(fused), values(stock), `shape ${shape}`);
            const [viaGrad] = tf.grads((t: tf.Tensor) => tf.tanh(t))([x], dy);
            assertSameBits(values(viaGrad!), values(stock), `tf.grads, shape ${shape}`);
          });
        },
      ),
      40,
    );
  },
  BACKENDS,
);
