/**
 * Properties of the convolutions the experiments use, through the harness's
 * `conv2d` (lib/models/ops.ts: TF.js convolution, with its own gradient when
 * dilated) and the `conv2d` layer (lib/models/build.ts), on cpu, wasm and native.
 *
 * Tolerances: float32 sums of K products carry rounding errors of order
 * K·2⁻²⁴ times the sum of |products|; with K ≤ 5·5·3 = 75 a bound of 1e-5
 * relative to the magnitudes involved leaves a wide margin, while any real
 * mistake (a wrong tap, a lost term) is of the order of the values themselves.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/conv_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { conv2d } from "../../lib/models/ops.ts";
import type { Layer, Padding } from "../../lib/models/types.ts";
import { build, randomiseTrainable } from "./_models.ts";
import {
  assertRelErr,
  assertWithin,
  backendTest,
  check,
  depth,
  maxAbs,
  randomTensor,
  sizeOf,
  values,
} from "./_prop.ts";

interface ConvCase {
  n: number;
  h: number;
  w: number;
  c: number;
  o: number;
  k: number;
  stride: number;
  padding: Padding;
  dilation: number;
  seed: number;
}

/** Output size along one axis under TensorFlow's padding rules. */
function outSize(
  size: number,
  k: number,
  stride: number,
  padding: Padding,
  dilation: number,
): number {
  const effective = (k - 1) * dilation + 1;
  return padding === "same" ? Math.ceil(size / stride) : Math.ceil((size - effective + 1) / stride);
}

/** A random convolution; dilation > 1 forces stride 1 and 'valid' inputs are at least as large as the filter. */
const convArb: fc.Arbitrary<ConvCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: depth(9, 16) }),
    w: fc.integer({ min: 1, max: depth(9, 16) }),
    c: fc.integer({ min: 1, max: depth(3, 6) }),
    o: fc.integer({ min: 1, max: depth(3, 6) }),
    k: fc.constantFrom(1, 2, 3, 5),
    stride: fc.constantFrom(1, 2, 3),
    padding: fc.constantFrom<Padding>("same", "valid"),
    dilation: fc.constantFrom(1, 1, 2, 3),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map((s) => {
    const stride = s.dilation > 1 ? 1 : s.stride;
    const effective = (s.k - 1) * s.dilation + 1;
    const grow = (v: number) => (s.padding === "valid" ? Math.max(v, effective) : v);
    return { ...s, stride, h: grow(s.h), w: grow(s.w) };
  });

function xShape(s: ConvCase): [number, number, number, number] {
  return [s.n, s.h, s.w, s.c];
}

function wShape(s: ConvCase): [number, number, number, number] {
  return [s.k, s.k, s.c, s.o];
}

function conv(s: ConvCase, x: tf.Tensor, w: tf.Tensor): tf.Tensor4D {
  return conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s.stride, s.padding, s.dilation);
}

/** Element-wise |a|·|y1| + |b|·|y2|: the magnitudes a linear combination's rounding is relative to. */
function scaleOf(a: number, y1: Float32Array, b: number, y2: Float32Array): number {
  return Math.abs(a) * maxAbs(y1) + Math.abs(b) * maxAbs(y2);
}

backendTest(
  "convolution is linear in its input: conv(a·x₁ + b·x₂) = a·conv(x₁) + b·conv(x₂)",
  () => {
    check(
      fc.property(
        convArb,
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (s, a, b) => {
          tf.tidy(() => {
            const x1 = randomTensor(s.seed, xShape(s), -1, 1, "x1");
            const x2 = randomTensor(s.seed, xShape(s), -1, 1, "x2");
            const w = randomTensor(s.seed, wShape(s), -1, 1, "w");
            const lhs = values(conv(s, tf.add(tf.mul(a, x1), tf.mul(b, x2)), w));
            const y1 = values(conv(s, x1, w));
            const y2 = values(conv(s, x2, w));
            const rhs = y1.map((v, i) => a * v + b * y2[i]!);
            assertWithin(lhs, rhs, 1e-5 * scaleOf(a, y1, b, y2) + 1e-6, "linearity in x");
          });
        },
      ),
      depth(25, 250),
    );
  },
);

backendTest(
  "convolution is linear in its weights: conv(x; a·w₁ + b·w₂) = a·conv(x; w₁) + b·conv(x; w₂)",
  () => {
    check(
      fc.property(
        convArb,
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (s, a, b) => {
          tf.tidy(() => {
            const x = randomTensor(s.seed, xShape(s), -1, 1, "x");
            const w1 = randomTensor(s.seed, wShape(s), -1, 1, "w1");
            const w2 = randomTensor(s.seed, wShape(s), -1, 1, "w2");
            const lhs = values(conv(s, x, tf.add(tf.mul(a, w1), tf.mul(b, w2))));
            const y1 = values(conv(s, x, w1));
            const y2 = values(conv(s, x, w2));
            const rhs = y1.map((v, i) => a * v + b * y2[i]!);
            assertWithin(lhs, rhs, 1e-5 * scaleOf(a, y1, b, y2) + 1e-6, "linearity in w");
          });
        },
      ),
      depth(25, 250),
    );
  },
);

/** `x` [N, H, W, C] shifted by (dy, dx) with zeros shifted in. */
function shift(x: Float32Array, [n, h, w, c]: number[], dy: number, dx: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n!; b++) {
    for (let i = 0; i < h!; i++) {
      for (let j = 0; j < w!; j++) {
        const si = i - dy;
        const sj = j - dx;
        if (si < 0 || si >= h! || sj < 0 || sj >= w!) continue;
        for (let k = 0; k < c!; k++) {
          out[((b * h! + i) * w! + j) * c! + k] = x[((b * h! + si) * w! + sj) * c! + k]!;
        }
      }
    }
  }
  return out;
}

backendTest("stride-1 'same' convolution commutes with translations away from the borders", () => {
  const arb = fc.record({
    base: convArb,
    k: fc.constantFrom(1, 3, 5),
    dilation: fc.constantFrom(1, 2),
    h: fc.integer({ min: 6, max: depth(12, 20) }),
    w: fc.integer({ min: 6, max: depth(12, 20) }),
    dy: fc.integer({ min: -3, max: 3 }),
    dx: fc.integer({ min: -3, max: 3 }),
  });
  check(
    fc.property(arb, ({ base, k, dilation, h, w, dy, dx }) => {
      const s: ConvCase = { ...base, k, dilation, h, w, stride: 1, padding: "same" };
      tf.tidy(() => {
        const shape = xShape(s);
        const xs = values(randomTensor(s.seed, shape, -1, 1, "x"));
        const wt = randomTensor(s.seed, wShape(s), -1, 1, "w");
        const y = values(conv(s, tf.tensor(xs, shape), wt));
        const ys = values(conv(s, tf.tensor(shift(xs, shape, dy, dx), shape), wt));
        // Output (i, j) of the shifted input sees rows i − r..i + r; both it and
        // (i − dy, j − dx) of the original must see no padding and no shifted-in zeros.
        const r = (dilation * (k - 1)) / 2;
        const inside = (i: number, size: number) => i - r >= 0 && i + r < size;
        let compared = 0;
        for (let b = 0; b < s.n; b++) {
          for (let i = 0; i < h; i++) {
            for (let j = 0; j < w; j++) {
              if (!inside(i, h) || !inside(j, w) || !inside(i - dy, h) || !inside(j - dx, w)) {
                continue;
              }
              for (let o = 0; o < s.o; o++) {
                const a = ys[((b * h + i) * w + j) * s.o + o]!;
                const e = y[((b * h + i - dy) * w + j - dx) * s.o + o]!;
                assert.ok(
                  Math.abs(a - e) <= 1e-5 * (Math.abs(e) + 1),
                  `(${b}, ${i}, ${j}, ${o}): ${a} vs ${e}`,
                );
                compared++;
              }
            }
          }
        }
        // With k ≤ 5, d ≤ 2, |shift| ≤ 3 and sides ≥ 6, interior positions exist unless the reach is too wide.
        if (h - 2 * r - Math.abs(dy) > 0 && w - 2 * r - Math.abs(dx) > 0) {
          assert.ok(compared > 0, "no position compared");
        }
      });
    }),
    depth(25, 250),
  );
});

/** The configurations the experiments use, as [kernel, stride, padding, dilation]. */
const USED: [number, number, Padding, number][] = [
  [3, 1, "same", 1],
  [5, 1, "same", 1],
  [5, 1, "valid", 1],
  [5, 2, "valid", 1],
  [1, 1, "valid", 1],
  [1, 2, "valid", 1],
  [3, 1, "same", 2],
];

backendTest(
  "convolution output shapes follow ceil(H/s) for 'same' and ceil((H − d(k − 1))/s) for 'valid', in the op and the layer",
  () => {
    const arb = fc.record({
      base: convArb,
      used: fc.option(fc.constantFrom(...USED), { freq: 2 }),
    });
    check(
      fc.property(arb, ({ base, used }) => {
        const s: ConvCase = used
          ? (() => {
            const [k, stride, padding, dilation] = used;
            const eff = (k - 1) * dilation + 1;
            return {
              ...base,
              k,
              stride,
              padding,
              dilation,
              h: Math.max(base.h, eff),
              w: Math.max(base.w, eff),
            };
          })()
          : base;
        const oh = outSize(s.h, s.k, s.stride, s.padding, s.dilation);
        const ow = outSize(s.w, s.k, s.stride, s.padding, s.dilation);
        tf.tidy(() => {
          const x = randomTensor(s.seed, xShape(s));
          assert.deepEqual(
            conv(s, x, randomTensor(s.seed, wShape(s))).shape,
            [s.n, oh, ow, s.o],
            "op shape",
          );
          // The layer declares the same shape (buildModel checks it against `classes`) and produces it.
          const layers: Layer[] = [
            {
              type: "conv2d",
              filters: s.o,
              kernel: s.k,
              stride: s.stride,
              padding: s.padding,
              dilation: s.dilation,
            },
            { type: "flatten" },
          ];
          const model = build(layers, [s.h, s.w, s.c], oh * ow * s.o, s.seed);
          try {
            for (const training of [true, false]) {
              assert.deepEqual(model.forward(x as tf.Tensor4D, { training }).shape, [
                s.n,
                oh * ow * s.o,
              ]);
            }
          } finally {
            model.dispose();
          }
        });
      }),
      depth(30, 300),
    );
  },
);

backendTest(
  "pooling output shapes follow the same formulas (2x2 stride 2 'valid' as used, and others)",
  () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 1, max: 12 }),
      w: fc.integer({ min: 1, max: 12 }),
      c: fc.integer({ min: 1, max: 3 }),
      size: fc.constantFrom(2, 2, 3),
      stride: fc.option(fc.constantFrom(1, 2, 3), { nil: undefined }),
      padding: fc.option(fc.constantFrom<Padding>("same", "valid"), { nil: undefined }),
      type: fc.constantFrom<"maxpool" | "avgpool">("maxpool", "avgpool"),
    });
    check(
      fc.property(arb, (p) => {
        const stride = p.stride ?? p.size;
        const padding = p.padding ?? "valid";
        const h = padding === "valid" ? Math.max(p.h, p.size) : p.h;
        const w = padding === "valid" ? Math.max(p.w, p.size) : p.w;
        const oh = outSize(h, p.size, stride, padding, 1);
        const ow = outSize(w, p.size, stride, padding, 1);
        const layers: Layer[] = [
          {
            type: p.type,
            size: p.size,
            ...(p.stride ? { stride: p.stride } : {}),
            ...(p.padding ? { padding: p.padding } : {}),
          },
          { type: "flatten" },
        ];
        const model = build(layers, [h, w, p.c], oh * ow * p.c, 0);
        try {
          tf.tidy(() => {
            const out = model.forward(randomTensor(1, [p.n, h, w, p.c]) as tf.Tensor4D, {
              training: false,
            });
            assert.deepEqual(out.shape, [p.n, oh * ow * p.c]);
          });
        } finally {
          model.dispose();
        }
      }),
      depth(30, 300),
    );
  },
);

/** The filter with d − 1 zeros inserted between taps: [d(k − 1) + 1, d(k − 1) + 1, C, O]. */
function zeroInserted(
  w: Float32Array,
  [k, , c, o]: number[],
  d: number,
): { values: Float32Array; shape: number[] } {
  const e = d * (k! - 1) + 1;
  const out = new Float32Array(e * e * c! * o!);
  for (let i = 0; i < k!; i++) {
    for (let j = 0; j < k!; j++) {
      for (let q = 0; q < c! * o!; q++) {
        out[((i * d) * e + j * d) * c! * o! + q] = w[(i * k! + j) * c! * o! + q]!;
      }
    }
  }
  return { values: out, shape: [e, e, c!, o!] };
}

backendTest(
  "a dilated convolution equals a convolution with the zero-inserted kernel, forward and in both gradients",
  () => {
    const arb = fc.record({
      base: convArb,
      k: fc.constantFrom(2, 3),
      dilation: fc.constantFrom(2, 3),
    });
    check(
      fc.property(arb, ({ base, k, dilation }) => {
        const e = dilation * (k - 1) + 1;
        const s: ConvCase = {
          ...base,
          k,
          dilation,
          stride: 1,
          h: Math.max(base.h, e),
          w: Math.max(base.w, e),
        };
        tf.tidy(() => {
          const x = randomTensor(s.seed, xShape(s), -1, 1, "x") as tf.Tensor4D;
          const w = randomTensor(s.seed, wShape(s), -1, 1, "w") as tf.Tensor4D;
          const z = zeroInserted(values(w), wShape(s), dilation);
          const wz = tf.tensor4d(z.values, z.shape as [number, number, number, number]);
          const dilated = conv(s, x, w);
          const plain = tf.conv2d(x, wz, 1, s.padding);
          assertRelErr(values(dilated), values(plain), 1e-5, "forward");
          // Gradients of Σ R·conv(x, w) for a random R.
          const r = randomTensor(s.seed, dilated.shape, -1, 1, "r");
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(r, conv(s, a as tf.Tensor4D, b as tf.Tensor4D)))
          )([x, w]);
          const [dxz, dwz] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(r, tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, s.padding)))
          )([x, wz]);
          assertRelErr(values(dx!), values(dxz!), 1e-5, "input gradient");
          // The dilated kernel's gradient is the zero-inserted kernel's gradient at the taps.
          const taps = new Float32Array(sizeOf(wShape(s)));
          const full = values(dwz!);
          const co = s.c * s.o;
          for (let i = 0; i < k; i++) {
            for (let j = 0; j < k; j++) {
              for (let q = 0; q < co; q++) {
                taps[(i * k + j) * co + q] = full[(i * dilation * e + j * dilation) * co + q]!;
              }
            }
          }
          assertRelErr(values(dw!), taps, 1e-5, "filter gradient");
        });
      }),
      depth(20, 200),
    );
  },
);

backendTest(
  "the conv layer computes the same in training (harness conv2d + bias) and evaluation (fused conv)",
  () => {
    check(
      fc.property(convArb, fc.boolean(), (s, bias) => {
        const oh = outSize(s.h, s.k, s.stride, s.padding, s.dilation);
        const ow = outSize(s.w, s.k, s.stride, s.padding, s.dilation);
        const layers: Layer[] = [
          {
            type: "conv2d",
            filters: s.o,
            kernel: s.k,
            stride: s.stride,
            padding: s.padding,
            dilation: s.dilation,
            bias,
          },
          { type: "flatten" },
        ];
        const model = build(layers, [s.h, s.w, s.c], oh * ow * s.o, s.seed);
        try {
          randomiseTrainable(model, s.seed, 1);
          tf.tidy(() => {
            const x = randomTensor(s.seed, xShape(s)) as tf.Tensor4D;
            const training = values(model.forward(x, { training: true }));
            const evaluation = values(model.forward(x, { training: false }));
            assertRelErr(evaluation, training, 1e-5, "evaluation vs training forward");
          });
        } finally {
          model.dispose();
        }
      }),
      depth(20, 200),
    );
  },
);
