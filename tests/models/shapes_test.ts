import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { initBackend } from "../../lib/backends/select.ts";
import { UsageError } from "../../lib/errors.ts";
import { buildModel } from "../../lib/models/build.ts";
import { checkBatchMemory, inferShapes } from "../../lib/models/shapes.ts";
import type { Layer, ModelOptions } from "../../lib/models/types.ts";
import { rngAt } from "../../lib/rng.ts";
import { listSpecs, loadSpec, PROFILES, resolveRun } from "../../lib/spec.ts";
import { check, depth } from "../properties/_prop.ts";

await initBackend("wasm");
const options: ModelOptions = {
  init: "glorot_uniform",
  batchNorm: { momentum: 0.1, epsilon: 1e-3 },
  classes: 10,
};
const rngFor = (path: string) => rngAt(1, "init", path);

/** Output shape of the built model on one example, and its parameter count. */
function built(layers: Layer[]): { output: number[]; params: number } {
  const model = buildModel(layers, options, rngFor);
  try {
    const y = tf.tidy(() => model.forward(tf.zeros([1, 28, 28, 1]), { training: false }));
    const output = y.shape.slice(1);
    y.dispose();
    return { output, params: model.paramCount };
  } finally {
    model.dispose();
  }
}

Deno.test("every committed variant's inferred shapes and parameter count match the built model", async () => {
  for (const name of await listSpecs()) {
    const spec = await loadSpec(name);
    for (const v of spec.variants) {
      const layers = resolveRun(spec, v.name, PROFILES[0]!).layers;
      const inferred = inferShapes(layers, 10, `${name} variant "${v.name}"`);
      assert.deepEqual(
        { output: inferred.output, params: inferred.params },
        built(layers),
        `${name}/${v.name}`,
      );
    }
  }
});

const windowLayer = fc.oneof(
  fc.record({
    type: fc.constant("conv2d" as const),
    filters: fc.integer({ min: 1, max: 4 }),
    kernel: fc.integer({ min: 1, max: 9 }),
    stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.constantFrom("same" as const, "valid" as const),
  }),
  fc.record({
    type: fc.constantFrom("maxpool" as const, "avgpool" as const),
    size: fc.integer({ min: 1, max: 6 }),
    stride: fc.integer({ min: 1, max: 4 }),
    padding: fc.constantFrom("same" as const, "valid" as const),
  }),
  fc.record({
    type: fc.constant("conv2d" as const),
    filters: fc.integer({ min: 1, max: 4 }),
    kernel: fc.integer({ min: 1, max: 5 }),
    dilation: fc.integer({ min: 2, max: 4 }),
    padding: fc.constantFrom("same" as const, "valid" as const),
  }),
);

Deno.test("on random stacks of convolutions and pooling, inference and the builder agree, or both refuse", () => {
  check(
    fc.property(fc.array(windowLayer, { minLength: 1, maxLength: depth(5, 8) }), (stack) => {
      const layers: Layer[] = [...stack, { type: "flatten" }, { type: "dense", units: 10 }];
      let inferred: ReturnType<typeof inferShapes> | UsageError;
      try {
        inferred = inferShapes(layers, 10, "random stack");
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        inferred = err;
      }
      if (inferred instanceof UsageError) {
        // The builder checks shapes first, so it refuses with the same error.
        assert.throws(() => buildModel(layers, options, rngFor), UsageError);
        return;
      }
      assert.deepEqual({ output: inferred.output, params: inferred.params }, built(layers));
    }),
    200,
  );
});

Deno.test("a kernel larger than its input names the layer, the window and the input", () => {
  assert.throws(
    () =>
      inferShapes(
        [{ type: "conv2d", filters: 4, kernel: 30, padding: "valid" }, { type: "flatten" }, {
          type: "dense",
          units: 10,
        }],
        10,
        'toy variant "big"',
      ),
    (err: unknown) =>
      err instanceof UsageError &&
      /toy variant "big": layer 00\.conv2d has a 30×30 window on a 28×28 input/.test(err.message),
  );
});

Deno.test("pooling that shrinks the image to nothing is refused before anything is allocated", () => {
  // 28 → 14 → 7 → 3 → 1, then nothing.
  const pools: Layer[] = Array.from({ length: 6 }, () => ({ type: "maxpool" }));
  const before = tf.memory().numTensors;
  assert.throws(
    () =>
      buildModel([...pools, { type: "flatten" }, { type: "dense", units: 10 }], options, rngFor),
    /The model: layer 04\.maxpool has a 2×2 window on a 1×1 input with padding "valid", which leaves no output/,
  );
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("a dense layer of a billion units is refused by its parameter count", () => {
  assert.throws(
    () =>
      inferShapes(
        [{ type: "flatten" }, { type: "dense", units: 1e9 }, { type: "dense", units: 10 }],
        10,
        "huge",
      ),
    /huge: the model has 7\.95e\+11 trainable parameters/,
  );
});

Deno.test("a batch whose activations do not fit is refused with the estimate", () => {
  const wide = inferShapes(
    [{ type: "conv2d", filters: 4096, kernel: 1 }, { type: "gap" }, { type: "dense", units: 10 }],
    10,
    "wide",
  );
  checkBatchMemory(wide, 1, "wide");
  assert.throws(
    () => checkBatchMemory(wide, 1024, "wide"),
    /wide: one training batch of 1024 needs about \d+\.\d GiB/,
  );
});
