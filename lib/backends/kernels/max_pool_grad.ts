/**
 * `MaxPoolGrad` in TypeScript over typed arrays. The shipped wasm kernel is a
 * scalar loop that searches every window once per input pixel; this one visits
 * each window once with channels innermost (NHWC-contiguous). The gradient goes
 * to the first maximum of a window in row-major order, exactly as the `cpu`
 * backend's reference kernel does, so ties (common after ReLU) agree.
 *
 * @module
 */
import {
  backend_util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { memoryOf } from "./_memory.ts";

/**
 * Gradient of max pooling: `dx` has the shape of `x`, zero except at each
 * window's first maximum, which receives that window's `dy`.
 */
export function maxPoolGrad(
  dy: Float32Array,
  x: Float32Array,
  dx: Float32Array,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  dx.fill(0);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let n = 0; n < batchSize; n++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideHeight - top);
      const y1 = Math.min(inHeight, oy * strideHeight - top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = Math.max(0, ox * strideWidth - left);
        const x1 = Math.min(inWidth, ox * strideWidth - left + filterWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        where.fill(-1);
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) {
            const base = ((n * inHeight + y) * inWidth + xx) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k]!;
              if (v > best[k]!) {
                best[k] = v;
                where[k] = base + k;
              }
            }
          }
        }
        const out = ((n * outHeight + oy) * outWidth + ox) * c;
        for (let k = 0; k < c; k++) {
          const at = where[k]!;
          if (at >= 0) dx[at] = dx[at]! + dy[out + k]!;
        }
      }
    }
  }
}

/** A `MaxPoolGrad` kernel config for `backendName` (`wasm` or `cpu`-like memory). */
export function maxPoolGradConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: {
    inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
    backend: KernelBackend;
    attrs: MaxPoolGradAttrs;
  }): TensorInfo => {
    const { dy, input } = inputs;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const memory = memoryOf(backend);
    const dx = memory.alloc(input.shape);
    maxPoolGrad(memory.f32(dy), memory.f32(input), memory.f32(dx), info);
    return dx;
  };
  return {
    kernelName: "MaxPoolGrad",
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
