/**
 * The `native` backend: the `wasm` backend with its heavy kernels run by
 * oneDNN 2.x (multi-threaded through OpenMP) in place on the wasm heap,
 * through `Deno.dlopen`. TF.js's model code, autodiff and optimizers stay as
 * they are; shapes or attributes the native kernels do not cover go to the
 * wasm kernels.
 *
 * Deno permissions: `--allow-ffi` (scopable to the oneDNN file and
 * `libgomp.so.1` in the same directory, e.g.
 * `--allow-ffi=/usr/lib/x86_64-linux-gnu/libdnnl.so.2,/usr/lib/x86_64-linux-gnu/libgomp.so.1`),
 * plus, optionally, `--allow-env=BNLAB_DNNL_PATH,OMP_WAIT_POLICY`: the first to
 * honour that override, the second to let idle OpenMP threads sleep instead
 * of spinning (much faster when other processes share the cores).
 *
 * @module
 */
import type { KernelConfig } from "@tensorflow/tfjs-core";
import * as tf from "@tensorflow/tfjs-core";
import { replaceKernel } from "../registry.ts";
import { initWasm } from "../wasm.ts";
import { batchNormKernels } from "./batch_norm.ts";
import { convKernels } from "./conv.ts";
import { DNNL, type Dnnl } from "./dnnl.ts";
import { dirOf, loadDnnl } from "./library.ts";
import { matMulKernels } from "./matmul.ts";
import { preferPassiveWaiting, setOpenMpThreads } from "./openmp.ts";
import { poolKernels } from "./pool.ts";
import { sumKernels } from "./sum.ts";

/** Outcome of {@linkcode initNative}. */
export type NativeResult =
  | { ok: true; library: string }
  | { ok: false; reason: string; short: string };

let loaded: { dnnl: Dnnl; path: string } | undefined;

/**
 * Load oneDNN, start wasm, install native kernels. Never throws for a
 * missing library: returns ok:false with `reason` (a one-paragraph,
 * actionable message saying what is missing and how to install it: on
 * Debian/Ubuntu `sudo apt-get install libdnnl2`; macOS is not supported, as
 * Homebrew's oneDNN 3 has another C API) and `short` (a few words). On
 * failure nothing is installed and the active backend is unchanged.
 *
 * `options.threads` (a positive integer) fixes the OpenMP threads of every
 * native kernel called from this thread (each worker calls this itself);
 * results are bit-reproducible for a fixed count. Calling again only changes
 * the thread count and makes `wasm` active. Throws `RangeError` for an
 * invalid thread count.
 */
export async function initNative(options: { threads: number }): Promise<NativeResult> {
  const { threads } = options;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`Native threads must be a positive integer, got ${threads}`);
  }
  let fresh: { dnnl: Dnnl; path: string } | undefined;
  if (!loaded) {
    preferPassiveWaiting();
    const result = loadDnnl();
    if (!result.ok) return result;
    fresh = { dnnl: result.dnnl, path: result.path };
  }
  const { dnnl, path } = loaded ?? fresh!;
  const threading = fixThreads(dnnl, path, threads);
  if (typeof threading !== "string") {
    fresh?.dnnl.close();
    return threading;
  }
  if (fresh) {
    await initWasm();
    for (const config of nativeKernelConfigs(fresh.dnnl)) replaceKernel(config);
    loaded = fresh;
  } else if (tf.getBackend() !== "wasm") {
    // Already installed: only reactivate wasm (initWasm would put the wasm kernels back).
    await tf.setBackend("wasm");
  }
  const { major, minor, patch } = dnnl.version;
  const file = path.slice(path.lastIndexOf("/") + 1);
  return { ok: true, library: `oneDNN ${major}.${minor}.${patch} (${file}, ${threading})` };
}

/** Set the thread count; returns how the library string describes it, or why it cannot be set. */
function fixThreads(
  dnnl: Dnnl,
  path: string,
  threads: number,
): string | { ok: false; reason: string; short: string } {
  const { major, minor, patch, cpuRuntime } = dnnl.version;
  const version = `oneDNN ${major}.${minor}.${patch}`;
  if (cpuRuntime === DNNL.runtimeSeq) return "sequential build, 1 thread";
  if (cpuRuntime !== DNNL.runtimeOmp) {
    return {
      ok: false,
      short: "oneDNN not built with OpenMP",
      reason: `${version} at ${path} uses CPU runtime ${cpuRuntime}, not OpenMP, so its thread ` +
        "count cannot be fixed (needed for reproducible results). Install the Debian/Ubuntu " +
        "build (`sudo apt-get install libdnnl2`) or build oneDNN 2.x with " +
        "-DDNNL_CPU_RUNTIME=OMP and point BNLAB_DNNL_PATH at it. Or use --backend wasm.",
    };
  }
  const set = setOpenMpThreads(threads, dirOf(path));
  if (!set.ok && set.failures.length === 0) {
    const gomp = `${dirOf(path)}/libgomp.so.1`;
    return {
      ok: false,
      short: "no --allow-ffi permission for libgomp",
      reason: `${version} loaded from ${path}, but Deno may not open GNU OpenMP (${gomp}), ` +
        `through which the thread count is set: allow both files, e.g. ` +
        `--allow-ffi=${path},${gomp}. Or use --backend wasm.`,
    };
  }
  if (!set.ok) {
    const tried = [...set.failures, ...set.denied.map((p) => `${p}: not permitted`)];
    return {
      ok: false,
      short: "GNU OpenMP (libgomp.so.1) not found",
      reason: `${version} loaded from ${path}, but GNU OpenMP, through which its thread count ` +
        `is set, did not load (${tried.join("; ")}). ` +
        "Install it (`sudo apt-get install libgomp1` on Debian/Ubuntu) and allow Deno FFI " +
        "access to it (--allow-ffi). Or use --backend wasm.",
    };
  }
  return `${threads} thread${threads === 1 ? "" : "s"}`;
}

/** Every native kernel config, in registration order. */
function nativeKernelConfigs(dnnl: Dnnl): KernelConfig[] {
  return [
    ...convKernels(dnnl),
    ...poolKernels(dnnl),
    ...batchNormKernels(dnnl),
    ...matMulKernels(dnnl),
    ...sumKernels(dnnl),
  ];
}
