import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../../lib/backends/select.ts";
import { UsageError } from "../../lib/errors.ts";
import { buildModel } from "../../lib/models/build.ts";
import { loadModel, type SavedModelInfo, saveModel } from "../../lib/models/io.ts";
import { sha256Hex } from "../../lib/hash.ts";
import { rngAt } from "../../lib/rng.ts";

await initBackend("wasm");

const info: SavedModelInfo = {
  experiment: "lenet5",
  variant: "toy",
  seed: 3,
  dataset: "synthetic",
  layers: [
    { type: "conv2d", filters: 2, kernel: 3 },
    { type: "batchnorm" },
    { type: "relu" },
    { type: "gap" },
    { type: "dense", units: 10 },
  ],
  options: { init: "torch_default", batchNorm: { momentum: 0.1, epsilon: 1e-5 }, classes: 10 },
};

async function saved(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bnlab-model-" });
  const model = buildModel(info.layers, info.options, (p) => rngAt(7, "init", p));
  await saveModel(model, dir, info);
  model.dispose();
  return dir;
}

async function refusal(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(
    () => loadModel(dir),
    (err: unknown) => err instanceof UsageError && pattern.test(err.message),
  );
  await Deno.remove(dir, { recursive: true });
}

Deno.test("a saved model loads back with the same weights", async () => {
  const dir = await saved();
  const { model, info: back } = await loadModel(dir);
  const original = buildModel(info.layers, info.options, (p) => rngAt(7, "init", p));
  model.params.forEach((p, i) =>
    assert.deepEqual(p.variable.dataSync(), original.params[i]!.variable.dataSync())
  );
  assert.deepEqual(back, info);
  model.dispose();
  original.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a missing weights file is named", async () => {
  const dir = await saved();
  await Deno.remove(join(dir, "weights.bin"));
  await refusal(dir, /weights\.bin \(it is missing\)/);
});

Deno.test("truncated and extended weights are refused by their size", async () => {
  for (
    const change of [(b: Uint8Array) => b.slice(0, b.length - 4), (b: Uint8Array) => {
      const longer = new Uint8Array(b.length + 8);
      longer.set(b);
      return longer;
    }]
  ) {
    const dir = await saved();
    const path = join(dir, "weights.bin");
    await Deno.writeFile(path, change(await Deno.readFile(path)));
    await refusal(
      dir,
      /weights\.bin has \d+ bytes, but .*model\.json declares \d+ .*(truncated|extended)/,
    );
  }
});

Deno.test("weights altered in place are refused by their digest", async () => {
  const dir = await saved();
  const path = join(dir, "weights.bin");
  const bytes = await Deno.readFile(path);
  bytes[5] = bytes[5]! ^ 0x10;
  await Deno.writeFile(path, bytes);
  await refusal(dir, /does not match the SHA-256/);
});

Deno.test("non-finite weights are refused even when the digest was updated to match", async () => {
  const dir = await saved();
  const path = join(dir, "weights.bin");
  const bytes = await Deno.readFile(path);
  new Float32Array(bytes.buffer).fill(NaN);
  await Deno.writeFile(path, bytes);
  const manifestPath = join(dir, "model.json");
  const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
  manifest.weightsSha256 = sha256Hex(bytes);
  await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
  await refusal(dir, /non-finite weight \(NaN at index 0\)/);
});

Deno.test("a manifest that is empty, not an object, or describes an impossible model is refused", async () => {
  for (
    const [text, pattern] of [
      ["", /model\.json is not valid JSON/],
      ["[]", /is not a bnlab model .*\(\(root\)/],
      ["{}", /is not a bnlab model/],
    ] as const
  ) {
    const dir = await saved();
    await Deno.writeTextFile(join(dir, "model.json"), text);
    await refusal(dir, pattern);
  }
  const dir = await saved();
  const manifestPath = join(dir, "model.json");
  const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
  manifest.modelTopology.layers.unshift({ type: "dense", units: 1e9 });
  await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
  await refusal(dir, /needs a flat input/);
});
