/**
 * Convolution gradients for the `wasm` backend, computed by its fast XNNPACK
 * kernels. The shipped backend has no `Conv2DBackpropFilter` at all and a
 * scalar `Conv2DBackpropInput`.
 *
 * Filter gradient, for stride s and padding p:
 *   dW[i,j,c,o] = Σ_{n,y,x} X[n, y·s + i − p, x·s + j − p, c] · dY[n, y, x, o]
 * which is one matrix product, dW = colsᵀ · dY, where the im2col matrix cols
 * has one row of kh·kw·C patch values per output pixel (n, y, x). colsᵀ is
 * built directly (the wasm `Transpose` kernel is slow), so XNNPACK multiplies
 * untransposed operands and the product is already laid out as the filter.
 * A forward convolution of X transposed to [C, H, W, N] with dY transposed
 * as its "filter" gives the same sums; on the placement CNN's four layers
 * (batch 128) it took 157 ms against 133 ms here, 38 ms against 17 ms on the
 * first (one input channel, 28×28 taps).
 *
 * Input gradient, for stride 1: a forward convolution of dY with the filter
 * flipped in space and with its channel axes swapped, padded by (k − 1 − p).
 * Strided input gradients (never on a hot path here) keep the original kernel.
 *
 * @module
 */
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { memoryOf, size } from "./_memory.ts";

type Run = (kernel: string, inputs: Record<string, TensorInfo>, attrs: object) => TensorInfo;

/** Call another registered kernel of `backendName` directly (no tape, no engine bookkeeping). */
function runner(backendName: string, backend: KernelBackend): Run {
  return (kernel, inputs, attrs) => {
    const config = getKernel(kernel, backendName);
    if (!config) throw new Error(`Kernel ${kernel} is not registered for ${backendName}`);
    return config.kernelFunc({ inputs, backend, attrs } as never) as TensorInfo;
  };
}

/** Dispose intermediate results. */
function free(backend: KernelBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId, true);
}

/**
 * Transpose the row-major `rows`×`columns` matrix `a` into `out`
 * (`columns`×`rows`); e.g. NHWC pixels × channels into channels × pixels.
 */
export function transpose2d(
  a: Float32Array,
  out: Float32Array,
  rows: number,
  columns: number,
): void {
  for (let r = 0; r < rows; r++) {
    const from = r * columns;
    for (let c = 0; c < columns; c++) out[c * rows + r] = a[from + c]!;
  }
}

/**
 * Write into `cols` the transposed im2col matrix of a convolution described by
 * `info`: one row per filter tap and input channel `(i, j, c)`, in the filter's
 * HWI order, holding that tap's input value for every output pixel
 * `(n, oy, ox)`, or zero where the tap lies over the padding. `xT` is the input
 * with channels first, `[C, N, H, W]` (see `transpose2d`); `cols` holds
 * `kh·kw·C` rows of `N·OH·OW` values. Strides and dilations are honoured.
 */
export function im2colT(xT: Float32Array, cols: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  let o = 0;
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      // Output columns whose tap (i, j) falls inside the input: x = ox·sw + shift.
      const shift = j * dilationWidth - left;
      const first = Math.min(outWidth, Math.max(0, Math.ceil(-shift / sw)));
      const end = Math.max(first, Math.min(outWidth, Math.ceil((inWidth - shift) / sw)));
      for (let c = 0; c < inChannels; c++) {
        for (let n = 0; n < batchSize; n++) {
          for (let oy = 0; oy < outHeight; oy++) {
            const y = oy * sh - top + i * dilationHeight;
            if (y < 0 || y >= inHeight) {
              cols.fill(0, o, o + outWidth);
              o += outWidth;
              continue;
            }
            const row = ((c * batchSize + n) * inHeight + y) * inWidth + shift;
            for (let ox = 0; ox < first; ox++) cols[o++] = 0;
            for (let ox = first; ox < end; ox++) cols[o++] = xT[row + ox * sw]!;
            for (let ox = end; ox < outWidth; ox++) cols[o++] = 0;
          }
        }
      }
    }
  }
}

/**
 * `Conv2DBackpropFilter` for `backendName`: the transposed im2col matrix of
 * `x` (TypeScript), then one `BatchMatMul` of the backend (XNNPACK on wasm),
 * dW = colsᵀ · dY, which is already in the filter's HWIO layout. XNNPACK packs
 * dY as the product's weights, and tfjs-backend-wasm caches that packing on
 * dY's memory (by tensor id, not shape) until dY is freed. Every use here
 * views dY as [N·OH·OW, O], and in the harness's models a convolution's dY is
 * never the untransposed right operand of another product, so the cache only
 * ever holds this product's packing.
 */
export function convBackpropFilterConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: {
    inputs: { x: TensorInfo; dy: TensorInfo };
    backend: KernelBackend;
    attrs: Conv2DBackpropFilterAttrs;
  }): TensorInfo => {
    const run = runner(backendName, backend);
    const memory = memoryOf(backend);
    const { x, dy } = inputs;
    const { strides, pad, dimRoundingMode, filterShape } = attrs;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const [kh, kw, ci, co] = filterShape;
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    const cols = memory.alloc([1, kh * kw * ci, pixels]);
    if (ci === 1) im2colT(memory.f32(x), memory.f32(cols), info);
    else {
      const xT = memory.alloc([ci, ...x.shape.slice(0, 3)]);
      transpose2d(memory.f32(x), memory.f32(xT), size(x.shape) / ci, ci);
      im2colT(memory.f32(xT), memory.f32(cols), info);
      memory.free(xT);
    }
    const dw = run("BatchMatMul", { a: cols, b: { ...dy, shape: [1, pixels, co] } }, {
      transposeA: false,
      transposeB: false,
    });
    memory.free(cols);
    return { ...dw, shape: filterShape };
  };
  return {
    kernelName: "Conv2DBackpropFilter",
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/**
 * `Conv2DBackpropInput` for `backendName`, built on its `Conv2D`; strided
 * cases are passed to `fallback` (the kernel this one replaces).
 */
export function convBackpropInputConfig(
  backendName: string,
  fallback: KernelFunc | undefined,
): KernelConfig {
  const kernelFunc = (args: {
    inputs: { dy: TensorInfo; filter: TensorInfo };
    backend: KernelBackend;
    attrs: Conv2DBackpropInputAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const run = runner(backendName, backend);
    const { dy, filter } = inputs;
    const { strides, pad, dimRoundingMode, inputShape } = attrs;
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    if (info.strideHeight !== 1 || info.strideWidth !== 1) {
      if (!fallback) {
        throw new Error(`Strided Conv2DBackpropInput is not available on ${backendName}`);
      }
      return fallback(args as never) as TensorInfo;
    }
    const flipped = run("Reverse", { x: filter }, { dims: [0, 1] });
    const swapped = run("Transpose", { x: flipped }, { perm: [0, 1, 3, 2] });
    free(backend, flipped);
    const kh = info.filterHeight;
    const kw = info.filterWidth;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = inputShape[1] - 1 + kh - dy.shape[1]! - top;
    const right = inputShape[2] - 1 + kw - dy.shape[2]! - left;
    const out = run("Conv2D", { x: dy, filter: swapped }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dilations: [1, 1],
      dataFormat: "NHWC",
    });
    free(backend, swapped);
    return out;
  };
  return {
    kernelName: "Conv2DBackpropInput",
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
