/**
 * Typed-array access to tensor memory for kernels written in TypeScript, on
 * the `cpu` backend (JS arrays) and the `wasm` backend (views of the wasm heap).
 *
 * A wasm heap view is invalidated whenever the heap grows, which any
 * allocation may cause: kernels allocate all outputs first, then take views.
 *
 * @module
 */
import type { DataType, KernelBackend, TensorInfo } from "@tensorflow/tfjs-core";

/** The parts of tfjs-backend-wasm's `BackendWasm` the kernels use. */
export interface WasmBackendLike extends KernelBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number; id: number } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
}

/** The parts of tfjs-backend-cpu's `MathBackendCPU` the kernels use. */
export interface CpuBackendLike extends KernelBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: unknown): TensorInfo;
}

/** Memory access for one backend. */
export interface TensorMemory {
  /** A new tensor of `shape` (float32 unless said; contents unspecified on wasm, zero on cpu). */
  alloc(shape: number[], dtype?: "float32" | "int32"): TensorInfo;
  /** A float32 view of `info`'s data; on wasm valid until the next allocation. */
  f32(info: TensorInfo): Float32Array;
  /** An int32 view of `info`'s data; on wasm valid until the next allocation. */
  i32(info: TensorInfo): Int32Array;
  /** Byte offset of `info`'s data in the wasm heap (for wasm modules); `undefined` on cpu. */
  offset(info: TensorInfo): number | undefined;
  /** Release a tensor created by `alloc` that is not returned to the engine. */
  free(info: TensorInfo): void;
}

/** Memory access for a wasm backend. */
export function wasmMemory(backend: WasmBackendLike): TensorMemory {
  const view = <T>(
    make: new (buffer: ArrayBufferLike, offset: number, length: number) => T,
    info: TensorInfo,
  ): T => {
    const { memoryOffset } = backend.dataIdMap.get(info.dataId);
    return new make(backend.wasm.HEAPU8.buffer, memoryOffset, size(info.shape));
  };
  return {
    alloc: (shape, dtype = "float32") => backend.makeOutput(shape, dtype),
    f32: (info) => view(Float32Array, info),
    i32: (info) => view(Int32Array, info),
    offset: (info) => backend.dataIdMap.get(info.dataId).memoryOffset,
    free: (info) => void backend.disposeData(info.dataId, true),
  };
}

/** Memory access for a cpu backend. */
export function cpuMemory(backend: CpuBackendLike): TensorMemory {
  return {
    alloc: (shape, dtype = "float32") =>
      backend.makeTensorInfo(
        shape,
        dtype,
        dtype === "int32" ? new Int32Array(size(shape)) : new Float32Array(size(shape)),
      ),
    f32: (info) => backend.data.get(info.dataId).values as Float32Array,
    i32: (info) => backend.data.get(info.dataId).values as Int32Array,
    offset: () => undefined,
    free: (info) => void backend.disposeData(info.dataId, true),
  };
}

/** Whether `backend` is a wasm backend (its tensors live in a wasm heap). */
export function isWasmBackend(backend: KernelBackend): backend is WasmBackendLike {
  return "wasm" in backend;
}

/** Memory access for whichever of the two kinds `backend` is. */
export function memoryOf(backend: KernelBackend): TensorMemory {
  return isWasmBackend(backend) ? wasmMemory(backend) : cpuMemory(backend as CpuBackendLike);
}

const compiledModules = new WeakMap<Uint8Array, WebAssembly.Module>();
const heapInstances = new WeakMap<WebAssembly.Memory, Map<WebAssembly.Module, unknown>>();

/**
 * The kernels' wasm module `bytes` (importing only `env.memory`) instantiated
 * on `backend`'s own heap, so its functions work in place on tensor memory;
 * compiled once per module and instantiated once per heap. Throws `Error`
 * when the heap is not reachable (a tfjs-backend-wasm whose internals changed).
 */
export function heapModule<T>(bytes: Uint8Array<ArrayBuffer>, backend: WasmBackendLike): T {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error("The wasm backend's heap is not reachable (tfjs-backend-wasm changed?)");
  }
  let compiled = compiledModules.get(bytes);
  if (!compiled) {
    compiled = new WebAssembly.Module(bytes);
    compiledModules.set(bytes, compiled);
  }
  let instances = heapInstances.get(memory);
  if (!instances) {
    instances = new Map();
    heapInstances.set(memory, instances);
  }
  let exports = instances.get(compiled);
  if (!exports) {
    exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports;
    instances.set(compiled, exports);
  }
  return exports as T;
}

/** Number of elements of a shape. */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
