/**
 * Choosing and starting a training backend.
 *
 * | name | what runs the kernels |
 * |---|---|
 * | `native` | the `wasm` backend with its heavy kernels (convolutions, matrix products, pooling, batch norm) in oneDNN, multi-threaded, through `Deno.dlopen` |
 * | `wasm` | tfjs-backend-wasm (XNNPACK, SIMD, one thread) with the gradient kernels it lacks |
 * | `cpu` | tfjs-backend-cpu, plain JavaScript: the slow reference the others are tested against |
 * | `tensorflow` | tfjs-node-gpu or tfjs-node (libtensorflow), when its native binding loads |
 *
 * `auto` picks `native` when oneDNN loads and `wasm` otherwise, with a notice.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { BackendError } from "../errors.ts";
import { registerKernelGradients } from "./kernels/gradients.ts";
import { initCpu } from "./cpu.ts";
import { initNative } from "./native/init.ts";
import { loadDnnl } from "./native/library.ts";
import { initTensorflow, probeTensorflow } from "./tensorflow.ts";
import { initWasm } from "./wasm.ts";

/** Backends a user can ask for. */
export const BACKEND_CHOICES = ["auto", "native", "wasm", "cpu", "tensorflow"] as const;
/** A backend a user can ask for. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A backend that actually runs. */
export type BackendName = Exclude<BackendChoice, "auto">;

/** What started, for the results' provenance. */
export interface BackendInfo {
  name: BackendName;
  /** Threads the kernels use (1 for wasm and cpu). */
  threads: number;
  /** TF.js version. */
  tfjs: string;
  /** Native library and version, when one is used. */
  library?: string;
  /** A one-line notice for the user (e.g. a fallback), if any. */
  notice?: string;
}

/**
 * The backend and thread count `initBackend(choice, { threads })` will start,
 * found without starting it (for `auto`, whether oneDNN loads). Runs are
 * stored under this name and count, so a study can tell which are done
 * before any worker starts.
 */
export function plannedBackend(
  choice: BackendChoice,
  threads: number,
): { name: BackendName; threads: number } {
  const name: BackendName = choice === "auto" ? (loadDnnl().ok ? "native" : "wasm") : choice;
  return { name, threads: name === "native" ? threads : name === "tensorflow" ? 0 : 1 };
}

/**
 * Check, without starting it, that an explicitly chosen backend can load on
 * this machine, so a study with nothing to train still says so. Throws
 * `BackendError` with the same explanation `initBackend` would give.
 */
export async function checkBackend(choice: BackendChoice): Promise<void> {
  if (choice === "native") {
    const dnnl = loadDnnl();
    if (!dnnl.ok) throw new BackendError(dnnl.reason);
  } else if (choice === "tensorflow") {
    await probeTensorflow();
  }
}

/** Options of {@linkcode initBackend}. */
export interface BackendOptions {
  /** Threads for the native backend (default 1: one core per worker). */
  threads?: number;
}

/**
 * Start the backend `choice` in this process (or worker) and register the
 * harness's gradients. Throws `BackendError` with install instructions when
 * an explicitly requested backend cannot load.
 */
export async function initBackend(
  choice: BackendChoice,
  options: BackendOptions = {},
): Promise<BackendInfo> {
  registerKernelGradients();
  const threads = options.threads ?? 1;
  const base = { tfjs: tf.version_core };
  switch (choice) {
    case "cpu":
      await initCpu();
      return { ...base, name: "cpu", threads: 1 };
    case "wasm":
      await initWasm();
      return { ...base, name: "wasm", threads: 1 };
    case "tensorflow": {
      const library = await initTensorflow();
      return { ...base, name: "tensorflow", threads: 0, library };
    }
    case "native":
    case "auto": {
      const native = await initNative({ threads });
      if (native.ok) return { ...base, name: "native", threads, library: native.library };
      if (choice === "native") throw new BackendError(native.reason);
      await initWasm();
      return {
        ...base,
        name: "wasm",
        threads: 1,
        notice:
          `native kernels unavailable (${native.short}); training on wasm, several times slower.`,
      };
    }
  }
}
