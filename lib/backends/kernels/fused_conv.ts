/**
 * `BnlabConv2D`: a training-mode 2-D convolution and its bias in one kernel.
 * Its value is, bit for bit, what `tf.conv2d` then `tf.add` (the bias)
 * compute, and so is its gradient (registered in `gradients.ts`): tfjs-core's
 * `Conv2DBackpropInput`, `Conv2DBackpropFilter`, and the bias's `Sum` over
 * every axis but the channels. Unlike tfjs-core's `fused.conv2d`, whose
 * gradient computes every input's, each input gradient is a thunk the tape
 * calls only when needed, so a first layer's input gradient is never computed.
 *
 * On `cpu` and `wasm` the kernel runs the backend's own `Conv2D` and `Add`
 * kernels in turn (the same bits by construction); `native` replaces it with
 * one oneDNN convolution with a bias (`lib/backends/native/conv.ts`), which
 * adds the bias to each finished float32 sum as `Add` does, with no pre-bias
 * tensor allocated or kept for the gradient. A ReLU stays a separate `Relu`
 * kernel: oneDNN's maps every NaN to 0, TF.js's wasm kernel keeps a NaN with
 * a clear sign bit.
 *
 * @module
 */
import type {
  Conv2DAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from "@tensorflow/tfjs-core";
import { runBackendKernel } from "./_compose.ts";

/** Kernel name: inputs x (NHWC), filter (HWIO), bias ([C], optional); output y. */
export const CONV2D_BIAS = "BnlabConv2D";

/** Attributes: `Conv2D`'s, NHWC without dilation. */
export interface ConvBiasAttrs {
  strides: Conv2DAttrs["strides"];
  pad: "same" | "valid";
  dataFormat: "NHWC";
  dilations: [1, 1];
  dimRoundingMode?: undefined;
}

/** Inputs of the kernel. */
export interface ConvBiasInputs {
  x: TensorInfo;
  filter: TensorInfo;
  bias?: TensorInfo;
}

/**
 * The kernel for `backendName` (`cpu` or `wasm`): its registered `Conv2D`,
 * then `Add` for the bias, looked up at call time (so replacements are used),
 * the intermediate freed.
 */
export function convBiasConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x, filter, bias }, backend, attrs }: {
    inputs: ConvBiasInputs;
    backend: KernelBackend;
    attrs: ConvBiasAttrs;
  }): TensorInfo => {
    const y = runBackendKernel("Conv2D", { x, filter }, attrs, backend, backendName);
    if (!bias) return y;
    const sum = runBackendKernel("Add", { a: y, b: bias }, {}, backend, backendName);
    backend.disposeData(y.dataId, true);
    return sum;
  };
  return { kernelName: CONV2D_BIAS, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
