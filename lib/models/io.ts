/**
 * Saving and loading trained models in the TF.js weights format: `model.json`
 * (the layer list and model options as topology, a TF.js `weightsManifest`,
 * and the size and SHA-256 of the weights) and `weights.bin` (float32
 * weights in manifest order).
 *
 * A model folder is checked like a dataset file on load: `model.json` must
 * validate, `weights.bin` must exist, have exactly the recorded size and
 * digest, and hold only finite numbers, and every weight must fit the
 * rebuilt model. Anything else is a `UsageError` naming the file.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { parseJsonText, writeFileAtomic } from "../fs.ts";
import { sha256Hex } from "../hash.ts";
import { rngAt } from "../rng.ts";
import { LayerSchema } from "./types.ts";
import { buildModel, type Model } from "./build.ts";
import type { Layer, ModelOptions } from "./types.ts";

/** Format tag of `model.json` files written here (v2 adds the weights' size and digest). */
export const MODEL_FORMAT = "bnlab-layers-v2";

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

const positiveInt = z.number().int().positive();
const ManifestSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  modelTopology: z.object({
    experiment: z.string().min(1),
    variant: z.string().min(1),
    seed: z.number().int().nonnegative(),
    dataset: z.string().min(1),
    layers: z.array(LayerSchema).min(1),
    options: z.object({
      init: z.enum(["glorot_uniform", "torch_default"]),
      batchNorm: z.object({ momentum: z.number().gt(0).max(1), epsilon: z.number().positive() }),
      classes: positiveInt,
    }),
  }),
  weightsManifest: z.tuple([z.object({
    paths: z.tuple([z.literal("weights.bin")]),
    weights: z.array(z.object({
      name: z.string().min(1),
      shape: z.array(positiveInt),
      dtype: z.literal("float32"),
    })).min(1),
  })]),
  weightsBytes: z.number().int().nonnegative(),
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Write `model` to `dir` (created if needed) as `model.json` + `weights.bin`. */
export async function saveModel(model: Model, dir: string, info: SavedModelInfo): Promise<void> {
  const named = model.params.map((p) => ({ name: p.name, tensor: p.variable as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = new Uint8Array(data);
  await writeFileAtomic(join(dir, "weights.bin"), bytes);
  const manifest = {
    format: MODEL_FORMAT,
    generatedBy: "bnlab",
    modelTopology: info,
    weightsManifest: [{ paths: ["weights.bin"], weights: specs }],
    weightsBytes: bytes.length,
    weightsSha256: sha256Hex(bytes),
  };
  await writeFileAtomic(join(dir, "model.json"), JSON.stringify(manifest, null, 2) + "\n");
}

/**
 * Rebuild a model saved by {@linkcode saveModel}. Throws `UsageError` when the
 * folder does not hold a model of this format, when `weights.bin` is missing,
 * truncated, extended, altered or not finite, or when its weights do not fit.
 */
export async function loadModel(dir: string): Promise<{ model: Model; info: SavedModelInfo }> {
  const manifestPath = join(dir, "model.json");
  const manifest = ManifestSchema.safeParse(await readJson(manifestPath));
  if (!manifest.success) {
    const issue = manifest.error.issues[0]!;
    throw new UsageError(
      `${manifestPath} is not a bnlab model of format ${MODEL_FORMAT} (${
        issue.path.join(".") || "(root)"
      }: ${issue.message}); save the model again with \`deno task study --save-models\`.`,
    );
  }
  const { modelTopology: info, weightsManifest: [group], weightsBytes, weightsSha256 } =
    manifest.data;
  const weightsPath = join(dir, "weights.bin");
  const bytes = await readWeights(weightsPath);
  const declared = group.weights.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (declared !== weightsBytes || bytes.length !== weightsBytes) {
    throw new UsageError(
      `${weightsPath} has ${bytes.length} bytes, but ${manifestPath} declares ${weightsBytes} ` +
        `(its weights need ${declared}); the file is ${
          bytes.length < weightsBytes ? "truncated" : "extended or from another model"
        }. Restore both files from where the model was saved.`,
    );
  }
  if (sha256Hex(bytes) !== weightsSha256) {
    throw new UsageError(
      `${weightsPath} does not match the SHA-256 recorded in ${manifestPath}; it was altered or ` +
        `belongs to another model. Restore both files from where the model was saved.`,
    );
  }
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const bad = floats.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    throw new UsageError(
      `${weightsPath} holds a non-finite weight (${floats[bad]} at index ${bad}); the model ` +
        `diverged or the file is damaged, so its predictions would mean nothing.`,
    );
  }
  const model = buildModel(info.layers, info.options, (path) => rngAt(info.seed, "init", path));
  const weights = tf.io.decodeWeights(floats.slice().buffer, group.weights);
  try {
    const expected = new Set(model.params.map((p) => p.name));
    const extra = Object.keys(weights).find((name) => !expected.has(name));
    if (extra !== undefined) {
      throw new UsageError(`${manifestPath}: weight ${extra} belongs to no layer of the model.`);
    }
    for (const param of model.params) {
      const value = weights[param.name];
      if (!value || value.size !== param.variable.size) {
        throw new UsageError(
          `${manifestPath}: weight ${param.name} is missing or has the wrong shape.`,
        );
      }
      tf.tidy(() => param.variable.assign(tf.reshape(value, param.variable.shape)));
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(weights));
  }
  return { model, info: info as SavedModelInfo };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new UsageError(
      `Cannot read ${path} (${
        (err as Error).message.split("\n")[0]
      }); --evaluate needs a folder written by \`deno task study --save-models\`.`,
    );
  }
  return parseJsonText(path, text, (m) => new UsageError(`${m}.`));
}

async function readWeights(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "it is missing"
      : (err as Error).message.split("\n")[0];
    throw new UsageError(
      `Cannot read the model's weights ${path} (${reason}); restore it from where the model was ` +
        `saved.`,
    );
  }
}
