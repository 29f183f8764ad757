/**
 * `Sum` over a leading block of axes, in TypeScript: the bias gradient of a
 * convolution or dense layer (a sum of [N, H, W, C] over N, H and W). The
 * shipped wasm kernel first transposes the reduced axes innermost, a slow
 * full copy of the tensor; here the rows are added in one contiguous pass,
 * in float64, and rounded once. Other reductions keep the shipped kernel.
 *
 * @module
 */
import {
  backend_util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type SumAttrs,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { memoryOf, size } from "./_memory.ts";

/**
 * A sum over a block of axes as rows and columns: `a` rows of `b` values,
 * summed down the rows (`leading`: the axes are the first ones) or along
 * each row (the axes are the last ones).
 */
export interface SumBlock {
  a: number;
  b: number;
  leading: boolean;
}

/**
 * The block for summing `shape` over `axes` (any order), or null when the
 * axes are not one leading or trailing run of axes. All axes count as leading.
 */
export function sumBlock(shape: readonly number[], axes: readonly number[]): SumBlock | null {
  const sorted = [...axes].sort((p, q) => p - q);
  if (sorted.length === 0 || sorted.some((v, i) => i > 0 && v !== sorted[i - 1]! + 1)) return null;
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  if (first === 0) {
    return { a: size(shape.slice(0, last + 1)), b: size(shape.slice(last + 1)), leading: true };
  }
  if (last === shape.length - 1) {
    return { a: size(shape.slice(0, first)), b: size(shape.slice(first)), leading: false };
  }
  return null;
}

/** `out[j] = Σ_i x[i·columns + j]`, accumulated in float64. */
export function sumRows(x: Float32Array, out: Float32Array, rows: number, columns: number): void {
  const acc = new Float64Array(columns);
  for (let i = 0; i < rows; i++) {
    const from = i * columns;
    for (let j = 0; j < columns; j++) acc[j]! += x[from + j]!;
  }
  out.set(acc);
}

/**
 * A `Sum` config for `backendName` that adds leading axes of float32 tensors
 * itself (all but at least one axis) and hands every other case to
 * `fallback` (the kernel it replaces).
 */
export function sumConfig(backendName: string, fallback: KernelFunc): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x: TensorInfo };
    backend: KernelBackend;
    attrs: SumAttrs;
  }): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    const axes = util.parseAxisParam(attrs.axis, x.shape);
    const block = x.dtype === "float32" ? sumBlock(x.shape, axes) : null;
    // Trailing axes are innermost already, so the shipped kernel sums them without a copy.
    if (!block?.leading || axes.length === x.shape.length || block.a === 0) {
      return fallback(args as never) as TensorInfo;
    }
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const memory = memoryOf(backend);
    const out = memory.alloc(shape);
    sumRows(memory.f32(x), memory.f32(out), block.a, block.b);
    return out;
  };
  return { kernelName: "Sum", backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
