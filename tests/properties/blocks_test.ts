/**
 * Properties of the composite blocks of lib/models/build.ts, built with
 * `buildModel` from small layer lists, on cpu, wasm and native:
 *
 * - `residual`: act(body(x) + shortcut(x)); the identity shortcut adds x
 *   exactly (broadcasting a single input channel), the projection shortcut
 *   adds a strided 1x1 convolution with bias;
 * - `se` (squeeze-and-excitation): x · g with one gate g = sigmoid(W₂·relu(W₁·gap(x) + b₁) + b₂)
 *   in (0, 1) per (example, channel).
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/blocks_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import type { Model } from "../../lib/models/build.ts";
import type { Layer } from "../../lib/models/types.ts";
import { build, param, randomiseTrainable } from "./_models.ts";
import { assertClose, backendTest, batchOf, check, depth, uniform, values } from "./_prop.ts";

/** Give `to` the weights of `from` (same layers in the same order, names may differ by prefix). */
function copyWeights(from: Model, to: Model): void {
  assert.equal(from.params.length, to.params.length);
  tf.tidy(() => to.params.forEach((p, i) => p.variable.assign(from.params[i]!.variable)));
}

const residualArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 2, max: depth(6, 10) }),
  w: fc.integer({ min: 2, max: depth(6, 10) }),
  c: fc.constantFrom(1, 1, 2, 3),
  oc: fc.integer({ min: 1, max: 4 }),
  k: fc.constantFrom(1, 3),
  batchNorm: fc.boolean(),
  relu: fc.boolean(),
  training: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

backendTest(
  "an identity-shortcut residual block outputs exactly act(body(x) + x), broadcasting one input channel",
  () => {
    check(
      fc.property(residualArb, (s) => {
        const oc = s.c === 1 ? s.oc : s.c;
        const body: Layer[] = [
          { type: "conv2d", filters: oc, kernel: s.k },
          ...(s.batchNorm ? [{ type: "batchnorm" } as Layer] : []),
          { type: "relu" },
          { type: "conv2d", filters: oc, kernel: s.k },
        ];
        const classes = s.h * s.w * oc;
        const activation = s.relu ? "relu" : "linear";
        const block = build(
          [{ type: "residual", body, shortcut: "identity", activation }, { type: "flatten" }],
          [s.h, s.w, s.c],
          classes,
          s.seed,
        );
        const plain = build([...body, { type: "flatten" }], [s.h, s.w, s.c], classes, s.seed + 1);
        try {
          randomiseTrainable(block, s.seed);
          copyWeights(block, plain);
          tf.tidy(() => {
            const xs = uniform(s.seed, s.n * s.h * s.w * s.c, -2, 2, "x");
            const x = batchOf(xs, [s.n, s.h, s.w, s.c]);
            const ctx = { training: s.training };
            const out = values(block.forward(x, ctx));
            const b = values(plain.forward(x, ctx));
            const expected = b.map((v, i) => {
              const pixel = Math.floor(i / oc);
              const sum = Math.fround(v + xs[s.c === 1 ? pixel : i]!);
              return s.relu ? Math.max(0, sum) : sum;
            });
            assert.deepEqual(out, expected);
          });
        } finally {
          block.dispose();
          plain.dispose();
        }
      }),
      depth(20, 200),
    );
  },
);

backendTest(
  "a projection-shortcut residual block adds a strided 1x1 convolution of the input, with its bias",
  () => {
    check(
      fc.property(residualArb, fc.constantFrom(1, 2), (s, stride) => {
        // 'same' padding with stride 2 halves even sides exactly, as the projection needs.
        const h = s.h * stride;
        const w = s.w * stride;
        const body: Layer[] = [{ type: "conv2d", filters: s.oc, kernel: s.k, stride }, {
          type: "relu",
        }];
        const classes = s.h * s.w * s.oc;
        const block = build(
          [{ type: "residual", body, shortcut: "projection" }, { type: "flatten" }],
          [h, w, s.c],
          classes,
          s.seed,
        );
        const plain = build([...body, { type: "flatten" }], [h, w, s.c], classes, s.seed + 1);
        try {
          randomiseTrainable(block, s.seed);
          tf.tidy(() => {
            // The body's weights come first; the shortcut's 1x1 kernel and bias are its own.
            plain.params.forEach((p, i) => p.variable.assign(block.params[i]!.variable));
            const kernel = param(block, "shortcut/kernel").variable as tf.Tensor4D;
            const bias = param(block, "shortcut/bias").variable;
            assert.deepEqual(kernel.shape, [1, 1, s.c, s.oc]);
            const x = batchOf(uniform(s.seed, s.n * h * w * s.c, -2, 2, "x"), [s.n, h, w, s.c]);
            const ctx = { training: s.training };
            const shortcut = tf.add(tf.conv2d(x, kernel, stride, "valid"), bias);
            const expected = values(
              tf.relu(tf.add(plain.forward(x, ctx), tf.reshape(shortcut, [s.n, classes]))),
            );
            assertClose(
              values(block.forward(x, ctx)),
              expected,
              { abs: 1e-5, rel: 1e-5 },
              "relu(body + projection)",
            );
          });
        } finally {
          block.dispose();
          plain.dispose();
        }
      }),
      depth(20, 200),
    );
  },
);

backendTest(
  "squeeze-and-excitation only rescales channels: out = x · g with one gate g ∈ (0, 1) per example and channel",
  () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: depth(5, 9) }),
      w: fc.integer({ min: 1, max: depth(5, 9) }),
      c: fc.integer({ min: 1, max: depth(10, 40) }),
      ratio: fc.constantFrom(1, 2, 8, 16),
      scale: fc.constantFrom(0.3, 1, 2),
      training: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    check(
      fc.property(arb, (s) => {
        const units = Math.max(1, Math.floor(s.c / s.ratio));
        const model = build(
          [{ type: "se", ratio: s.ratio }, { type: "flatten" }],
          [s.h, s.w, s.c],
          s.h * s.w * s.c,
          s.seed,
        );
        try {
          randomiseTrainable(model, s.seed, s.scale);
          tf.tidy(() => {
            const w1 = values(param(model, "squeeze/kernel").variable);
            const b1 = values(param(model, "squeeze/bias").variable);
            const w2 = values(param(model, "excite/kernel").variable);
            const b2 = values(param(model, "excite/bias").variable);
            assert.equal(w1.length, s.c * units, "bottleneck of max(1, floor(C / ratio)) units");
            const xs = uniform(s.seed, s.n * s.h * s.w * s.c, -3, 3, "x");
            const out = values(
              model.forward(batchOf(xs, [s.n, s.h, s.w, s.c]), { training: s.training }),
            );
            const hw = s.h * s.w;
            for (let n = 0; n < s.n; n++) {
              // Reference gates in float64.
              const mean = new Float64Array(s.c);
              for (let p = 0; p < hw; p++) {
                for (let k = 0; k < s.c; k++) mean[k]! += xs[(n * hw + p) * s.c + k]! / hw;
              }
              const hidden = Array.from({ length: units }, (_, u) => {
                let z = b1[u]!;
                for (let k = 0; k < s.c; k++) z += mean[k]! * w1[k * units + u]!;
                return Math.max(0, z);
              });
              for (let k = 0; k < s.c; k++) {
                let z = b2[k]!;
                for (let u = 0; u < units; u++) z += hidden[u]! * w2[u * s.c + k]!;
                const gate = 1 / (1 + Math.exp(-z));
                for (let p = 0; p < hw; p++) {
                  const i = (n * hw + p) * s.c + k;
                  const x = xs[i]!;
                  const y = out[i]!;
                  assert.ok(
                    Math.abs(y) <= Math.abs(x) && (y === 0 || Math.sign(y) === Math.sign(x)),
                    `(${n}, ${p}, ${k}): ${x} ↦ ${y}`,
                  );
                  assert.ok(
                    Math.abs(y - x * gate) <= 1e-5 * Math.abs(x) + 1e-7,
                    `(${n}, ${p}, ${k}): ${y} vs ${x}·${gate}`,
                  );
                }
                // The gate the block applied, read back where |x| is not tiny: strictly inside (0, 1).
                let at = n * hw * s.c + k;
                for (let p = 0; p < hw; p++) {
                  if (Math.abs(xs[(n * hw + p) * s.c + k]!) > Math.abs(xs[at]!)) {
                    at = (n * hw + p) * s.c + k;
                  }
                }
                if (Math.abs(xs[at]!) > 1e-3) {
                  const g = out[at]! / xs[at]!;
                  // sigmoid(z) rounds to exactly 1 in float32 once z > ~16.6 (0 only far lower).
                  if (Math.abs(z) < 15) {
                    assert.ok(g > 0 && g < 1, `gate ${g} of (${n}, ${k}), z = ${z}`);
                  } else assert.ok(g >= 0 && g <= 1, `gate ${g} of (${n}, ${k}), z = ${z}`);
                  for (let p = 0; p < hw; p++) {
                    const i = (n * hw + p) * s.c + k;
                    assert.ok(
                      Math.abs(out[i]! - xs[i]! * g) <= 1e-5 * Math.abs(xs[i]!) + 1e-7,
                      "one gate per (example, channel)",
                    );
                  }
                }
              }
            }
          });
        } finally {
          model.dispose();
        }
      }),
      depth(20, 200),
    );
  },
);
