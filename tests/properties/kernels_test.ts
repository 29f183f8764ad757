/**
 * Every kernel the harness replaces on wasm (lib/backends/wasm.ts,
 * lib/backends/kernels/) — and its native counterpart when oneDNN loads —
 * agrees with the `cpu` backend over random shapes, strides and paddings:
 * Conv2DBackpropFilter, Conv2DBackpropInput, BatchMatMul with transposes,
 * MaxPoolGrad, Sum, BnlabBatchNormTrain and BnlabBatchNormTrainGrad (and
 * Identity and Cast share memory safely); and so does
 * the whole gradient of small models of every experiment's kind.
 *
 * Kernels are called directly (`runKernel`) with the same inputs on `cpu` and
 * on the backend under test. Agreement is measured as the norm-wise relative
 * error max|a − e| / max|e| ≤ 1e-4 (float32 sums of up to a few hundred terms
 * in a different order differ by far less; a wrong index or a missing term
 * is of the order of the values). Outputs that can nearly vanish by
 * cancellation (batch-norm mean and gradients) are measured against the
 * magnitude of the terms they are computed from instead. Where TF.js ships a kernel that the harness
 * replaced, the replacement is also compared with the shipped kernel
 * (`shippedKernel` of lib/backends/registry.ts).
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/kernels_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from "../../lib/backends/kernels/batch_norm.ts";
import { shippedKernel } from "../../lib/backends/registry.ts";
import { buildCase, GRAD_CASES, lossFunction } from "./_cases.ts";
import {
  ACCELERATED,
  assertRelErr,
  assertWithin,
  type Backend,
  backendTest,
  checkAsync,
  depth,
  maxAbs,
  on,
  scoped,
  sizeOf,
  uniform,
  values,
} from "./_prop.ts";

const TOL = 1e-4;

type Pad = "same" | "valid" | number;

/** Run kernel `name` on the active backend with float32 inputs given as arrays; return every output's values. */
function runKernel(
  name: string,
  inputs: Record<string, [Float32Array, number[]]>,
  attrs: object,
): Float32Array[] {
  const tensors = Object.fromEntries(
    Object.entries(inputs).map(([k, [v, shape]]) => [k, tf.tensor(v, shape, "float32")]),
  );
  const out = tf.engine().runKernel(name, tensors, attrs as unknown as tf.NamedAttrMap);
  return (Array.isArray(out) ? out : [out]).map((t) => values(t as tf.Tensor));
}

/** Run the kernel TF.js shipped for `name` on the active backend (bypassing a replacement). */
function runShipped(
  name: string,
  inputs: Record<string, [Float32Array, number[]]>,
  attrs: object,
): Float32Array {
  const kernel = shippedKernel(name, "wasm");
  assert.ok(kernel, `TF.js ships no wasm ${name}`);
  const backend = tf.backend();
  const infos = Object.fromEntries(
    Object.entries(inputs).map(([k, [v, shape]]) => [k, tf.tensor(v, shape, "float32")]),
  );
  const info = kernel({ inputs: infos, backend, attrs } as never) as tf.TensorInfo;
  return values(tf.engine().makeTensorFromTensorInfo(info, backend));
}

/**
 * Compare kernel `name` on `backend` with cpu: per output, max|a − e| ≤ TOL·max(max|e|, scale),
 * where `scales[i]` (default 0) is the magnitude of the terms output i is computed from, for
 * outputs that can be small by cancellation.
 */
async function compare(
  backend: Backend,
  name: string,
  inputs: Record<string, [Float32Array, number[]]>,
  attrs: object,
  what: string,
  scales: number[] = [],
): Promise<Float32Array[]> {
  const expected = await on("cpu", () => runKernel(name, inputs, attrs));
  const actual = await on(backend, () => runKernel(name, inputs, attrs));
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const scale = scales[i] ?? 0;
    if (scale === 0) assertRelErr(a, e, TOL, `${what}, output ${i}`);
    else {assertWithin(
        a,
        e,
        TOL * Math.max(maxAbs(e), scale),
        `${what}, output ${i} (scale ${scale})`,
      );}
  });
  return actual;
}

const convArb = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: depth(10, 16) }),
    w: fc.integer({ min: 1, max: depth(10, 16) }),
    c: fc.integer({ min: 1, max: depth(4, 8) }),
    o: fc.integer({ min: 1, max: depth(4, 8) }),
    kh: fc.constantFrom(1, 2, 3, 5),
    kw: fc.constantFrom(1, 2, 3, 5),
    stride: fc.constantFrom(1, 1, 2, 3),
    // Only the paddings the layers use (TF.js's own cpu kernels mishandle numeric pads).
    pad: fc.constantFrom<Pad>("same", "valid"),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map((s) => ({
    ...s,
    // 'valid' needs the filter to fit.
    h: Math.max(s.h, s.kh),
    w: Math.max(s.w, s.kw),
  }));

type ConvCase = typeof convArb extends fc.Arbitrary<infer T> ? T : never;

function convInfo(s: ConvCase) {
  return tf.backend_util.computeConv2DInfo(
    [s.n, s.h, s.w, s.c],
    [s.kh, s.kw, s.c, s.o],
    s.stride,
    1,
    s.pad,
  );
}

backendTest(
  "the Conv2DBackpropFilter kernel agrees with cpu for random shapes, strides and paddings",
  (backend) =>
    checkAsync(
      fc.asyncProperty(convArb, async (s) => {
        const info = convInfo(s);
        const dyShape = [s.n, info.outHeight, info.outWidth, s.o];
        const x = uniform(s.seed, s.n * s.h * s.w * s.c, -1, 1, "x");
        const dy = uniform(s.seed, sizeOf(dyShape), -1, 1, "dy");
        const attrs = {
          strides: s.stride,
          pad: s.pad,
          dataFormat: "NHWC",
          filterShape: [s.kh, s.kw, s.c, s.o],
        };
        await compare(
          backend,
          "Conv2DBackpropFilter",
          { x: [x, [s.n, s.h, s.w, s.c]], dy: [dy, dyShape] },
          attrs,
          "dW",
        );
      }),
      depth(40, 400),
    ),
  ACCELERATED,
);

backendTest(
  "the Conv2DBackpropInput kernel agrees with cpu (and with TF.js's shipped kernel) for random shapes",
  (backend) =>
    checkAsync(
      fc.asyncProperty(convArb, async (s) => {
        const info = convInfo(s);
        const dyShape = [s.n, info.outHeight, info.outWidth, s.o];
        const filter = uniform(s.seed, s.kh * s.kw * s.c * s.o, -1, 1, "w");
        const dy = uniform(s.seed, sizeOf(dyShape), -1, 1, "dy");
        const attrs = {
          strides: s.stride,
          pad: s.pad,
          dataFormat: "NHWC",
          inputShape: [s.n, s.h, s.w, s.c],
        };
        const inputs = { dy: [dy, dyShape], filter: [filter, [s.kh, s.kw, s.c, s.o]] } as Record<
          string,
          [Float32Array, number[]]
        >;
        const [dx] = await compare(backend, "Conv2DBackpropInput", inputs, attrs, "dx");
        const shipped = await on(backend, () => runShipped("Conv2DBackpropInput", inputs, attrs));
        assertRelErr(dx!, shipped, TOL, "dx vs the shipped kernel");
      }),
      depth(40, 400),
    ),
  ACCELERATED,
);

backendTest(
  "the BatchMatMul kernel agrees with cpu (and the shipped kernel) with and without transposes",
  (backend) => {
    const arb = fc.record({
      batch: fc.constantFrom(0, 1, 1, 2, 3),
      m: fc.integer({ min: 1, max: depth(12, 64) }),
      k: fc.integer({ min: 1, max: depth(12, 64) }),
      n: fc.integer({ min: 1, max: depth(12, 64) }),
      transposeA: fc.boolean(),
      transposeB: fc.boolean(),
      broadcastB: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    return checkAsync(
      fc.asyncProperty(arb, async (s) => {
        // batch 0: plain 2-D matrices through tf.matMul (as the dense layer and its gradient do).
        const lead = s.batch === 0 ? [] : [s.batch];
        const aShape = [...lead, ...(s.transposeA ? [s.k, s.m] : [s.m, s.k])];
        const bLead = s.batch > 1 && s.broadcastB ? [1] : lead;
        const bShape = [...bLead, ...(s.transposeB ? [s.n, s.k] : [s.k, s.n])];
        const a = uniform(s.seed, sizeOf(aShape), -1, 1, "a");
        const b = uniform(s.seed, sizeOf(bShape), -1, 1, "b");
        const product = () =>
          values(tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), s.transposeA, s.transposeB));
        const expected = await on("cpu", product);
        const actual = await on(backend, product);
        assertRelErr(
          actual,
          expected,
          TOL,
          `matMul ${aShape} x ${bShape} (${s.transposeA}, ${s.transposeB})`,
        );
        if (s.batch !== 0) {
          const attrs = { transposeA: s.transposeA, transposeB: s.transposeB };
          const shipped = await on(
            backend,
            () => runShipped("BatchMatMul", { a: [a, aShape], b: [b, bShape] }, attrs),
          );
          assertRelErr(actual, shipped, TOL, "vs the shipped kernel");
        }
      }),
      depth(40, 400),
    );
  },
  ACCELERATED,
);

// Not compared with TF.js's shipped wasm MaxPoolGrad: in tfjs-backend-wasm 4.22 it routes
// gradients wrongly for several channels and for 1x1 windows (one reason the harness replaces it).
backendTest(
  "the MaxPoolGrad kernel agrees with cpu, on continuous values and on ties",
  (backend) => {
    const arb = fc
      .record({
        n: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: depth(10, 16) }),
        w: fc.integer({ min: 1, max: depth(10, 16) }),
        c: fc.integer({ min: 1, max: depth(4, 16) }),
        size: fc.constantFrom(1, 2, 2, 3),
        stride: fc.constantFrom(1, 2, 2, 3),
        pad: fc.constantFrom<Pad>("valid", "valid", "same"),
        ties: fc.boolean(),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      })
      .map((s) => ({
        ...s,
        h: Math.max(s.h, s.size),
        w: Math.max(s.w, s.size),
      }));
    return checkAsync(
      fc.asyncProperty(arb, async (s) => {
        const shape = [s.n, s.h, s.w, s.c];
        const info = tf.backend_util.computePool2DInfo(
          shape as [number, number, number, number],
          s.size,
          s.stride,
          1,
          s.pad,
        );
        const outShape = [s.n, info.outHeight, info.outWidth, s.c];
        const x = s.ties
          ? uniform(s.seed, sizeOf(shape), 0, 3, "x").map((v) => Math.max(0, Math.floor(v) - 1))
          : uniform(s.seed, sizeOf(shape), -1, 1, "x");
        // Integer upstream gradients make the sums exact, so ties must route identically.
        const dy = uniform(s.seed, sizeOf(outShape), 1, 100, "dy").map(Math.floor);
        const attrs = { filterSize: s.size, strides: s.stride, pad: s.pad };
        const inputs = (): Record<string, [Float32Array, number[]]> => {
          const output = values(
            tf.maxPool(
              tf.tensor4d(x, shape as [number, number, number, number]),
              s.size,
              s.stride,
              s.pad,
            ),
          );
          return { dy: [dy, outShape], input: [x, shape], output: [output, outShape] };
        };
        const expected = await on("cpu", () => runKernel("MaxPoolGrad", inputs(), attrs)[0]!);
        const actual = await on(backend, () => runKernel("MaxPoolGrad", inputs(), attrs)[0]!);
        assert.deepEqual(actual, expected, "dx (exact: integer gradients)");
      }),
      depth(40, 400),
    );
  },
  ACCELERATED,
);

backendTest(
  "the Sum kernel agrees with cpu (and the shipped kernel) over any set of axes",
  (backend) => {
    const arb = fc
      .record({
        shape: fc.array(fc.integer({ min: 1, max: depth(9, 40) }), { minLength: 1, maxLength: 4 }),
        mask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        keepDims: fc.boolean(),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      })
      // Leading blocks (the bias gradient's case, computed in TypeScript) half of the time.
      .chain((s) =>
        fc.constantFrom(
          s.mask.slice(0, s.shape.length).flatMap((on, i) => on ? [i] : []),
          s.shape.slice(0, -1).map((_, i) => i),
        ).map((axes) => ({ ...s, axes }))
      );
    return checkAsync(
      fc.asyncProperty(arb, async (s) => {
        // Positive values: no cancellation, so the relative error is meaningful for every output.
        const x = uniform(s.seed, sizeOf(s.shape), 0, 1, "x");
        const what = `sum of [${s.shape}] over [${s.axes}] (keepDims ${s.keepDims})`;
        const sum = () => {
          const t = tf.sum(tf.tensor(x, s.shape), s.axes, s.keepDims);
          return { shape: t.shape, v: values(t) };
        };
        const expected = await on("cpu", sum);
        const actual = await on(backend, sum);
        assert.deepEqual(actual.shape, expected.shape, what);
        assertRelErr(actual.v, expected.v, TOL, what);
        const attrs = { axis: s.axes, keepDims: s.keepDims };
        const shipped = await on(backend, () => runShipped("Sum", { x: [x, s.shape] }, attrs));
        assertRelErr(actual.v, shipped, TOL, `${what}, vs the shipped kernel`);
      }),
      depth(60, 600),
    );
  },
  ACCELERATED,
);

backendTest(
  "Identity and same-dtype Cast share memory, and the copies outlive their original",
  async (backend) => {
    await on(backend, () => {
      const x = tf.tensor([1, 2, 3, 4], [2, 2]);
      const y = tf.clone(x);
      const z = tf.cast(x, "float32");
      const w = tf.cast(x, "int32");
      assert.equal(y.dataId, x.dataId, "clone shares the original's memory");
      assert.equal(z.dataId, x.dataId, "a same-dtype cast shares the original's memory");
      assert.notEqual(w.dataId, x.dataId, "a cast to another dtype gets new memory");
      x.dispose();
      assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
      z.dispose();
      assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
      assert.deepEqual(Array.from(w.dataSync()), [1, 2, 3, 4]);
      assert.equal(w.dtype, "int32");
      const before = tf.memory().numTensors;
      const bytes = tf.memory().numBytes;
      tf.dispose([y, w]);
      assert.equal(tf.memory().numTensors, before - 2);
      assert.equal(tf.memory().numBytes, bytes - 32, "the shared and the int32 memory are freed");
    });
  },
  ACCELERATED,
);

backendTest(
  "the fused batch-norm kernels (forward and gradient) agree with cpu, for 2-D and 4-D inputs",
  (backend) => {
    const arb = fc.record({
      shape: fc.oneof(
        fc.tuple(fc.integer({ min: 2, max: depth(64, 512) }), fc.integer({ min: 1, max: 16 })),
        fc.tuple(
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 1, max: depth(8, 14) }),
          fc.integer({ min: 1, max: depth(8, 14) }),
          fc.integer({ min: 1, max: depth(8, 32) }),
        ),
      ),
      offset: fc.constantFrom(0, 1, 10),
      epsilon: fc.constantFrom(1e-5, 1e-3),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    return checkAsync(
      fc.asyncProperty(arb, async ({ shape, offset, epsilon, seed }) => {
        const dims = shape as number[];
        const c = dims[dims.length - 1]!;
        if (sizeOf(dims) / c < 2) return;
        // Channels with an offset of up to 10 standard deviations (cancellation in the variance).
        const x = uniform(seed, sizeOf(dims), -1, 1, "x").map((v, i) =>
          v + offset * ((i % c) - c / 2) / c
        );
        const gamma = uniform(seed, c, -2, 2, "gamma");
        const beta = uniform(seed, c, -2, 2, "beta");
        const fwd = await compare(
          backend,
          BATCH_NORM_TRAIN,
          { x: [x, dims], gamma: [gamma, [c]], beta: [beta, [c]] },
          { epsilon },
          "forward (y, mean, variance)",
          // The mean can vanish by cancellation: compare it on the scale of x.
          [0, maxAbs(x), 0],
        );
        const dy = uniform(seed, sizeOf(dims), -1, 1, "dy");
        // The gradient kernel from identical saved statistics (cpu's).
        const [, mean, variance] = await on(
          "cpu",
          () =>
            runKernel(BATCH_NORM_TRAIN, { x: [x, dims], gamma: [gamma, [c]], beta: [beta, [c]] }, {
              epsilon,
            }),
        );
        assert.ok(fwd.length === 3 && mean && variance);
        // Scales of the gradient's terms: dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)) cancels to ~0
        // for tiny batches, dγ = Σ dy·x̂ and dβ = Σ dy cancel for random dy.
        const m = sizeOf(dims) / c;
        let dxScale = 0;
        const sumAbsDy = new Float64Array(c);
        const sumAbsDyXhat = new Float64Array(c);
        for (let i = 0; i < x.length; i++) {
          const k = i % c;
          const invStd = 1 / Math.sqrt(variance[k]! + epsilon);
          dxScale = Math.max(dxScale, Math.abs(gamma[k]! * invStd * dy[i]!));
          sumAbsDy[k]! += Math.abs(dy[i]!);
          sumAbsDyXhat[k]! += Math.abs(dy[i]! * (x[i]! - mean[k]!) * invStd);
        }
        assert.ok(m >= 2);
        await compare(
          backend,
          BATCH_NORM_TRAIN_GRAD,
          {
            dy: [dy, dims],
            x: [x, dims],
            gamma: [gamma, [c]],
            mean: [mean, [c]],
            variance: [variance, [c]],
          },
          { epsilon },
          "gradient (dx, dγ, dβ)",
          [dxScale, maxAbs(sumAbsDyXhat), maxAbs(sumAbsDy)],
        );
      }),
      depth(30, 300),
    );
  },
  ACCELERATED,
);

for (const c of GRAD_CASES) {
  backendTest(
    `the whole gradient of a small model agrees with cpu: ${c.name}`,
    (backend) =>
      checkAsync(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 2, max: 6 }),
          async (seed, n) => {
            const gradients = async (b: Backend) => {
              await on(b, () => undefined);
              const model = buildCase(c, seed);
              try {
                return scoped(() => {
                  const { value, grads } = tf.variableGrads(
                    lossFunction(model, seed, n, c.input),
                    model.trainable,
                  );
                  const byName = new Map(model.params.map((p) => [p.variable.name, p.name]));
                  return {
                    loss: value.dataSync()[0]!,
                    grads: new Map(
                      Object.entries(grads).map(([k, g]) => [byName.get(k)!, values(g)]),
                    ),
                  };
                });
              } finally {
                model.dispose();
              }
            };
            const expected = await gradients("cpu");
            const actual = await gradients(backend);
            assert.ok(
              Math.abs(actual.loss - expected.loss) <= TOL * Math.abs(expected.loss),
              `loss ${actual.loss} vs ${expected.loss}`,
            );
            assert.deepEqual([...actual.grads.keys()], [...expected.grads.keys()]);
            // The whole gradient, as one vector: norm-wise relative error ≤ 1e-4.
            const largest = Math.max(...[...expected.grads.values()].map(maxAbs));
            let worst = 0;
            for (const [name, g] of expected.grads) {
              const a = actual.grads.get(name)!;
              g.forEach((e, i) => (worst = Math.max(worst, Math.abs(a[i]! - e))));
            }
            assert.ok(worst <= TOL * largest, `max |Δgradient| ${worst} > ${TOL} × ${largest}`);
            // Each weight's gradient too, so that a small one cannot hide. Gradients that vanish
            // analytically (a bias followed by batch norm) are rounding noise on both backends:
            // they must stay below 1e-3 of the model's largest gradient. Others are sums that can
            // cancel (dγ = Σ dy·x̂ over the batch, accumulated in float32 by oneDNN): 1e-3 of their
            // own largest entry or of 1% of the model's largest gradient, whichever is larger.
            for (const [name, g] of expected.grads) {
              const a = actual.grads.get(name)!;
              if (maxAbs(g) < 1e-4 * largest) {
                assert.ok(
                  maxAbs(a) <= 1e-3 * largest,
                  `${name}: vanishing gradient ${maxAbs(a)} vs ${largest}`,
                );
              } else {
                assertWithin(a, g, 1e-3 * Math.max(maxAbs(g), 1e-2 * largest), name);
              }
            }
          },
        ),
        depth(5, 30),
      ),
    ACCELERATED,
  );
}
