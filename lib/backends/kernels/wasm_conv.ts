/**
 * Convolution gradients for the `wasm` backend, computed by its fast forward
 * convolution (XNNPACK) on transposed tensors. The shipped backend has no
 * `Conv2DBackpropFilter` at all and a scalar `Conv2DBackpropInput`.
 *
 * Filter gradient, for stride s and padding p:
 *   dW[i,j,c,o] = Σ_{n,y,x} X[n, y·s + i − p, x·s + j − p, c] · dY[n, y, x, o]
 * which is a forward convolution of X' = X transposed to [C, H, W, N] with the
 * "filter" dY' = dY transposed to [OH, OW, N, O], filter dilation s, stride 1.
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

/** `Conv2DBackpropFilter` for `backendName`, built on its `Conv2D`, `Transpose` and `Slice`. */
export function convBackpropFilterConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: {
    inputs: { x: TensorInfo; dy: TensorInfo };
    backend: KernelBackend;
    attrs: Conv2DBackpropFilterAttrs;
  }): TensorInfo => {
    const run = runner(backendName, backend);
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
    const { top, bottom, left, right } = info.padInfo;
    const xT = run("Transpose", { x }, { perm: [3, 1, 2, 0] });
    const dyT = run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
    let out = run("Conv2D", { x: xT, filter: dyT }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dilations: [info.strideHeight, info.strideWidth],
      dataFormat: "NHWC",
    });
    free(backend, xT, dyT);
    const [kh, kw, ci, co] = filterShape;
    if (out.shape[1] !== kh || out.shape[2] !== kw) {
      const sliced = run("Slice", { x: out }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
      free(backend, out);
      out = sliced;
    }
    const result = run("Transpose", { x: out }, { perm: [1, 2, 0, 3] });
    free(backend, out);
    return result;
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
