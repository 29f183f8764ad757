/**
 * Running a backend's registered kernels from inside another kernel, for
 * kernels whose `cpu` and `wasm` versions are a composition of stock kernels
 * (the same bits by construction) and which `native` replaces.
 *
 * @module
 */
import { getKernel, type KernelBackend, type TensorInfo } from "@tensorflow/tfjs-core";

/**
 * Run kernel `name` as registered for `backendName` now (replacements
 * included) on `inputs`. Throws `Error` when the backend has no such kernel.
 */
export function runBackendKernel(
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: object,
  backend: KernelBackend,
  backendName: string,
): TensorInfo {
  const kernel = getKernel(name, backendName);
  if (!kernel) throw new Error(`Backend ${backendName} has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as never }) as TensorInfo;
}
