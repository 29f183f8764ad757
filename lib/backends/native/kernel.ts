/**
 * Building TF.js kernel configs for native kernels that hand the cases they
 * do not cover to the kernel registered before them.
 *
 * @module
 */
import {
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { wasmBackend } from "./memory.ts";
import type { WasmBackendLike } from "../kernels/_memory.ts";
import { countFallback, countNative } from "./stats.ts";

/** Arguments TF.js passes to a kernel. */
export interface KernelArgs<I, A> {
  inputs: I;
  backend: KernelBackend;
  attrs: A;
}

/** A native implementation: its result, or `null` to use the fallback kernel. */
export type NativeImpl<I, A> = (
  args: KernelArgs<I, A>,
  backend: WasmBackendLike,
) => TensorInfo | TensorInfo[] | null;

/**
 * A `wasm` kernel config for `kernelName` running `impl`, and the kernel
 * registered for `wasm` right now (the shipped one or a TypeScript
 * replacement) whenever `impl` returns null. Throws `Error` at call time if
 * there is no kernel to fall back to.
 */
export function nativeKernel<I, A>(kernelName: string, impl: NativeImpl<I, A>): KernelConfig {
  const fallback: KernelFunc | undefined = getKernel(kernelName, "wasm")?.kernelFunc;
  const kernelFunc = (args: KernelArgs<I, A>): TensorInfo | TensorInfo[] => {
    const out = impl(args, wasmBackend(args.backend));
    if (out !== null) {
      countNative(kernelName);
      return out;
    }
    countFallback(kernelName);
    if (!fallback) throw new Error(`No wasm kernel ${kernelName} to fall back to`);
    return fallback(args as never) as TensorInfo | TensorInfo[];
  };
  return { kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as KernelFunc };
}
