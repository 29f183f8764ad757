/**
 * Saving and loading trained models in the TF.js weights format: `model.json`
 * (the layer list and model options as topology, plus a TF.js
 * `weightsManifest`) and `weights.bin` (float32 weights in manifest order).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../fs.ts";
import { rngAt } from "../rng.ts";
import { buildModel, type Model } from "./build.ts";
import type { Layer, ModelOptions } from "./types.ts";

/** Format tag of `model.json` files written here. */
export const MODEL_FORMAT = "bnlab-layers-v1";

/** What `model.json` records besides the weights. */
export interface SavedModelInfo {
  experiment: string;
  variant: string;
  seed: number;
  /** Dataset the model was trained on (`fashion-mnist`, `mnist`, `synthetic`). */
  dataset: string;
  layers: Layer[];
  options: ModelOptions;
}

/** Write `model` to `dir` (created if needed) as `model.json` + `weights.bin`. */
export async function saveModel(model: Model, dir: string, info: SavedModelInfo): Promise<void> {
  const named = model.params.map((p) => ({ name: p.name, tensor: p.variable as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  await writeFileAtomic(join(dir, "weights.bin"), new Uint8Array(data));
  const manifest = {
    format: MODEL_FORMAT,
    generatedBy: "bnlab",
    modelTopology: info,
    weightsManifest: [{ paths: ["weights.bin"], weights: specs }],
  };
  await writeFileAtomic(join(dir, "model.json"), JSON.stringify(manifest, null, 2) + "\n");
}

/**
 * Rebuild a model saved by {@linkcode saveModel}. Throws `UsageError` when the
 * folder does not hold a model of this format or its weights do not fit.
 */
export async function loadModel(dir: string): Promise<{ model: Model; info: SavedModelInfo }> {
  let manifest: {
    format?: string;
    modelTopology?: SavedModelInfo;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    manifest = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
  } catch (err) {
    throw new UsageError(`Cannot read a saved model in ${dir}: ${(err as Error).message}.`);
  }
  const group = manifest.weightsManifest?.[0];
  const info = manifest.modelTopology;
  if (manifest.format !== MODEL_FORMAT || !group || !info) {
    throw new UsageError(
      `${join(dir, "model.json")} is not a bnlab model (format ${manifest.format}).`,
    );
  }
  const bytes = await Deno.readFile(join(dir, group.paths[0]!));
  const weights = tf.io.decodeWeights(bytes.buffer as ArrayBuffer, group.weights);
  const model = buildModel(info.layers, info.options, (path) => rngAt(info.seed, "init", path));
  for (const param of model.params) {
    const value = weights[param.name];
    if (!value || value.size !== param.variable.size) {
      model.dispose();
      tf.dispose(Object.values(weights));
      throw new UsageError(`${dir}: weight ${param.name} is missing or has the wrong shape.`);
    }
    tf.tidy(() => param.variable.assign(tf.reshape(value, param.variable.shape)));
  }
  tf.dispose(Object.values(weights));
  return { model, info };
}
