/**
 * The native backend end to end: a whole model's gradient against the `cpu`
 * backend, bit-reproducible training, and what `initNative()` reports. The
 * tests needing oneDNN are listed as ignored, with the reason, without it.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initNative } from "../../lib/backends/native/init.ts";
import { DNNL_PATH_ENV, loadDnnl } from "../../lib/backends/native/library.ts";
import { nativeKernelCounts, resetNativeKernelCounts } from "../../lib/backends/native/stats.ts";
import { buildModel, type Model } from "../../lib/models/build.ts";
import type { Layer } from "../../lib/models/types.ts";
import { rngAt } from "../../lib/rng.ts";
import { native, nativeTest, relErr } from "./_native.ts";

const LAYERS: Layer[] = [
  { type: "conv2d", filters: 8, kernel: 3 },
  { type: "batchnorm" },
  { type: "relu" },
  { type: "maxpool" },
  { type: "conv2d", filters: 16, kernel: 5, stride: 2, padding: "valid" },
  { type: "relu" },
  { type: "flatten" },
  { type: "dense", units: 10 },
];

function model(seed: number): Model {
  return buildModel(
    LAYERS,
    { init: "glorot_uniform", batchNorm: { momentum: 0.1, epsilon: 1e-3 }, classes: 10 },
    (path) => rngAt(seed, "init", path),
  );
}

/** A fixed batch of `n` images with one-hot labels. */
function batch(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const rng = rngAt(seed, "data");
  const pixels = Float32Array.from({ length: n * 28 * 28 }, () => rng.nextInt(256) / 255);
  const labels = Int32Array.from({ length: n }, () => rng.nextInt(10));
  return {
    x: tf.tensor4d(pixels, [n, 28, 28, 1]),
    y: tf.oneHot(tf.tensor1d(labels, "int32"), 10) as tf.Tensor2D,
  };
}

/** Loss and gradients of one training batch of a fresh model on `backend`. */
async function lossAndGrads(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const net = model(3);
  const out = tf.tidy(() => {
    const { x, y } = batch(16, 5);
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, net.forward(x, { training: true })) as tf.Scalar,
      net.trainable,
    );
    return [value, ...net.trainable.map((v) => grads[v.name]!)];
  });
  const data = out.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  tf.dispose(out);
  net.dispose();
  return data;
}

nativeTest(
  "a whole model's loss and gradients (conv, batch norm, ReLU, pooling, dense) match cpu",
  async () => {
    resetNativeKernelCounts();
    const cpu = await lossAndGrads("cpu");
    const nat = await lossAndGrads("wasm");
    cpu.forEach((ref, i) => {
      const e = relErr(nat[i]!, ref);
      assert.ok(
        e <= 1e-4,
        `${i === 0 ? "loss" : `gradient ${i - 1}`}: relative error ${e.toExponential(2)}`,
      );
    });
    const counts = nativeKernelCounts();
    const kernels = [
      "BnlabConv2D",
      "Conv2DBackpropFilter",
      "BnlabBatchNormTrainGrad",
      "BnlabMaxPoolGrad",
    ];
    for (const k of kernels) {
      assert.ok(
        (counts[k]?.native ?? 0) > 0 && !counts[k]?.fallback,
        `${k}: ${JSON.stringify(counts[k])}`,
      );
    }
  },
);

/** Every weight's bytes after `steps` Adam steps of a fresh model on fixed data. */
async function train(steps: number): Promise<Uint8Array> {
  await tf.setBackend("wasm");
  const net = model(11);
  const optimizer: tf.Optimizer = tf.train.adam(1e-2);
  const { x, y } = batch(32, 7);
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, net.forward(x, { training: true })) as tf.Scalar,
        net.trainable,
      );
      optimizer.applyGradients(grads);
    });
  }
  const weights = net.params.map((p) =>
    new Uint8Array((p.variable.dataSync() as Float32Array).slice().buffer)
  );
  const bytes = new Uint8Array(weights.reduce((n, w) => n + w.length, 0));
  let at = 0;
  for (const w of weights) {
    bytes.set(w, at);
    at += w.length;
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  net.dispose();
  return bytes;
}

nativeTest(
  "training twice with the same inputs and thread count gives identical weights",
  async () => {
    const first = await train(4);
    const second = await train(4);
    assert.equal(first.length, second.length);
    assert.ok(first.every((b, i) => b === second[i]), "weights differ between identical runs");
  },
);

nativeTest("initNative() names the oneDNN version, file and thread count", async () => {
  assert.ok(native.ok);
  assert.match(native.library, /^oneDNN 2\.\d+\.\d+ \(libdnnl\.so\.2, 2 threads\)$/);
  const again = await initNative({ threads: 1 });
  assert.ok(again.ok && again.library.endsWith("1 thread)"), JSON.stringify(again));
  await initNative({ threads: 2 });
  assert.equal(tf.getBackend(), "wasm");
});

Deno.test("initNative() refuses a thread count that is not a positive integer", async () => {
  for (const threads of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(() => initNative({ threads }), RangeError);
  }
});

Deno.test("a missing oneDNN, or no FFI permission, is reported with what to do, not thrown", () => {
  let previous: string | undefined;
  try {
    previous = Deno.env.get(DNNL_PATH_ENV);
    Deno.env.set(DNNL_PATH_ENV, "/nonexistent/libdnnl.so.2");
  } catch {
    return; // Without env permission the override cannot be exercised.
  }
  try {
    const result = loadDnnl();
    assert.equal(result.ok, false);
    if (result.ok) return;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      assert.match(result.reason, /run Deno with --allow-ffi/);
      return;
    }
    assert.match(result.short, /not found/);
    assert.match(result.reason, /\/nonexistent\/libdnnl\.so\.2/);
    assert.match(result.reason, /sudo apt-get install libdnnl2/);
    assert.match(result.reason, /macOS is not supported/);
    assert.match(result.reason, /BNLAB_DNNL_PATH/);
  } finally {
    if (previous === undefined) Deno.env.delete(DNNL_PATH_ENV);
    else Deno.env.set(DNNL_PATH_ENV, previous);
  }
});

nativeTest("initNative() called again keeps every native kernel installed", async () => {
  const installed = new Map(
    tf.getKernelsForBackend("wasm").map((k) => [k.kernelName, k.kernelFunc]),
  );
  await initNative({ threads: 1 });
  await initNative({ threads: 2 });
  const after = new Map(tf.getKernelsForBackend("wasm").map((k) => [k.kernelName, k.kernelFunc]));
  const replaced = [...installed.keys()].filter((name) => after.get(name) !== installed.get(name));
  assert.deepEqual(replaced, []);
});
