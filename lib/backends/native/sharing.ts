/**
 * Kernels whose result is their input, sharing its memory instead of copying
 * it, as the `cpu` backend does (the shipped wasm kernels copy the tensor):
 *
 * - `Identity`: TF.js runs it to keep every tensor a gradient needs (the
 *   engine clones each saved tensor), so a training step copies all its
 *   activations once more on the shipped kernel.
 * - `Cast` to the dtype the tensor already has (e.g. ReLU's gradient casts
 *   the float32 `Step` mask to float32).
 *
 * Tensors are immutable in TF.js (a variable gets new memory on assignment),
 * and the wasm backend frees shared memory at its last reference, as it does
 * for `Reshape`.
 *
 * @module
 */
import type { CastAttrs, KernelConfig, TensorInfo } from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../kernels/_memory.ts";
import { nativeKernel } from "./kernel.ts";

/** Another reference to `x`'s memory (null for strings, which keep the shipped kernel). */
function share(x: TensorInfo, backend: WasmBackendLike): TensorInfo | null {
  if (x.dtype === "string") return null;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** The memory-sharing `Identity` and same-dtype `Cast` kernels for `wasm`. */
export function sharingKernels(): KernelConfig[] {
  return [
    nativeKernel<{ x: TensorInfo }, Record<string, never>>(
      "Identity",
      ({ inputs: { x } }, backend) => share(x, backend),
    ),
    nativeKernel<{ x: TensorInfo }, CastAttrs>(
      "Cast",
      ({ inputs: { x }, attrs }, backend) => x.dtype === attrs.dtype ? share(x, backend) : null,
    ),
  ];
}
