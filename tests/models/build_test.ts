import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backends/select.ts";
import { UsageError } from "../../lib/errors.ts";
import { buildModel } from "../../lib/models/build.ts";
import type { Layer, ModelOptions } from "../../lib/models/types.ts";
import { rngAt } from "../../lib/rng.ts";
import { listSpecs, loadSpec } from "../../lib/spec.ts";
import { throwsWith } from "../_assert.ts";

await initBackend("wasm");
const options: ModelOptions = {
  init: "glorot_uniform",
  batchNorm: { momentum: 0.1, epsilon: 1e-3 },
  classes: 10,
};
const rngFor = (path: string) => rngAt(1, "init", path);

Deno.test("buildModel() then dispose() leaves no tensor behind", () => {
  const before = tf.memory().numTensors;
  buildModel(
    [{ type: "conv2d", filters: 4, kernel: 3 }, { type: "batchnorm" }, { type: "flatten" }, {
      type: "dense",
      units: 10,
    }],
    options,
    rngFor,
  )
    .dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("buildModel() counts LeNet-5's 61,706 trainable parameters", async () => {
  const spec = await loadSpec("lenet5");
  const model = buildModel(
    spec.variants.find((v) => v.name === "baseline")!.layers,
    options,
    rngFor,
  );
  assert.equal(model.paramCount, 61706);
  model.dispose();
});

Deno.test("buildModel() builds every variant of every experiment and gives 10 logits", async () => {
  for (const name of await listSpecs()) {
    const spec = await loadSpec(name);
    for (const variant of spec.variants) {
      const model = buildModel(variant.layers, { ...spec.model, classes: 10 }, rngFor);
      const logits = tf.tidy(() => model.forward(tf.zeros([2, 28, 28, 1]), { training: false }));
      assert.deepEqual(logits.shape, [2, 10], `${name}/${variant.name}`);
      logits.dispose();
      model.dispose();
    }
  }
});

Deno.test("buildModel() initialises weights from the seed: same seed same weights, another seed others", () => {
  const layers: Layer[] = [{ type: "flatten" }, { type: "dense", units: 10 }];
  const values = (seed: number) => {
    const m = buildModel(layers, options, (p) => rngAt(seed, "init", p));
    const v = Array.from(m.params[0]!.variable.dataSync());
    m.dispose();
    return v;
  };
  assert.deepEqual(values(3), values(3));
  assert.notDeepEqual(values(3), values(4));
});

Deno.test("buildModel() explains layer lists that do not fit together", () => {
  throwsWith(
    () => buildModel([{ type: "dense", units: 10 }], options, rngFor),
    UsageError,
    "needs a flat input",
  );
  throwsWith(
    () => buildModel([{ type: "flatten" }, { type: "dense", units: 5 }], options, rngFor),
    UsageError,
    "expected [10] logits",
  );
  throwsWith(
    () =>
      buildModel(
        [
          {
            type: "residual",
            body: [{ type: "conv2d", filters: 8, kernel: 3, stride: 2 }],
            shortcut: "identity",
          },
          { type: "flatten" },
          { type: "dense", units: 10 },
        ],
        options,
        rngFor,
      ),
    UsageError,
    "identity shortcut needs equal shapes",
  );
});
