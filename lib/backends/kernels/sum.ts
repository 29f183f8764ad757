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
 * `[rows, columns]` when `axes` are exactly the first axes of `shape` (in any
 * order) and at least one axis remains, so that summing them adds `rows` rows
 * of `columns` values; otherwise null.
 */
export function leadingBlock(
  shape: readonly number[],
  axes: readonly number[],
): [number, number] | null {
  const k = axes.length;
  if (k === 0 || k >= shape.length || axes.some((a) => a >= k)) return null;
  if (new Set(axes).size !== k) return null;
  return [size(shape.slice(0, k)), size(shape.slice(k))];
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
 * itself and hands every other case to `fallback` (the kernel it replaces).
 */
export function sumConfig(backendName: string, fallback: KernelFunc): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x: TensorInfo };
    backend: KernelBackend;
    attrs: SumAttrs;
  }): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    const axes = util.parseAxisParam(attrs.axis, x.shape);
    const block = x.dtype === "float32" ? leadingBlock(x.shape, axes) : null;
    if (!block || block[0] === 0) return fallback(args as never) as TensorInfo;
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const memory = memoryOf(backend);
    const out = memory.alloc(shape);
    sumRows(memory.f32(x), memory.f32(out), block[0], block[1]);
    return out;
  };
  return { kernelName: "Sum", backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
