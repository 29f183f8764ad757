/**
 * The `tensorflow` backend: libtensorflow through tfjs-node-gpu (CUDA) or
 * tfjs-node (CPU). Both ship a native addon that their npm install script
 * downloads; where that did not happen (or the machine is offline) the addon
 * is missing and this module explains how to install it instead of crashing.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { BackendError } from "../errors.ts";

const PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/**
 * Load the first of tfjs-node-gpu / tfjs-node whose native binding loads and
 * make `tensorflow` the active backend; returns the package used. Throws
 * `BackendError` naming what is missing and how to install it.
 */
export async function initTensorflow(): Promise<string> {
  const name = await probeTensorflow();
  if (await tf.setBackend("tensorflow")) {
    await tf.ready();
    return `${name}@${tf.version_core}`;
  }
  throw new BackendError(
    `${name} loaded, but its tensorflow backend did not start (its libtensorflow binding is ` +
      `missing or broken); reinstall it, or use --backend native or --backend wasm.`,
  );
}

/**
 * Import tfjs-node-gpu or tfjs-node (which registers the `tensorflow`
 * backend without making it active) and return the package's name; throws `BackendError` naming what is
 * missing and how to install it, or that the task's permissions do not let it
 * load.
 */
export async function probeTensorflow(): Promise<string> {
  // Both packages register the same kernels; keep tfjs from warning about the second set.
  tf.env().set("PROD", true);
  const failures: string[] = [];
  for (const name of PACKAGES) {
    try {
      // A variable specifier keeps these optional packages out of the static module graph.
      const specifier: string = name;
      await import(specifier);
      return name;
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable) {
        throw new BackendError(
          `${name} could not load under the task's permissions (${
            firstLine(err)
          }): the tfjs-node packages read environment variables and files of their own, which ` +
            `bnlab's tasks do not grant (least privilege); use --backend native or --backend ` +
            `wasm (native, oneDNN, is the fastest on CPUs).`,
        );
      }
      failures.push(`${name}: ${firstLine(err)}`);
    }
  }
  throw new BackendError(
    `The tensorflow backend needs @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1) or ` +
      `@tensorflow/tfjs-node, whose install script downloads libtensorflow 2.9.1; neither ` +
      `loaded (${failures.join("; ")}). On a machine with internet access run ` +
      `\`deno install --allow-scripts=npm:@tensorflow/tfjs-node\` (or -gpu) in this folder, ` +
      `or use --backend native or --backend wasm.`,
  );
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!.trim();
}
