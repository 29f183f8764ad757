/**
 * Fused element-wise kernels: chains of TF.js ops (or a slow shipped kernel)
 * computed in one pass over memory with the same operations in the same order
 * and precision, so the results are bit-identical (and the study's stored
 * results do not change):
 *
 * - `FusedBatchNorm` (inference-mode batch norm) for `wasm`, replacing the
 *   shipped kernel's scalar loop (a modulo per element and a division) with a
 *   SIMD pass in its exact arithmetic: t = (x − mean)·scale in float32, then
 *   y = offset + t / √(var + ε) in float64, rounded once to float32.
 * - `BnlabAdam`, one Adam step of one variable: the twelve ops of tfjs-core's
 *   `AdamOptimizer.applyGradients` per variable in one kernel (`FusedAdam` in
 *   lib/train/adam.ts calls it), for `cpu` and `wasm`.
 * - `BnlabReluGrad`, ReLU's gradient dy·step(x) (tfjs-core's `Step`, `Cast`
 *   and `Multiply`) in one pass, for `cpu` and `wasm` (the gradient of `Relu`
 *   that `registerKernelGradients` installs calls it).
 * - `Tanh` for `wasm`, replacing the shipped kernel's scalar loop over musl's
 *   `tanhf` with the same float32 operations on four lanes at a time, and
 *   `BnlabTanhGrad`, Tanh's gradient (1 − y²)·dy (tfjs-core's `Square`, `Sub`
 *   and `Multiply`) in one pass, for `cpu` and `wasm`.
 *
 * On `wasm` (and so `native`) the bulk runs in the SIMD128 module
 * `elementwise.wat` on the backend's own heap, the remainder through the
 * TypeScript references below (`Math.fround` after every float32 operation: a
 * float64 result of one +, −, ×, ÷ or √ on float32 operands rounds to the
 * correctly rounded float32 one), which `cpu` uses throughout.
 *
 * @module
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import {
  heapModule,
  isWasmBackend,
  memoryOf,
  size,
  type WasmBackendLike,
  wasmMemory,
} from "./_memory.ts";
import { ELEMENTWISE_WASM } from "./elementwise_wasm.ts";

const f = Math.fround;

/** The module's functions (byte addresses into the wasm heap, counts in float32s). */
interface ElementwiseModule {
  batchNorm(
    x: number,
    y: number,
    rows: number,
    channels: number,
    mean: number,
    scale: number,
    factor: number,
    offset: number,
  ): void;
  reluGrad(dy: number, x: number, dx: number, n: number): void;
  tanh(x: number, y: number, n: number): void;
  tanhGrad(dy: number, y: number, dx: number, n: number): void;
  /**
   * Byte addresses of p, m, v, g, p', m', v', then the element count, then the
   * constants in {@linkcode ADAM_CONSTANTS} order.
   */
  adam(...args: number[]): void;
}

function moduleFor(backend: WasmBackendLike): ElementwiseModule {
  return heapModule<ElementwiseModule>(ELEMENTWISE_WASM, backend);
}

// ---------------------------------------------------------------------------
// Inference-mode batch norm.

/** Inputs of TF.js's `FusedBatchNorm` kernel. */
type FusedBatchNormInputs = Record<"x" | "mean" | "variance", TensorInfo> & {
  offset?: TensorInfo;
  scale?: TensorInfo;
};

/**
 * The per-channel normaliser √(variance + ε), rounded to float32 as the
 * shipped wasm kernel rounds it (ε passed as a float32), into a float64 array.
 */
export function batchNormFactor(variance: Float32Array, epsilon: number, out: Float64Array): void {
  const eps = f(epsilon);
  for (let k = 0; k < variance.length; k++) out[k] = f(Math.sqrt(f(variance[k]! + eps)));
}

/**
 * Reference inference batch norm over `x` viewed as rows of `c` channels, in
 * the shipped wasm kernel's precision: t = (x − mean)·scale in float32, then
 * y = offset + t / factor in float64, rounded once to float32.
 */
export function batchNormInference(
  x: Float32Array,
  mean: Float32Array,
  scale: Float32Array,
  factor: Float64Array,
  offset: Float32Array,
  y: Float32Array,
): void {
  const c = mean.length;
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      y[i + k] = f(offset[k]! + f(f(x[i + k]! - mean[k]!) * scale[k]!) / factor[k]!);
    }
  }
}

/**
 * The `FusedBatchNorm` kernel for `wasm`, bit-identical to `shipped` (the
 * kernel it replaces, which keeps the cases this one leaves: a missing scale
 * or offset, statistics not one per channel of the last axis, other dtypes).
 */
export function fusedBatchNormConfig(shipped: KernelFunc): KernelConfig {
  const kernelFunc = (args: {
    inputs: FusedBatchNormInputs;
    backend: KernelBackend;
    attrs: { varianceEpsilon: number };
  }): TensorInfo => {
    const { inputs: { x, mean, variance, offset, scale }, backend, attrs } = args;
    const c = x.shape[x.shape.length - 1] ?? 0;
    const stats = [mean, variance, offset, scale];
    if (
      !isWasmBackend(backend) || c === 0 || x.dtype !== "float32" ||
      stats.some((t) => !t || t.dtype !== "float32" || size(t.shape) !== c)
    ) {
      return shipped(args as never) as TensorInfo;
    }
    const memory = wasmMemory(backend);
    const y = memory.alloc([...x.shape]);
    const factor = new Float64Array(c);
    batchNormFactor(memory.f32(variance), attrs.varianceEpsilon, factor);
    // The SIMD pass reads the float64 factor and offset from the heap (8-byte aligned,
    // as the backend's allocator gives); other cases run the reference.
    const scratch = c % 4 === 0 ? memory.alloc([4 * c]) : undefined;
    try {
      const base = scratch && memory.offset(scratch)!;
      if (base !== undefined && base % 8 === 0) {
        const heap = memory.f32(scratch!).buffer;
        new Float64Array(heap, base, c).set(factor);
        new Float64Array(heap, base + 8 * c, c).set(memory.f32(offset!));
        const at = (t: TensorInfo) => memory.offset(t)!;
        moduleFor(backend).batchNorm(
          at(x),
          at(y),
          size(x.shape) / c,
          c,
          at(mean),
          at(scale!),
          base,
          base + 8 * c,
        );
      } else {
        const v = memory.f32;
        batchNormInference(v(x), v(mean), v(scale!), factor, v(offset!), v(y));
      }
    } finally {
      if (scratch) memory.free(scratch);
    }
    return y;
  };
  return {
    kernelName: "FusedBatchNorm",
    backendName: "wasm",
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

// ---------------------------------------------------------------------------
// Adam.

/** Kernel name of one Adam step: inputs value, m, v, gradient, accBeta1, accBeta2; outputs value, m, v. */
export const ADAM = "BnlabAdam";

/** Attributes of `BnlabAdam`: the optimizer's hyper-parameters as tfjs-core's Adam holds them. */
export interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

/** The order in which the wasm `adam` function takes a step's constants. */
const ADAM_CONSTANTS = ["b1", "omb1", "b2", "omb2", "c1", "c2", "eps", "nlr"] as const;

/** The float32 constants of a step, as tfjs-core's Adam makes them into scalar tensors. */
export function adamConstants(attrs: AdamAttrs, accBeta1: number, accBeta2: number) {
  return {
    b1: f(attrs.beta1),
    omb1: f(1 - attrs.beta1),
    b2: f(attrs.beta2),
    omb2: f(1 - attrs.beta2),
    c1: f(1 - f(accBeta1)),
    c2: f(1 - f(accBeta2)),
    eps: f(attrs.epsilon),
    nlr: f(-attrs.learningRate),
  };
}

/**
 * Reference Adam step over elements `from` to the end:
 * m' = m·β₁ + g·(1 − β₁), v' = v·β₂ + g²·(1 − β₂),
 * p' = (m'/c₁) / (√(v'/c₂) + ε) · (−lr) + p, rounded to float32 after each operation.
 * `arrays` holds p, m, v and g, then the outputs p', m' and v'.
 */
export function adamStep(
  k: ReturnType<typeof adamConstants>,
  [p, m, v, g, np, nm, nv]: readonly Float32Array[],
  from = 0,
): void {
  for (let i = from; i < p!.length; i++) {
    const gi = g![i]!;
    const mi = f(f(m![i]! * k.b1) + f(gi * k.omb1));
    const vi = f(f(v![i]! * k.b2) + f(f(gi * gi) * k.omb2));
    nm![i] = mi;
    nv![i] = vi;
    np![i] = f(f(f(f(mi / k.c1) / f(f(Math.sqrt(f(vi / k.c2))) + k.eps)) * k.nlr) + p![i]!);
  }
}

/** The `BnlabAdam` kernel for `backendName` (`cpu` or `wasm`). */
export function adamConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: {
    inputs: Record<"value" | "m" | "v" | "gradient" | "accBeta1" | "accBeta2", TensorInfo>;
    backend: KernelBackend;
    attrs: AdamAttrs;
  }): TensorInfo[] => {
    const memory = memoryOf(backend);
    const shape = [...inputs.value.shape];
    const outs = [memory.alloc(shape), memory.alloc(shape), memory.alloc(shape)] as const;
    const k = adamConstants(
      attrs,
      memory.f32(inputs.accBeta1)[0]!,
      memory.f32(inputs.accBeta2)[0]!,
    );
    const n = size(shape);
    const bulk = isWasmBackend(backend) ? n - (n % 4) : 0;
    // p, m, v, g in; p', m', v' out: the order both implementations take them in.
    const arrays = [inputs.value, inputs.m, inputs.v, inputs.gradient, ...outs];
    if (bulk > 0) {
      moduleFor(backend as WasmBackendLike).adam(
        ...arrays.map((t) => memory.offset(t)!),
        bulk,
        ...ADAM_CONSTANTS.map((name) => k[name]),
      );
    }
    if (bulk < n) adamStep(k, arrays.map((t) => memory.f32(t)), bulk);
    return [...outs];
  };
  return { kernelName: ADAM, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

// ---------------------------------------------------------------------------
// ReLU gradient.

/** Kernel name of ReLU's gradient: inputs dy and x (the ReLU's input); output dx. */
export const RELU_GRAD = "BnlabReluGrad";

/**
 * Reference ReLU gradient from element `from` on: dx = dy·s with s = 1 where
 * x > 0, x where x is NaN, else 0 (tfjs-core's `Step`), rounded to float32.
 */
export function reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, from = 0): void {
  for (let i = from; i < dy.length; i++) {
    const xi = x[i]!;
    dx[i] = f(dy[i]! * (xi > 0 ? 1 : xi !== xi ? xi : 0));
  }
}

/**
 * A gradient kernel `kernelName` for `backendName` (`cpu` or `wasm`): inputs
 * dy and `other` (float32, of one shape), output dx, computed by the wasm
 * module's function `simd` over the bulk (a multiple of 4 elements) on wasm
 * and by `reference` over the rest (all of it on cpu).
 */
function gradientConfig(
  kernelName: string,
  backendName: string,
  other: "x" | "y",
  simd: "reluGrad" | "tanhGrad",
  reference: (dy: Float32Array, o: Float32Array, dx: Float32Array, from: number) => void,
): KernelConfig {
  const kernelFunc = ({ inputs, backend }: {
    inputs: Record<string, TensorInfo>;
    backend: KernelBackend;
  }): TensorInfo => {
    const dy = inputs.dy!;
    const o = inputs[other]!;
    const memory = memoryOf(backend);
    const dx = memory.alloc([...dy.shape]);
    const n = size(dy.shape);
    const bulk = isWasmBackend(backend) ? n - (n % 4) : 0;
    if (bulk > 0) {
      const at = (t: TensorInfo) => memory.offset(t)!;
      moduleFor(backend as WasmBackendLike)[simd](at(dy), at(o), at(dx), bulk);
    }
    if (bulk < n) reference(memory.f32(dy), memory.f32(o), memory.f32(dx), bulk);
    return dx;
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The `BnlabReluGrad` kernel for `backendName` (`cpu` or `wasm`), float32 inputs of one shape. */
export function reluGradConfig(backendName: string): KernelConfig {
  return gradientConfig(RELU_GRAD, backendName, "x", "reluGrad", reluGrad);
}

// ---------------------------------------------------------------------------
// Tanh and its gradient.

/** Kernel name of Tanh's gradient: inputs dy and y (the Tanh's output); output dx. */
export const TANH_GRAD = "BnlabTanhGrad";

const bits = new Uint32Array(1);
const word = new Float32Array(bits.buffer);
const bitsOf = (v: number) => (word[0] = v, bits[0]!);
const fromBits = (b: number) => (bits[0] = b, word[0]!);

/** musl's expm1f constants (exact float32 values). */
const LN2_HI = fromBits(0x3f317180);
const LN2_LO = fromBits(0x3717f7d1);
const INVLN2 = fromBits(0x3fb8aa3b);
const Q1 = -0x888868 * 2 ** -28;
const Q2 = 0xcf3010 * 2 ** -33;

/**
 * musl's `expm1f` in float32, for the arguments `tanhf` passes it (finite,
 * |a| ≤ 20, so the reduction's k stays in −1..29 and its overflow paths are
 * never taken).
 */
function expm1f(a: number): number {
  const hx = bitsOf(a) & 0x7fffffff;
  let x = a;
  let k = 0;
  let c = 0;
  if (hx > 0x3eb17218) {
    k = hx < 0x3f851592 ? (a < 0 ? -1 : 1) : Math.trunc(f(f(INVLN2 * a) + (a < 0 ? -0.5 : 0.5)));
    const hi = f(a - f(k * LN2_HI));
    const lo = f(k * LN2_LO);
    x = f(hi - lo);
    c = f(f(hi - x) - lo);
  } else if (hx < 0x33000000) {
    return a;
  }
  const hfx = f(0.5 * x);
  const hxs = f(x * hfx);
  const r1 = f(1 + f(hxs * f(Q1 + f(hxs * Q2))));
  const t = f(3 - f(r1 * hfx));
  let e = f(hxs * f(f(r1 - t) / f(6 - f(x * t))));
  if (k === 0) return f(x - f(f(x * e) - hxs));
  e = f(f(f(x * f(e - c)) - c) - hxs);
  if (k === -1) return f(f(0.5 * f(x - e)) - 0.5);
  if (k === 1) return x < -0.25 ? f(-2 * f(e - f(x + 0.5))) : f(1 + f(2 * f(x - e)));
  const twopk = fromBits((0x7f + k) << 23);
  const u = fromBits((0x7f - k) << 23);
  return k < 23 ? f(f(f(x - e) + f(1 - u)) * twopk) : f(f(f(x - f(e + u)) + 1) * twopk);
}

/**
 * Reference Tanh of one float32 value as tfjs-backend-wasm's kernel computes
 * it (musl's `tanhf`, float32 throughout).
 *
 * @example
 * ```ts
 * import { tanhf } from "./elementwise.ts";
 * console.assert(tanhf(-0) === -0 && tanhf(20) === 1 && Math.abs(tanhf(0.5) - Math.tanh(0.5)) < 1e-7);
 * ```
 */
export function tanhf(v: number): number {
  const b = bitsOf(v);
  const w = b & 0x7fffffff;
  const ax = fromBits(w);
  let t: number;
  if (w > 0x41200000) t = f(1 + 0 / ax);
  else if (w > 0x3f0c9f54) t = f(1 - f(2 / f(expm1f(f(2 * ax)) + 2)));
  else if (w > 0x3e82c578) {
    const e = expm1f(f(2 * ax));
    t = f(e / f(e + 2));
  } else if (w >= 0x00800000) {
    const e = expm1f(f(-2 * ax));
    t = f(-e / f(e + 2));
  } else t = ax;
  return b >>> 31 ? -t : t;
}

/**
 * The `Tanh` kernel for `wasm`, bit-identical to `shipped` (the kernel it
 * replaces, which keeps other dtypes and other backends).
 */
export function tanhConfig(shipped: KernelFunc): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: KernelBackend }): TensorInfo => {
    const { inputs: { x }, backend } = args;
    if (!isWasmBackend(backend) || x.dtype !== "float32") {
      return shipped(args as never) as TensorInfo;
    }
    const memory = wasmMemory(backend);
    const y = memory.alloc([...x.shape]);
    const n = size(x.shape);
    const bulk = n - (n % 4);
    if (bulk > 0) moduleFor(backend).tanh(memory.offset(x)!, memory.offset(y)!, bulk);
    const xs = memory.f32(x);
    const ys = memory.f32(y);
    for (let i = bulk; i < n; i++) ys[i] = tanhf(xs[i]!);
    return y;
  };
  return {
    kernelName: "Tanh",
    backendName: "wasm",
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** Reference Tanh gradient from element `from` on: dx = (1 − y·y)·dy, rounded to float32 after each operation. */
export function tanhGrad(dy: Float32Array, y: Float32Array, dx: Float32Array, from = 0): void {
  for (let i = from; i < dy.length; i++) dx[i] = f(f(1 - f(y[i]! * y[i]!)) * dy[i]!);
}

/** The `BnlabTanhGrad` kernel for `backendName` (`cpu` or `wasm`), float32 inputs of one shape. */
export function tanhGradConfig(backendName: string): KernelConfig {
  return gradientConfig(TANH_GRAD, backendName, "y", "tanhGrad", tanhGrad);
}
