/**
 * Inverted dropout as one fused kernel pair: the forward pass draws the mask
 * (Philox4x32-10, defined in `lib/rng.ts`) and multiplies in the same pass,
 * writing the keep decisions as packed bits (one int32 per 32 elements); the
 * backward pass applies those bits to the incoming gradient. No mask tensor is
 * ever materialised.
 *
 * On `wasm` (and so `native`, which runs these on the wasm heap) both passes
 * are a SIMD128 module (`dropout.wat`) instantiated on the backend's own
 * memory, working in place on tensor memory; the elements after its last whole
 * pair of groups (fewer than 1,024) go through the TypeScript reference. On
 * `cpu` the TypeScript reference does everything. Both give identical bits
 * (tests/properties/dropout_test.ts, on cpu, wasm and native).
 *
 * @module
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { dropoutBits, dropoutKeepBits, dropoutScale, dropoutThreshold } from "../../rng.ts";
import { heapModule, isWasmBackend, memoryOf, size, type WasmBackendLike } from "./_memory.ts";
import { DROPOUT_WASM } from "./dropout_wasm.ts";

/** Forward kernel: input x; outputs y (float32, x's shape) and keep bits (int32, ⌈n/32⌉). */
export const DROPOUT = "BnlabDropout";
/** Backward kernel: inputs dy and the forward's keep bits; output dx. */
export const DROPOUT_GRAD = "BnlabDropoutGrad";

/** Attributes of both kernels. */
export interface DropoutAttrs {
  /** The layer's 128-bit dropout stream at this step (`dropoutStream` in lib/rng.ts), 4 words. */
  stream: number[];
  /** Dropout rate in [0, 1). */
  rate: number;
}

/** Groups the wasm forward pass interleaves (its group count must be a multiple). */
const WASM_GROUP_BLOCK = 2;

/**
 * Reference forward from element `from` (a multiple of 32) on: y = keep ? x·scale : +0,
 * with the keep bits in `bits`. The definition the wasm kernel matches.
 */
export function dropoutForward(
  x: Float32Array,
  stream: ArrayLike<number>,
  rate: number,
  y: Float32Array,
  bits: Int32Array,
  from = 0,
): void {
  dropoutKeepBits(stream, rate, bits, from, x.length);
  const scale = dropoutScale(rate);
  for (let i = from; i < x.length; i++) {
    y[i] = (bits[i >>> 5]! >>> (i & 31)) & 1 ? x[i]! * scale : 0;
  }
}

/** Reference backward from element `from` on: dx = keep ? dy·scale : +0. */
export function dropoutBackward(
  dy: Float32Array,
  bits: Int32Array,
  rate: number,
  dx: Float32Array,
  from = 0,
): void {
  const scale = dropoutScale(rate);
  for (let i = from; i < dy.length; i++) {
    dx[i] = (bits[i >>> 5]! >>> (i & 31)) & 1 ? dy[i]! * scale : 0;
  }
}

/** The module's two functions (byte addresses into the wasm heap). */
interface DropoutModule {
  forward(
    x: number,
    y: number,
    bits: number,
    groups: number,
    k0: number,
    k1: number,
    c2: number,
    c3: number,
    bitsPerDecision: number,
    threshold: number,
    scale: number,
  ): void;
  backward(dy: number, dx: number, bits: number, words: number, scale: number): void;
}

/** The module instantiated on `backend`'s heap (once per heap). */
function moduleFor(backend: WasmBackendLike): DropoutModule {
  return heapModule<DropoutModule>(DROPOUT_WASM, backend);
}

/** Forward kernel config for `backendName` (`cpu` or `wasm`). */
export function dropoutConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x }, backend, attrs }: {
    inputs: { x: TensorInfo };
    backend: KernelBackend;
    attrs: DropoutAttrs;
  }): TensorInfo[] => {
    const { stream, rate } = attrs;
    const n = size(x.shape);
    const wasm = isWasmBackend(backend);
    const memory = memoryOf(backend);
    const y = memory.alloc([...x.shape]);
    const bits = memory.alloc([Math.ceil(n / 32)], "int32");
    let done = 0;
    if (wasm) {
      // Whole blocks of groups in SIMD; the rest (< 1,024 elements) in TypeScript below.
      const b = dropoutBits(rate);
      const block = WASM_GROUP_BLOCK * (512 / b);
      const groups = Math.floor(n / block) * WASM_GROUP_BLOCK;
      done = Math.floor(n / block) * block;
      moduleFor(backend).forward(
        memory.offset(x)!,
        memory.offset(y)!,
        memory.offset(bits)!,
        groups,
        stream[0]! | 0,
        stream[1]! | 0,
        stream[2]! | 0,
        stream[3]! | 0,
        b,
        dropoutThreshold(rate),
        dropoutScale(rate),
      );
    }
    if (done < n) {
      dropoutForward(memory.f32(x), stream, rate, memory.f32(y), memory.i32(bits), done);
    }
    return [y, bits];
  };
  return { kernelName: DROPOUT, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Backward kernel config for `backendName` (`cpu` or `wasm`). */
export function dropoutGradConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { dy, bits }, backend, attrs }: {
    inputs: { dy: TensorInfo; bits: TensorInfo };
    backend: KernelBackend;
    attrs: DropoutAttrs;
  }): TensorInfo => {
    const n = size(dy.shape);
    const wasm = isWasmBackend(backend);
    const memory = memoryOf(backend);
    const dx = memory.alloc([...dy.shape]);
    let done = 0;
    if (wasm) {
      done = Math.floor(n / 32);
      moduleFor(backend).backward(
        memory.offset(dy)!,
        memory.offset(dx)!,
        memory.offset(bits)!,
        done,
        dropoutScale(attrs.rate),
      );
    }
    if (done * 32 < n) {
      dropoutBackward(memory.f32(dy), memory.i32(bits), attrs.rate, memory.f32(dx), done * 32);
    }
    return dx;
  };
  return { kernelName: DROPOUT_GRAD, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
