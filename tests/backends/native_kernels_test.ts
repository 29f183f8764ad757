/**
 * Every native (oneDNN) kernel against TF.js's `cpu` backend in the same
 * process, over random shapes, strides, paddings and dilations. Skipped, with
 * the reason in each test name, where oneDNN is not installed.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs-core";
import { nativeKernelCounts, resetNativeKernelCounts } from "../../lib/backends/native/stats.ts";
import { batchNormTrain, conv2d as dilatedConv2d } from "../../lib/models/ops.ts";
import { nativeTest, relErr } from "./_native.ts";

/** Uniform values in [-1, 1) from a small seeded generator (mulberry32). */
function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** A tensor of `shape` with seeded values in [-1, 1). */
function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randoms(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** A tensor of small integers 0..3 (many ties, many zeros as after ReLU). */
function ties(shape: number[], seed: number): tf.Tensor {
  const v = randoms(shape.reduce((a, b) => a * b, 1), seed).map((x) =>
    Math.max(0, Math.floor(x * 4))
  );
  return tf.tensor(v, shape);
}

/** `fn`'s outputs on `cpu` (reference) and on `wasm` with the native kernels. */
async function onBoth(
  fn: () => tf.Tensor[],
): Promise<{ cpu: Float32Array[]; native: Float32Array[] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const outs = tf.tidy(fn);
    const data = outs.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    tf.dispose(outs);
    return data;
  };
  const cpu = await run("cpu");
  const nat = await run("wasm");
  return { cpu, native: nat };
}

/** Assert each native output within `tol` of cpu's (relative error). */
async function agree(label: string, fn: () => tf.Tensor[], tol = 1e-4): Promise<void> {
  const { cpu, native: nat } = await onBoth(fn);
  cpu.forEach((ref, i) => {
    const e = relErr(nat[i]!, ref);
    assert.ok(e <= tol, `${label}: output ${i} relative error ${e.toExponential(2)} > ${tol}`);
  });
}

/** Assert the kernels ran natively (at least once, never falling back) since the last reset. */
function assertNative(...kernels: string[]): void {
  const counts = nativeKernelCounts();
  for (const k of kernels) {
    assert.ok(
      (counts[k]?.native ?? 0) > 0,
      `${k} never ran natively: ${JSON.stringify(counts[k])}`,
    );
    assert.equal(counts[k]?.fallback ?? 0, 0, `${k} fell back to wasm`);
  }
}

type Pad = "same" | "valid" | [[0, 0], [number, number], [number, number], [0, 0]];

const convCase = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 11 }),
  w: fc.integer({ min: 1, max: 11 }),
  ci: fc.integer({ min: 1, max: 6 }),
  co: fc.integer({ min: 1, max: 6 }),
  kh: fc.integer({ min: 1, max: 5 }),
  kw: fc.integer({ min: 1, max: 5 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  pad: fc.oneof(
    fc.constantFrom<Pad>("same", "valid"),
    fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)).map(
      ([t, b, l, r]): Pad => [[0, 0], [t, b], [l, r], [0, 0]],
    ),
  ),
  seed: fc.integer(),
}).filter((c) => {
  if (c.dilation > 1 && c.stride > 1) return false;
  const eh = (c.kh - 1) * c.dilation + 1;
  const ew = (c.kw - 1) * c.dilation + 1;
  const [ph, pw] = typeof c.pad === "string"
    ? [0, 0]
    : [c.pad[1][0] + c.pad[1][1], c.pad[2][0] + c.pad[2][1]];
  return c.pad === "same" || (c.h + ph >= eh && c.w + pw >= ew);
});

nativeTest(
  "Conv2D and its input and filter gradients match cpu over random geometries",
  async () => {
    resetNativeKernelCounts();
    await fc.assert(
      fc.asyncProperty(convCase.filter((c) => c.dilation === 1), async (c) => {
        await agree(JSON.stringify(c), () => {
          const x = rand([c.n, c.h, c.w, c.ci], c.seed) as tf.Tensor4D;
          const w = rand([c.kh, c.kw, c.ci, c.co], c.seed + 1) as tf.Tensor4D;
          const f = (a: tf.Tensor, b: tf.Tensor) =>
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad);
          const y = f(x, w);
          const r = rand(y.shape, c.seed + 2);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([
            x,
            w,
          ]);
          return [y, dx!, dw!];
        });
      }),
      { numRuns: 40 },
    );
    assertNative("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter");
  },
);

nativeTest("dilated Conv2D and the harness's dilated-convolution gradient match cpu", async () => {
  resetNativeKernelCounts();
  await fc.assert(
    fc.asyncProperty(
      convCase.filter((c) => c.dilation === 2 && typeof c.pad === "string"),
      async (c) => {
        await agree(JSON.stringify(c), () => {
          const x = rand([c.n, c.h, c.w, c.ci], c.seed) as tf.Tensor4D;
          const w = rand([c.kh, c.kw, c.ci, c.co], c.seed + 1) as tf.Tensor4D;
          const pad = c.pad as "same" | "valid";
          const f = (a: tf.Tensor, b: tf.Tensor) =>
            dilatedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad, 2);
          const y = f(x, w);
          const r = rand(y.shape, c.seed + 2);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([
            x,
            w,
          ]);
          return [y, dx!, dw!];
        });
      },
    ),
    { numRuns: 15 },
  );
  assertNative("Conv2D");
});

nativeTest("the convolutions the models use match cpu at training sizes", async () => {
  const cases: { k: number; stride: number; pad: "same" | "valid"; dilation: number }[] = [
    { k: 3, stride: 1, pad: "same", dilation: 1 },
    { k: 5, stride: 1, pad: "valid", dilation: 1 },
    { k: 5, stride: 1, pad: "same", dilation: 1 },
    { k: 5, stride: 2, pad: "valid", dilation: 1 },
    { k: 1, stride: 1, pad: "valid", dilation: 1 },
    { k: 1, stride: 2, pad: "valid", dilation: 1 },
    { k: 3, stride: 1, pad: "same", dilation: 2 },
  ];
  resetNativeKernelCounts();
  for (const [i, c] of cases.entries()) {
    await agree(JSON.stringify(c), () => {
      const x = rand([4, 14, 14, 8], i) as tf.Tensor4D;
      const w = rand([c.k, c.k, 8, 16], i + 100) as tf.Tensor4D;
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        dilatedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, c.dilation);
      const y = f(x, w);
      const r = rand(y.shape, i + 200);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([x, w]);
      return [y, dx!, dw!];
    });
  }
  assertNative("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter");
});

nativeTest("FusedConv2D with bias and a linear or ReLU activation matches cpu", async () => {
  resetNativeKernelCounts();
  await fc.assert(
    fc.asyncProperty(
      convCase,
      fc.constantFrom("linear", "relu"),
      fc.boolean(),
      async (c, activation, withBias) => {
        await agree(JSON.stringify({ ...c, activation, withBias }), () => {
          const x = rand([c.n, c.h, c.w, c.ci], c.seed) as tf.Tensor4D;
          const filter = rand([c.kh, c.kw, c.ci, c.co], c.seed + 1) as tf.Tensor4D;
          const bias = withBias ? rand([c.co], c.seed + 2) : undefined;
          return [
            tf.fused.conv2d({
              x,
              filter,
              strides: c.stride,
              pad: c.pad,
              dilations: c.dilation,
              activation: activation as "linear" | "relu",
              ...(bias ? { bias } : {}),
            }),
          ];
        });
      },
    ),
    { numRuns: 30 },
  );
  assertNative("FusedConv2D");
});

nativeTest(
  "FusedConv2D with an activation oneDNN is not given (elu) falls back to wasm correctly",
  async () => {
    resetNativeKernelCounts();
    await agree("elu", () => {
      const x = rand([2, 6, 6, 3], 1) as tf.Tensor4D;
      const filter = rand([3, 3, 3, 4], 2) as tf.Tensor4D;
      return [tf.fused.conv2d({ x, filter, strides: 1, pad: "same", activation: "elu" })];
    });
    assert.equal(nativeKernelCounts()["FusedConv2D"]?.fallback, 1);
  },
);

const poolCase = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 10 }),
  w: fc.integer({ min: 1, max: 10 }),
  c: fc.integer({ min: 1, max: 20 }),
  size: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 3 }),
  pad: fc.constantFrom<"same" | "valid">("same", "valid"),
  seed: fc.integer(),
}).filter((c) => c.pad === "same" || (c.h >= c.size && c.w >= c.size));

nativeTest(
  "MaxPool and MaxPoolGrad match cpu, sending each gradient to the first maximum of ties",
  async () => {
    resetNativeKernelCounts();
    await fc.assert(
      fc.asyncProperty(poolCase, fc.boolean(), async (c, tied) => {
        await agree(JSON.stringify({ ...c, tied }), () => {
          const shape = [c.n, c.h, c.w, c.c];
          const x = (tied ? ties(shape, c.seed) : rand(shape, c.seed)) as tf.Tensor4D;
          const f = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, c.size, c.stride, c.pad);
          const y = f(x);
          const r = rand(y.shape, c.seed + 1);
          const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), r)))(x);
          return [y, dx];
          // A gradient sent to the wrong tie is off by O(1); overlapping windows sum in another order.
        }, 1e-6);
      }),
      { numRuns: 60 },
    );
    // Training sizes (oneDNN's vectorised NHWC path), zeros and small integers: many ties.
    for (const [shape, seed] of [[[4, 28, 28, 32], 1], [[4, 7, 7, 128], 2]] as const) {
      await agree(`training shape ${shape}`, () => {
        const x = ties([...shape], seed) as tf.Tensor4D;
        const r = rand([shape[0], shape[1] >> 1, shape[2] >> 1, shape[3]], seed + 1);
        const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, "valid"), r));
        return [tf.grad(f)(x)];
      }, 0);
    }
    assertNative("MaxPool", "MaxPoolGrad");
  },
);

nativeTest("AvgPool and AvgPoolGrad match cpu", async () => {
  resetNativeKernelCounts();
  await fc.assert(
    fc.asyncProperty(poolCase, async (c) => {
      await agree(JSON.stringify(c), () => {
        const x = rand([c.n, c.h, c.w, c.c], c.seed) as tf.Tensor4D;
        const f = (a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, c.size, c.stride, c.pad);
        const y = f(x);
        const r = rand(y.shape, c.seed + 1);
        return [y, tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), r)))(x)];
      });
    }),
    { numRuns: 30 },
  );
  assertNative("AvgPool", "AvgPoolGrad");
});

nativeTest("training batch norm and its gradient match cpu for ranks 2 to 4", async () => {
  resetNativeKernelCounts();
  const shapes = fc.oneof(
    fc.tuple(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 1, max: 40 })),
    fc.tuple(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 20 }),
    ),
    fc.tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 40 }),
    ),
  ).filter((s) => s.slice(0, -1).reduce((a, b) => a * b, 1) > 1);
  await fc.assert(
    fc.asyncProperty(
      shapes,
      fc.constantFrom(1e-3, 1e-5),
      fc.integer(),
      async (shape, eps, seed) => {
        await agree(JSON.stringify({ shape, eps }), () => {
          const c = shape[shape.length - 1]!;
          const x = tf.add(tf.mul(rand(shape, seed), 3), 0.5);
          const gamma = rand([c], seed + 1) as tf.Tensor1D;
          const beta = rand([c], seed + 2) as tf.Tensor1D;
          const { y, mean, variance } = batchNormTrain(x, gamma, beta, eps);
          const r = rand(shape, seed + 3);
          const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(batchNormTrain(a, g as tf.Tensor1D, b as tf.Tensor1D, eps).y, r))
          )([x, gamma, beta]);
          return [y, mean, variance, ...grads];
        });
      },
    ),
    { numRuns: 40 },
  );
  assertNative("BnlabBatchNormTrain", "BnlabBatchNormTrainGrad");
});

nativeTest(
  "BatchMatMul with transposes and broadcast batches, and _FusedMatMul, match cpu",
  async () => {
    resetNativeKernelCounts();
    const dim = fc.integer({ min: 1, max: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({ batch: fc.constantFrom(0, 1, 3), m: dim, k: dim, n: dim }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("a", "b", "none"),
        fc.integer(),
        async ({ batch, m, k, n }, ta, tb, broadcast, seed) => {
          await agree(JSON.stringify({ batch, m, k, n, ta, tb, broadcast }), () => {
            const lead = (side: string) => batch === 0 ? [] : [broadcast === side ? 1 : batch];
            const a = rand([...lead("a"), ...(ta ? [k, m] : [m, k])], seed);
            const b = rand([...lead("b"), ...(tb ? [n, k] : [k, n])], seed + 1);
            const plain = tf.matMul(a, b, ta, tb);
            if (batch !== 0) return [plain];
            const bias = rand([n], seed + 2);
            const fused = tf.fused.matMul({
              a: a as tf.Tensor2D,
              b: b as tf.Tensor2D,
              transposeA: ta,
              transposeB: tb,
              bias,
              activation: "relu",
            });
            return [plain, fused];
          });
        },
      ),
      { numRuns: 40 },
    );
    assertNative("BatchMatMul", "_FusedMatMul");
  },
);

nativeTest("Sum over leading or trailing axes matches cpu", async () => {
  resetNativeKernelCounts();
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
      fc.nat(),
      fc.integer(),
      async (shape, leading, keepDims, count, seed) => {
        const k = 1 + (count % shape.length);
        const axes = leading
          ? Array.from({ length: k }, (_, i) => i)
          : Array.from({ length: k }, (_, i) => shape.length - k + i);
        await agree(JSON.stringify({ shape, axes, keepDims }), () => {
          const y = tf.sum(rand(shape, seed), axes, keepDims);
          assert.deepEqual(y.shape, tf.tidy(() => tf.sum(tf.zeros(shape), axes, keepDims).shape));
          return [y];
        });
      },
    ),
    { numRuns: 40 },
  );
  assertNative("Sum");
});
