/**
 * Tensors on the `wasm` backend's heap as oneDNN sees them: byte views at
 * each tensor's `memoryOffset` (passed to oneDNN as data pointers), and the
 * memory layouts of TF.js tensors (NHWC activations, HWIO filters).
 *
 * The heap may move or grow whenever the backend allocates, so kernels
 * allocate their outputs first and take views afterwards, from the current
 * `HEAPU8` every time.
 *
 * @module
 */
import type { KernelBackend, TensorInfo } from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../kernels/_memory.ts";
import type { Dnnl, MemoryDesc } from "./dnnl.ts";

/** The wasm backend behind a kernel's `backend` argument (throws on any other backend). */
export function wasmBackend(backend: KernelBackend): WasmBackendLike {
  if (!("wasm" in backend)) throw new Error("Native kernels run only on the wasm backend");
  return backend as WasmBackendLike;
}

/**
 * A byte view of float32 tensor `info` on the wasm heap, for a oneDNN memory
 * argument (valid until the backend next allocates).
 */
export function viewOf(backend: WasmBackendLike, info: TensorInfo): Uint8Array<ArrayBuffer> {
  const { memoryOffset } = backend.dataIdMap.get(info.dataId);
  return new Uint8Array(
    backend.wasm.HEAPU8.buffer as ArrayBuffer,
    memoryOffset,
    4 * sizeOf(info.shape),
  );
}

/** Logical oneDNN dims [N, C, H, W] with NHWC element strides, for a TF.js [N, H, W, C] tensor. */
export function nhwc(dnnl: Dnnl, n: number, h: number, w: number, c: number): MemoryDesc {
  return dnnl.mdStrided([n, c, h, w], [h * w * c, 1, w * c, c]);
}

/** Logical oneDNN weights [O, I, KH, KW] laid out as a TF.js HWIO filter [KH, KW, I, O]. */
export function hwio(dnnl: Dnnl, kh: number, kw: number, i: number, o: number): MemoryDesc {
  return dnnl.mdStrided([o, i, kh, kw], [1, o, kw * i * o, i * o]);
}

/** Number of elements of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
