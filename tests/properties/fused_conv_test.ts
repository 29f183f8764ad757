/**
 * The training convolution with its bias in one kernel (`conv2dBias` in
 * lib/models/ops.ts, the `BnlabConv2D` kernel of
 * lib/backends/kernels/fused_conv.ts) gives exactly the bits of `tf.conv2d`
 * then `tf.add`: value and gradients (input, filter, bias) over random
 * geometries (strides, both paddings, with and without bias), on cpu, wasm
 * and native (`native_test.ts` re-runs this file there); and its gradient
 * computes no input gradient nobody asks for (a first layer's).
 *
 * Inputs mix random values with exact zeros of both signs (so whole windows
 * sum to ±0) and, in some cases, the odd NaN and infinity. NaNs compare equal
 * to any NaN; every other value must match bit for bit.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { CONV2D_BIAS } from "../../lib/backends/kernels/fused_conv.ts";
import { conv2dBias } from "../../lib/models/ops.ts";
import { assertSameBits, backendTest, check, sizeOf, uniform, values } from "./_prop.ts";

/** `n` values in ±`scale`, about a third exact zeros of either sign, and specials when `special`. */
function sparse(seed: number, n: number, scale: number, special: boolean, what: string) {
  const out = uniform(seed, n, -scale, scale, what);
  const pick = uniform(seed, n, 0, 1, what, "pick");
  for (let i = 0; i < n; i++) {
    if (pick[i]! < 0.3) out[i] = pick[i]! < 0.15 ? 0 : -0;
    else if (special && pick[i]! > 0.995) out[i] = [NaN, Infinity, -Infinity][i % 3]!;
  }
  return out;
}

const convArb = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 3, max: 12 }),
  w: fc.integer({ min: 3, max: 12 }),
  ci: fc.integer({ min: 1, max: 9 }),
  co: fc.integer({ min: 1, max: 20 }),
  k: fc.integer({ min: 1, max: 5 }),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.constantFrom("same" as const, "valid" as const),
  bias: fc.boolean(),
  special: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
}).filter(({ h, w, k, padding }) => padding === "same" || (k <= h && k <= w));

backendTest("a training convolution with its bias gives the bits of conv2d then add", () => {
  check(
    fc.property(convArb, (g) => {
      const xShape = [g.n, g.h, g.w, g.ci] as [number, number, number, number];
      const fShape = [g.k, g.k, g.ci, g.co] as [number, number, number, number];
      tf.tidy(() => {
        const x = tf.tensor4d(sparse(g.seed, sizeOf(xShape), 1, g.special, "x"), xShape);
        const filter = tf.tensor4d(sparse(g.seed, sizeOf(fShape), 0.5, false, "f"), fShape);
        const bias = g.bias ? tf.tensor1d(sparse(g.seed, g.co, 0.5, g.special, "b")) : undefined;
        const fused = (a: tf.Tensor4D, f: tf.Tensor4D, b?: tf.Tensor1D) =>
          conv2dBias(a, f, b, g.stride, g.padding);
        const plain = (a: tf.Tensor4D, f: tf.Tensor4D, b?: tf.Tensor1D): tf.Tensor => {
          const y = tf.conv2d(a, f, g.stride, g.padding);
          return b ? tf.add(y, b) : y;
        };
        const y = fused(x, filter, bias);
        const what = JSON.stringify(g);
        assertSameBits(values(y), values(plain(x, filter, bias)), `value, ${what}`);
        const dy = tf.tensor(sparse(g.seed, y.size, 1, g.special, "dy"), y.shape);
        const grads = (op: typeof plain) =>
          tf.grads((...args: tf.Tensor[]) => {
            const [a, f, b] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D | undefined];
            return tf.sum(tf.mul(op(a, f, b), dy));
          })(bias ? [x, filter, bias] : [x, filter]);
        const expected = grads(plain);
        grads(fused).forEach((grad, i) => {
          assertSameBits(values(grad), values(expected[i]!), `gradient ${i}, ${what}`);
        });
      });
    }),
    40,
  );
});

backendTest("the fused convolution computes no gradient for an input that needs none", async () => {
  const x = tf.tensor4d(uniform(3, 2 * 6 * 6), [2, 6, 6, 1]);
  const filter = tf.tidy(() => tf.variable(tf.tensor4d(uniform(4, 9 * 4), [3, 3, 1, 4])));
  const bias = tf.tidy(() => tf.variable(tf.zeros([4]) as tf.Tensor1D));
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() =>
      tf.sum(conv2dBias(x, filter as tf.Tensor4D, bias, 1, "same")) as tf.Scalar
    );
    tf.dispose([value, ...Object.values(grads)]);
  });
  const names = profile.kernels.map((k) => k.name);
  assert.ok(names.includes(CONV2D_BIAS), `kernels run: ${names}`);
  assert.ok(names.includes("Conv2DBackpropFilter"), `kernels run: ${names}`);
  assert.ok(!names.includes("Conv2DBackpropInput"), `kernels run: ${names}`);
  tf.dispose([x, filter, bias]);
});
